// Two small primitives that bound the pipeline: a counting semaphore and a queue with an optional capacity.

export class Semaphore {
  private waiters: Array<() => void> = [];
  constructor(private free: number) {}

  async acquire(): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return;
    }
    await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  release(): void {
    const next = this.waiters.shift();
    if (next) next();
    else this.free++;
  }
}

/** FIFO queue: push waits while `capacity` items are queued; take waits for an item or for close. */
export class AsyncQueue<T> {
  private items: T[] = [];
  private closed = false;
  private takers: Array<() => void> = [];
  private pushers: Array<() => void> = [];

  constructor(private readonly capacity = Number.POSITIVE_INFINITY) {}

  get length(): number {
    return this.items.length;
  }

  async push(item: T): Promise<void> {
    while (this.items.length >= this.capacity && !this.closed) {
      await new Promise<void>((resolve) => this.pushers.push(resolve));
    }
    if (this.closed) throw new Error('push on a closed queue');
    this.items.push(item);
    this.takers.shift()?.();
  }

  close(): void {
    this.closed = true;
    for (const t of this.takers.splice(0)) t();
    for (const p of this.pushers.splice(0)) p();
  }

  /** Up to `max` items, waiting until there are `max` or the queue is closed; [] once closed and drained. */
  async takeUpTo(max: number): Promise<T[]> {
    while (this.items.length < max && !this.closed) {
      await new Promise<void>((resolve) => this.takers.push(resolve));
    }
    const out = this.items.splice(0, max);
    for (const p of this.pushers.splice(0)) p();
    return out;
  }
}
