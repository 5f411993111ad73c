import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, Progress, pinoLevel } from '../src/index.ts';

function capture(): { stream: Writable; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  return {
    stream,
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l)),
  };
}

describe('log', () => {
  it('accepts LOG_LEVEL names in any case, including the Python WARNING', () => {
    expect(pinoLevel('DEBUG')).toBe('debug');
    expect(pinoLevel('Info')).toBe('info');
    expect(pinoLevel('warning')).toBe('warn');
    expect(pinoLevel('ERROR')).toBe('error');
    expect(pinoLevel(undefined)).toBe('info');
    expect(() => pinoLevel('chatty')).toThrow(/LOG_LEVEL="chatty"/);
  });

  it('writes one JSON line per event with the service name and level label, honouring the level', () => {
    const out = capture();
    const log = createLogger('downloader', { level: 'WARN', destination: out.stream });
    log.info('hidden');
    log.warn({ url: 'http://x' }, 'shown');
    const lines = out.lines();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 'warn', service: 'downloader', url: 'http://x', msg: 'shown' });
    expect(typeof lines[0].time).toBe('string');
  });

  it('reports progress with done/total, rate and ETA at a bounded cadence', () => {
    const out = capture();
    const log = createLogger('embedder', { level: 'info', destination: out.stream });
    const progress = new Progress(log, 'embedding', 100, 0);
    progress.add(10);
    progress.add(10);
    const lines = out.lines();
    expect(lines.length).toBe(2);
    expect(lines[1]).toMatchObject({ done: 20, total: 100, msg: 'embedding: 20/100' });
    expect(lines[1].ratePerSec).toBeGreaterThan(0);
    const quiet = new Progress(log, 'quiet', 10, 60_000);
    quiet.add(1);
    quiet.add(1);
    expect(out.lines().length).toBe(2);
    expect(quiet.snapshot().done).toBe(2);
  });
});
