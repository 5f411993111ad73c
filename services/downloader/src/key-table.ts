// A hash table of 64-bit keys (picture keys: the first 16 hex digits of sha1(url)) kept in typed arrays: a million URLs cost about
// 20 bytes each here instead of ~100 in a Map of strings, which keeps a round over a huge list small.
import type { Key64 } from '@image-search/picture-store';

function grow(a: Uint32Array<ArrayBuffer>, size: number): Uint32Array<ArrayBuffer> {
  const b = new Uint32Array(size);
  b.set(a);
  return b;
}

/** Maps each key to a dense id (0, 1, 2… in insertion order) that callers use to index their own typed arrays. */
export class KeyTable {
  private hi = new Uint32Array(1024);
  private lo = new Uint32Array(1024);
  private slots = new Int32Array(2048).fill(-1);
  private mask = 2047;
  size = 0;

  /** The key's id, or -1. */
  find(key: Key64): number {
    // sha1 bits are already uniform, so the low word is a good enough hash.
    for (let s = key.lo & this.mask; ; s = (s + 1) & this.mask) {
      const id = this.slots[s];
      if (id === -1) return -1;
      if (this.lo[id] === key.lo >>> 0 && this.hi[id] === key.hi >>> 0) return id;
    }
  }

  /** The key's id, adding it when absent. */
  add(key: Key64): number {
    const found = this.find(key);
    return found !== -1 ? found : this.insert(key);
  }

  /** Adds the key and returns true, or returns false when it was already there: one lookup where find and add took two. */
  addIfAbsent(key: Key64): boolean {
    if (this.find(key) !== -1) return false;
    this.insert(key);
    return true;
  }

  private insert(key: Key64): number {
    const id = this.size++;
    if (id === this.hi.length) {
      this.hi = grow(this.hi, id * 2);
      this.lo = grow(this.lo, id * 2);
    }
    this.hi[id] = key.hi;
    this.lo[id] = key.lo;
    if (this.size * 2 > this.slots.length) this.rehash(this.slots.length * 2);
    else this.place(id);
    return id;
  }

  private place(id: number): void {
    let s = this.lo[id] & this.mask;
    while (this.slots[s] !== -1) s = (s + 1) & this.mask;
    this.slots[s] = id;
  }

  private rehash(slotCount: number): void {
    this.slots = new Int32Array(slotCount).fill(-1);
    this.mask = slotCount - 1;
    for (let id = 0; id < this.size; id++) this.place(id);
  }
}
