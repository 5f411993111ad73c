// Memory for bodies on their way to disk, shared with the file writer thread and used again and again. A fresh 128 KB
// buffer a picture cost ~60 µs of CPU on loopback (the kernel zeroing new pages, the garbage collector freeing them
// in both threads, the transfer); a slot of this arena costs nothing after its first use, and the writer is told only
// where the body lies. Bodies that find no free slot (or are too large) are allocated as before.

/** One body's room in the arena: `view` is exactly the body's bytes. */
export interface ArenaBody {
  slot: number;
  view: Buffer;
}

export class BodyArena {
  readonly memory: SharedArrayBuffer;
  private readonly free: number[] = [];
  private readonly taken: Uint8Array;

  /** Pages are touched only when a body lands in them: resident memory grows with the bodies, not with `slots`. */
  constructor(
    readonly slots: number,
    readonly slotBytes: number,
  ) {
    this.memory = new SharedArrayBuffer(slots * slotBytes);
    this.taken = new Uint8Array(slots);
    for (let slot = slots - 1; slot >= 0; slot--) this.free.push(slot);
  }

  /** Room for a body of `length` bytes, or undefined when it is too large or every slot is taken. */
  take(length: number): ArenaBody | undefined {
    if (length > this.slotBytes) return undefined;
    const slot = this.free.pop();
    if (slot === undefined) return undefined;
    this.taken[slot] = 1;
    return { slot, view: Buffer.from(this.memory, slot * this.slotBytes, length) };
  }

  /** Gives a slot back; giving one back twice is a bug that would let two bodies share memory, so it throws. */
  release(slot: number): void {
    if (this.taken[slot] !== 1) throw new Error(`body arena slot ${slot} released twice`);
    this.taken[slot] = 0;
    this.free.push(slot);
  }

  /** Slots in use now (for tests: none may be left once a round is over). */
  get inUse(): number {
    return this.slots - this.free.length;
  }
}
