// The one error of the embedder's worker threads (image tower, decode pool) that ends the service.

/** A worker died or refused work: not something the next round would fix, so the service stops. */
export class WorkerDiedError extends Error {
  override name = 'WorkerDiedError';
}
