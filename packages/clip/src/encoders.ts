// Image and text encoders over the two ONNX sessions of a model folder: batching, text trimming, L2 normalisation.
import path from 'node:path';
import type { Logger } from '@image-search/log';
import { ModelDirError, type ModelManifest, readManifest } from './manifest.ts';
import { checkReference } from './reference.ts';
import { type Device, ModelLoadError, openSessions, ort, type Provider } from './session.ts';
import { Tokenizer } from './tokenizer.ts';

export interface ClipModel {
  dir: string;
  manifest: ModelManifest;
  provider: Provider;
  tokenizer: Tokenizer;
  /** Each input is one preprocessed picture (3·S·S floats, CHW); outputs are L2-normalised, length embedDim. */
  image: { embed(batch: Float32Array[]): Promise<Float32Array[]> };
  /** Outputs are L2-normalised, length embedDim. */
  text: { embed(texts: string[]): Promise<Float32Array[]> };
  /**
   * Runs the folder's reference inputs (or one image and one text when it has none), so the first real request does
   * not pay for lazy initialisation; throws ModelReferenceError when the outputs do not match the reference.
   */
  warmUp(): Promise<void>;
  close(): Promise<void>;
}

export interface LoadModelOptions {
  device?: Device;
  threads?: number;
  logger?: Logger;
}

const IMAGE_INPUT = 'image';
const TEXT_INPUT = 'text';
const OUTPUT = 'embedding';

/** Splits a row-major [N, D] output into N unit vectors (a zero vector stays zero rather than becoming NaN). */
export function normalisedRows(data: Float32Array, n: number, dim: number): Float32Array[] {
  const rows: Float32Array[] = [];
  for (let r = 0; r < n; r++) {
    const row = data.slice(r * dim, (r + 1) * dim);
    let sum = 0;
    for (let i = 0; i < dim; i++) sum += row[i] * row[i];
    const norm = Math.sqrt(sum);
    if (norm > 0) for (let i = 0; i < dim; i++) row[i] /= norm;
    rows.push(row);
  }
  return rows;
}

/**
 * Token ids shaped for the text tower: with a dynamic-length model every row is cut to the batch's longest sequence
 * (its end token included) — the tower is causal, so the padding after it cannot change the result, only cost time.
 */
export function textTensorData(
  tokenizer: Tokenizer,
  texts: string[],
  contextLength: number,
  dynamicLength: boolean,
): { ids: BigInt64Array; length: number } {
  const { ids, lengths } = tokenizer.tokenizeBatch(texts, contextLength);
  if (!dynamicLength) return { ids, length: contextLength };
  const length = Math.max(...lengths);
  if (length === contextLength) return { ids, length };
  const trimmed = new BigInt64Array(texts.length * length);
  for (let r = 0; r < texts.length; r++) {
    trimmed.set(ids.subarray(r * contextLength, r * contextLength + length), r * length);
  }
  return { ids: trimmed, length };
}

function checkNames(dir: string, file: string, session: ort.InferenceSession, input: string): void {
  if (!session.inputNames.includes(input) || !session.outputNames.includes(OUTPUT)) {
    throw new ModelDirError(
      dir,
      `${file} has inputs [${session.inputNames.join(', ')}] and outputs [${session.outputNames.join(', ')}]; expected input '${input}' and output '${OUTPUT}'`,
    );
  }
}

function embeddingRows(result: ort.InferenceSession.ReturnType, n: number, manifest: ModelManifest): Float32Array[] {
  const out = result[OUTPUT];
  if (out.type !== 'float32' || out.dims.length !== 2 || out.dims[0] !== n || out.dims[1] !== manifest.embedDim) {
    throw new Error(
      `model output '${OUTPUT}' is ${out.type} [${out.dims.join(', ')}]; model.json promises float32 [${n}, ${manifest.embedDim}]`,
    );
  }
  return normalisedRows(out.data as Float32Array, n, manifest.embedDim);
}

/** Opens a model folder (real export or synthetic) on the requested device. */
export async function loadModel(dir: string, opts: LoadModelOptions = {}): Promise<ClipModel> {
  const abs = path.resolve(dir);
  return openModel(abs, await readManifest(abs), opts);
}

/** Opens the model files of `abs` as `manifest` describes them (the synthetic maker uses it before model.json exists). */
export async function openModel(abs: string, manifest: ModelManifest, opts: LoadModelOptions = {}): Promise<ClipModel> {
  const tokenizer = await Tokenizer.fromFile(path.join(abs, manifest.files.vocab)).catch((err: Error) => {
    throw new ModelDirError(abs, `cannot read the vocabulary ${manifest.files.vocab} (${err.message.split('\n')[0]})`);
  });
  const started = performance.now();
  const { provider, sessions } = await openSessions(
    [path.join(abs, manifest.files.visual), path.join(abs, manifest.files.textual)],
    opts,
  ).catch((err: Error) => {
    if (!(err instanceof ModelLoadError)) throw err;
    throw new ModelDirError(abs, `${err.message}; the file may be truncated or not an ONNX model`);
  });
  const [visual, textual] = sessions;
  checkNames(abs, manifest.files.visual, visual, IMAGE_INPUT);
  checkNames(abs, manifest.files.textual, textual, TEXT_INPUT);
  opts.logger?.info(
    {
      model: `${manifest.name}/${manifest.pretrained}`,
      dir: abs,
      provider,
      embedDim: manifest.embedDim,
      synthetic: manifest.synthetic,
      ms: Math.round(performance.now() - started),
    },
    'model loaded',
  );

  const S = manifest.imageSize;
  const pixels = 3 * S * S;

  async function embedImages(batch: Float32Array[]): Promise<Float32Array[]> {
    if (batch.length === 0) return [];
    const data = new Float32Array(batch.length * pixels);
    batch.forEach((t, i) => {
      if (t.length !== pixels) {
        throw new RangeError(`image ${i} has ${t.length} values; this model takes 3×${S}×${S} = ${pixels}`);
      }
      data.set(t, i * pixels);
    });
    const input = new ort.Tensor('float32', data, [batch.length, 3, S, S]);
    return embeddingRows(await visual.run({ [IMAGE_INPUT]: input }), batch.length, manifest);
  }

  async function embedTexts(texts: string[]): Promise<Float32Array[]> {
    if (texts.length === 0) return [];
    const { ids, length } = textTensorData(tokenizer, texts, manifest.contextLength, manifest.dynamicTextLength);
    const input = new ort.Tensor('int64', ids, [texts.length, length]);
    return embeddingRows(await textual.run({ [TEXT_INPUT]: input }), texts.length, manifest);
  }

  const model: ClipModel = {
    dir: abs,
    manifest,
    provider,
    tokenizer,
    image: { embed: embedImages },
    text: { embed: embedTexts },
    async warmUp() {
      const started = performance.now();
      const report = await checkReference(model);
      if (!report) {
        await embedImages([new Float32Array(pixels)]);
        await embedTexts(['a photo of a cat']);
        opts.logger?.warn({ dir: abs }, 'the model folder has no reference embeddings: its output cannot be checked');
      }
      const ms = Math.round(performance.now() - started);
      if (report)
        opts.logger?.info(
          { ms, minCosine: report.worst.cosine, checks: report.checks.length },
          'model warmed up and matches its reference',
        );
      else opts.logger?.info({ ms }, 'model warmed up');
    },
    async close() {
      await visual.release();
      await textual.release();
    },
  };
  return model;
}
