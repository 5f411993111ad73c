// The one place that decides how ONNX models run: execution provider (CUDA or CPU), threads, graph optimisation.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Logger } from '@image-search/log';
import * as ort from 'onnxruntime-node';

export type Device = 'auto' | 'cpu' | 'cuda';
export type Provider = 'cpu' | 'cuda';

export interface SessionOptions {
  device?: Device;
  /** Intra-op threads; 0 or undefined lets ONNX Runtime choose (one per physical core). */
  threads?: number;
  logger?: Logger;
}

/** DEVICE=cuda was asked for and CUDA cannot be used; the message says why and what to do. */
export class DeviceUnavailableError extends Error {
  override readonly name = 'DeviceUnavailableError';
}

function ortOptions(provider: Provider, threads: number | undefined): ort.InferenceSession.SessionOptions {
  const options: ort.InferenceSession.SessionOptions = {
    executionProviders: [provider],
    graphOptimizationLevel: 'all',
    interOpNumThreads: 1,
    executionMode: 'sequential',
    // Warnings such as "removing unused initializer" are noise for users; real errors still throw.
    logSeverityLevel: 3,
    // Idle intra-op threads would spin for a while after each run; on a small machine that steals the CPU from the
    // thread that must turn the result into an answer (search queries arrive one at a time, not back to back).
    extra: { session: { intra_op: { allow_spinning: '0' } } },
  };
  if (threads && threads > 0) options.intraOpNumThreads = threads;
  return options;
}

/**
 * onnxruntime-node downloads its CUDA provider at install time (ONNXRUNTIME_NODE_INSTALL); without that library there is
 * no point asking for CUDA, and asking makes ONNX Runtime print a native error on stderr.
 */
function cudaProviderLibrary(): string | null {
  const dist = path.dirname(createRequire(import.meta.url).resolve('onnxruntime-node'));
  const lib = path.join(
    dist,
    '..',
    'bin',
    'napi-v6',
    process.platform,
    process.arch,
    'libonnxruntime_providers_cuda.so',
  );
  return existsSync(lib) ? lib : null;
}

/** ONNX Runtime could not load a model file (truncated, not ONNX, unsupported operator …). */
export class ModelLoadError extends Error {
  override readonly name = 'ModelLoadError';
  constructor(
    readonly file: string,
    readonly reason: string,
  ) {
    super(`${path.basename(file)} cannot be loaded: ${reason}`);
  }
}

async function createOn(provider: Provider, file: string, threads: number | undefined) {
  try {
    return await ort.InferenceSession.create(file, ortOptions(provider, threads));
  } catch (err) {
    throw new ModelLoadError(file, (err as Error).message.split('\n')[0]);
  }
}

async function createAll(provider: Provider, files: string[], threads: number | undefined) {
  const sessions: ort.InferenceSession[] = [];
  try {
    for (const f of files) sessions.push(await createOn(provider, f, threads));
    return sessions;
  } catch (err) {
    for (const s of sessions) await s.release();
    throw err;
  }
}

/**
 * Opens one session per model file on the same provider. `auto` tries CUDA and falls back to CPU with one log line;
 * `cuda` throws DeviceUnavailableError when CUDA cannot be used.
 */
export async function openSessions(
  files: string[],
  opts: SessionOptions = {},
): Promise<{ provider: Provider; sessions: ort.InferenceSession[] }> {
  const device = opts.device ?? 'auto';
  if (device === 'cuda' || device === 'auto') {
    try {
      if (!cudaProviderLibrary()) throw new Error('onnxruntime-node was installed without its CUDA provider library');
      return { provider: 'cuda', sessions: await createAll('cuda', files, opts.threads) };
    } catch (err) {
      const why = (err as Error).message.split('\n')[0];
      if (device === 'cuda') {
        throw new DeviceUnavailableError(
          `DEVICE=cuda but CUDA is not available (${why}); use DEVICE=auto or DEVICE=cpu, or install onnxruntime-node with its CUDA binaries on a machine with an NVIDIA GPU`,
        );
      }
      opts.logger?.info({ device, provider: 'cpu', reason: why }, 'CUDA not available, running the model on CPU');
    }
  }
  return { provider: 'cpu', sessions: await createAll('cpu', files, opts.threads) };
}

export { ort };
