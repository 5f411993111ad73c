// Seeded deterministic random numbers for synthetic weights: the same seed gives the same model on every machine.

/** mulberry32: small, fast, good enough for weights; returns uniform numbers in [0, 1). */
export function uniformSource(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class Rng {
  private readonly next: () => number;
  constructor(seed: number) {
    this.next = uniformSource(seed);
  }

  /** Values uniform in [-a, a] with a = std·√3, i.e. zero mean and standard deviation `std` (cheaper than normals). */
  fill(n: number, std: number): Float32Array {
    const out = new Float32Array(n);
    const a = std * Math.sqrt(3) * 2;
    const next = this.next;
    for (let i = 0; i < n; i++) out[i] = (next() - 0.5) * a;
    return out;
  }
}
