// pino set up the same way for every service: JSON lines on stdout, level from LOG_LEVEL in any case.
import { type Logger, pino } from 'pino';

export type { Logger };

const LEVELS: Record<string, pino.LevelWithSilent> = {
  trace: 'trace',
  debug: 'debug',
  info: 'info',
  warn: 'warn',
  warning: 'warn',
  error: 'error',
  fatal: 'fatal',
  silent: 'silent',
};

/** Maps LOG_LEVEL values (DEBUG/INFO/WARN/WARNING/ERROR in any case) to pino levels; unknown values throw. */
export function pinoLevel(level: string | undefined): pino.LevelWithSilent {
  const key = (level ?? 'info').trim().toLowerCase() || 'info';
  const hit = LEVELS[key];
  if (!hit)
    throw new Error(`LOG_LEVEL=${JSON.stringify(level)} is not valid: expected one of DEBUG, INFO, WARN, ERROR`);
  return hit;
}

export interface LoggerOptions {
  level?: string;
  /** Where lines go; defaults to stdout. Tests pass a stream to read what was logged. */
  destination?: pino.DestinationStream;
}

export function createLogger(service: string, opts: LoggerOptions = {}): Logger {
  return pino(
    {
      name: service,
      level: pinoLevel(opts.level ?? process.env.LOG_LEVEL),
      base: { service },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    opts.destination ?? pino.destination({ fd: 1, sync: false }),
  );
}

/** Reports done/total, rate and ETA for long work, at most once per `everyMs`. */
export class Progress {
  private readonly started = performance.now();
  private lastReport = this.started;
  private done = 0;

  constructor(
    private readonly log: Logger,
    private readonly what: string,
    private total: number,
    private readonly everyMs = 5000,
  ) {}

  setTotal(total: number): void {
    this.total = total;
  }

  add(n = 1, extra: Record<string, unknown> = {}): void {
    this.done += n;
    const now = performance.now();
    if (now - this.lastReport >= this.everyMs) {
      this.lastReport = now;
      this.log.info({ ...this.snapshot(), ...extra }, `${this.what}: ${this.done}/${this.total}`);
    }
  }

  snapshot(): { done: number; total: number; ratePerSec: number; etaSec: number | null; elapsedSec: number } {
    const elapsedSec = (performance.now() - this.started) / 1000;
    const ratePerSec = elapsedSec > 0 ? this.done / elapsedSec : 0;
    const left = Math.max(0, this.total - this.done);
    return {
      done: this.done,
      total: this.total,
      ratePerSec: Math.round(ratePerSec * 10) / 10,
      etaSec: ratePerSec > 0 ? Math.round(left / ratePerSec) : null,
      elapsedSec: Math.round(elapsedSec * 10) / 10,
    };
  }
}
