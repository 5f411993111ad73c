// Query arithmetic: several texts and pictures, each with a weight (negative ones pull away), as one query vector.

export interface WeightedVector {
  vector: ArrayLike<number>;
  weight: number;
}

/**
 * Σ weight × unit(vector), at unit length; null when the parts cancel out (nothing left to search for). Each part is
 * normalised first so a weight means the same for a text and a picture.
 */
export function combineVectors(parts: WeightedVector[]): Float32Array | null {
  if (parts.length === 0) return null;
  const dims = parts[0].vector.length;
  const sum = new Float64Array(dims);
  for (const { vector, weight } of parts) {
    let norm = 0;
    for (let i = 0; i < dims; i++) norm += vector[i] * vector[i];
    norm = Math.sqrt(norm);
    if (norm === 0) continue;
    for (let i = 0; i < dims; i++) sum[i] += (weight * vector[i]) / norm;
  }
  let norm = 0;
  for (let i = 0; i < dims; i++) norm += sum[i] * sum[i];
  norm = Math.sqrt(norm);
  if (!(norm > 1e-6)) return null;
  const out = new Float32Array(dims);
  for (let i = 0; i < dims; i++) out[i] = sum[i] / norm;
  return out;
}
