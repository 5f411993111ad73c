// What a service process needs besides its configuration and logs: a lock on the folder it owns, a heartbeat for its
// health check, and worker threads that run TypeScript modules and answer calls.
export { acquireFolderLock, FolderLockHeldError, type FolderLockOptions } from './folder-lock.ts';
export { Heartbeat, type HeartbeatOptions, type HeartbeatRecord, heartbeatProblem } from './heartbeat.ts';
export {
  isAlive,
  portInUse,
  runningPidFrom,
  type StartLockOptions,
  sleep,
  stopProcessGroup,
  withStartLock,
  writeAtomic,
} from './local-server.ts';
export {
  runServerCli,
  type ServerCliOptions,
  type ServerCliSpec,
} from './server-cli.ts';
export {
  type LocalServer,
  startLocalServer,
  stopLocalServer,
} from './server-lifecycle.ts';
export { onShutdown, type ShutdownOptions } from './shutdown.ts';
export {
  serveThread,
  startThreadWorker,
  type ThreadService,
  type ThreadWorker,
  type ThreadWorkerOptions,
  WorkerDiedError,
} from './thread-worker.ts';
