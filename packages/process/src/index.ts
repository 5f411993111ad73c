// What a service process needs besides its configuration and logs: a lock on the folder it owns, a heartbeat for its
// health check, and worker threads that run TypeScript modules.
export { acquireFolderLock, FolderLockHeldError, type FolderLockOptions } from './folder-lock.ts';
export { Heartbeat, type HeartbeatOptions, type HeartbeatRecord } from './heartbeat.ts';
export { startTsWorker } from './ts-worker.ts';
