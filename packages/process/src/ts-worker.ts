// Worker threads that run TypeScript modules (the embedder's image tower and decoders, the downloader's file writer).
import { Worker } from 'node:worker_threads';

/**
 * Starts `entry` (a .ts module URL) in a worker. Compiled to JavaScript (the container images), this module is .js and
 * the worker runs the entry's .js sibling with plain node. From the TypeScript sources a worker inherits neither the
 * module hooks registered in this thread nor a test runner's transform, so its first step registers tsx's loader.
 */
export function startTsWorker(entry: URL, workerData?: unknown): Worker {
  if (import.meta.url.endsWith('.js')) return new Worker(new URL(entry.href.replace(/\.ts$/, '.js')), { workerData });
  const api = import.meta.resolve('tsx/esm/api');
  const code = `import(${JSON.stringify(api)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}); });`;
  return new Worker(code, { eval: true, workerData });
}
