// What a service process needs besides its configuration and logs: a lock on the folder it owns, and worker threads
// that run TypeScript modules.
export { acquireFolderLock, FolderLockHeldError, type FolderLockOptions } from './folder-lock.ts';
export { startTsWorker } from './ts-worker.ts';
