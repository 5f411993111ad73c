// "Alive and making progress", for container health checks: a small JSON file the process rewrites while it works.
// Between rounds a timer keeps it fresh (waiting is what an idle service should do); during a round only real progress
// does, so a round that hangs lets it go stale and the check fails, however long a healthy round takes.
import { readFileSync } from 'node:fs';
import { rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';

/** What the file holds; heartbeatProblem reads it for the containers' health check (src/health-check.ts). */
export interface HeartbeatRecord {
  pid: number;
  host: string;
  state: 'idle' | 'working';
  /** When the process last showed progress (or, idle, that it was alive), in ms since the epoch. */
  at: number;
  /** Older than this and the process counts as stuck. */
  staleAfterMs: number;
}

export interface HeartbeatOptions {
  staleAfterMs: number;
  /** Rewrites at most this often (default 1 s): progress can come thousands of times a second. */
  minIntervalMs?: number;
}

export class Heartbeat {
  private state: HeartbeatRecord['state'] = 'idle';
  private lastWrite = 0;
  private writing: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private readonly minIntervalMs: number;

  constructor(
    readonly file: string,
    private readonly opts: HeartbeatOptions,
  ) {
    this.minIntervalMs = opts.minIntervalMs ?? 1000;
  }

  /** Waiting between rounds: a timer keeps the file fresh. */
  idle(): void {
    this.state = 'idle';
    this.write();
    if (this.timer) return;
    this.timer = setInterval(() => this.write(), Math.max(this.minIntervalMs, this.opts.staleAfterMs / 4));
    this.timer.unref();
  }

  /** A round starts: from now on only progress() keeps the file fresh. */
  working(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.state = 'working';
    this.write();
  }

  /** Some work got done (a batch embedded, a download settled). */
  progress(): void {
    if (Date.now() - this.lastWrite >= this.minIntervalMs) this.write();
  }

  /** Stops and removes the file: a stopped service is not healthy. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.writing;
    await rm(this.file, { force: true });
  }

  /** Resolves when the latest write is on disk (tests read the file). */
  flushed(): Promise<void> {
    return this.writing;
  }

  private write(): void {
    this.lastWrite = Date.now();
    const record: HeartbeatRecord = {
      pid: process.pid,
      host: os.hostname(),
      state: this.state,
      at: this.lastWrite,
      staleAfterMs: this.opts.staleAfterMs,
    };
    // Written beside and renamed, so a health check never reads half a file; one write at a time, in order.
    const tmp = `${this.file}.tmp`;
    this.writing = this.writing
      .then(() => writeFile(tmp, JSON.stringify(record)))
      .then(() => rename(tmp, this.file))
      .catch(() => undefined); // a missed beat only brings staleness closer
  }
}

/**
 * Why the process writing `file` does not count as alive and making progress, or undefined when it does: its record is
 * younger than the record's own staleness limit.
 */
export function heartbeatProblem(file: string, now = Date.now()): string | undefined {
  let beat: HeartbeatRecord;
  try {
    beat = JSON.parse(readFileSync(file, 'utf8')) as HeartbeatRecord;
  } catch {
    return `no heartbeat in ${file} (not started yet, or it stopped)`;
  }
  const age = now - beat.at;
  if (age <= beat.staleAfterMs) return undefined;
  const doing = beat.state === 'working' ? 'no progress in its round' : 'not alive';
  return `${doing} for ${Math.round(age / 1000)} s (pid ${beat.pid}; limit ${beat.staleAfterMs / 1000} s)`;
}
