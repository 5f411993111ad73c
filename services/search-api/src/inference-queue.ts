// Bounded model runs: at most `concurrency` at once, at most `maxQueued` waiting; past that a caller is refused at
// once (the API answers 503 'overloaded') instead of piling up work that would time out anyway.

export class QueueFullError extends Error {
  constructor(readonly maxQueued: number) {
    super(`the server is busy: ${maxQueued} queries are already waiting for the model; try again shortly`);
    this.name = 'QueueFullError';
  }
}

export class QueueClosedError extends Error {
  constructor() {
    super('the server is shutting down');
    this.name = 'QueueClosedError';
  }
}

export class InferenceQueue {
  private running = 0;
  private readonly waiting: Array<() => void> = [];
  private readonly idle: Array<() => void> = [];
  private closed = false;

  constructor(
    readonly concurrency: number,
    readonly maxQueued: number,
  ) {}

  get active(): number {
    return this.running;
  }

  get queued(): number {
    return this.waiting.length;
  }

  /**
   * Runs `fn` when a slot is free; rejects with QueueFullError when too many are already waiting. Aborting `signal`
   * while still waiting gives up the place in the line (and rejects with the signal's reason).
   */
  async run<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (this.closed) throw new QueueClosedError();
    if (this.running >= this.concurrency) {
      if (this.waiting.length >= this.maxQueued) throw new QueueFullError(this.maxQueued);
      await new Promise<void>((resolve, reject) => {
        const withdraw = () => {
          this.waiting.splice(this.waiting.indexOf(granted), 1);
          reject(signal?.reason);
        };
        const granted = () => {
          signal?.removeEventListener('abort', withdraw);
          resolve();
        };
        this.waiting.push(granted);
        signal?.addEventListener('abort', withdraw, { once: true });
      });
    } else {
      this.running++;
    }
    try {
      return await fn();
    } finally {
      const next = this.waiting.shift();
      // The slot passes straight to the next waiter, so `running` only drops when nobody waits.
      if (next) next();
      else if (--this.running === 0) for (const done of this.idle.splice(0)) done();
    }
  }

  /** Refuses new work; resolves once everything running or queued has finished. */
  async drain(): Promise<void> {
    this.closed = true;
    if (this.running === 0) return;
    await new Promise<void>((resolve) => this.idle.push(resolve));
  }
}
