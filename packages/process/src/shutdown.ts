// Graceful shutdown on SIGTERM (docker stop) and SIGINT (Ctrl-C): the first signal asks the service to stop; if it has
// not finished within the grace period, or a second signal comes, what is left is cut short.
import type { Logger } from '@image-search/log';

export interface ShutdownOptions {
  log: Logger;
  /** Stop taking work and finish what is in flight; the process should then end by itself. */
  stop(signal: NodeJS.Signals): void | Promise<void>;
  /** How long `stop` may take (Docker sends SIGKILL 10 s after SIGTERM). */
  graceMs: number;
  /** What to do when `stop` takes too long or a second signal comes; the default exits with status 1. */
  cut?(): void;
}

/** Installs the handlers: call once, at start. */
export function onShutdown(opts: ShutdownOptions): void {
  const cut = opts.cut ?? (() => process.exit(1));
  let stopping = false;
  const handle = (signal: NodeJS.Signals) => {
    if (stopping) {
      opts.log.warn({ signal }, 'second signal: stopping now');
      cut();
      return;
    }
    stopping = true;
    opts.log.info({ signal, graceMs: opts.graceMs }, 'shutting down');
    setTimeout(() => {
      opts.log.warn({ graceMs: opts.graceMs }, 'grace period over: cutting short what is left');
      cut();
    }, opts.graceMs).unref();
    Promise.resolve()
      .then(() => opts.stop(signal))
      .catch((err: unknown) => {
        opts.log.error({ err }, 'error while stopping');
        process.exitCode = 1;
      });
  };
  process.on('SIGTERM', handle);
  process.on('SIGINT', handle);
}
