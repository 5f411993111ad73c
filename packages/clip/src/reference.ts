// Reference embeddings: what a model folder's maker says fixed texts and pictures embed to (PyTorch for a real export,
// the maker itself for a synthetic model). Checking them runs the path every service uses — tokenizer, preprocessing,
// ONNX Runtime on this machine's device — so a broken export or runtime stops a service instead of searching wrongly.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ClipModel } from './encoders.ts';
import { ModelDirError } from './manifest.ts';
import { preprocessImage, preprocessOptionsFor } from './preprocess.ts';

export const REFERENCE_FILE = 'reference.json';
/** Below this cosine an output is not the model its maker exported. */
export const REFERENCE_MIN_COSINE = 0.9999;

export interface Reference {
  /** Who computed the embeddings, e.g. "PyTorch 2.5.1, open_clip 2.29.0". */
  producer: string;
  texts: Array<{ text: string; embedding: number[] }>;
  /** `file` is relative to the model folder. */
  images: Array<{ file: string; embedding: number[] }>;
}

export interface ReferenceCheck {
  kind: 'text' | 'image';
  input: string;
  cosine: number;
}

export interface ReferenceReport {
  producer: string;
  checks: ReferenceCheck[];
  worst: ReferenceCheck;
}

/** The outputs differ from the reference; the message names the worst input, its cosine and what to do. */
export class ModelReferenceError extends ModelDirError {
  constructor(
    dir: string,
    readonly report: ReferenceReport,
  ) {
    const { worst, producer } = report;
    const failing = report.checks.filter((c) => c.cosine < REFERENCE_MIN_COSINE).length;
    super(
      dir,
      `its outputs do not match the reference embeddings from ${producer}: ${worst.kind} ${JSON.stringify(worst.input)} has cosine ${worst.cosine.toFixed(6)} < ${REFERENCE_MIN_COSINE} (${failing} of ${report.checks.length} inputs below); the export or this runtime is broken, export the model again`,
    );
  }
}

function isVector(v: unknown, dim: number): v is number[] {
  return Array.isArray(v) && v.length === dim && v.every((x) => typeof x === 'number' && Number.isFinite(x));
}

/** Reads the reference a model folder names; null when it names none. Throws ModelDirError when it is malformed. */
export async function readReference(model: Pick<ClipModel, 'dir' | 'manifest'>): Promise<Reference | null> {
  const file = model.manifest.files.reference;
  if (!file) return null;
  let raw: Partial<Reference>;
  try {
    raw = JSON.parse(await readFile(path.join(model.dir, file), 'utf8'));
  } catch (err) {
    throw new ModelDirError(model.dir, `cannot read ${file} (${(err as Error).message.split('\n')[0]})`);
  }
  const dim = model.manifest.embedDim;
  const ok =
    typeof raw.producer === 'string' &&
    Array.isArray(raw.texts) &&
    Array.isArray(raw.images) &&
    raw.texts.length + raw.images.length > 0 &&
    raw.texts.every((t) => typeof t?.text === 'string' && isVector(t.embedding, dim)) &&
    raw.images.every((i) => typeof i?.file === 'string' && isVector(i.embedding, dim));
  if (!ok) {
    throw new ModelDirError(
      model.dir,
      `${file} is not { producer, texts: [{ text, embedding }], images: [{ file, embedding }] } with ${dim}-dim embeddings`,
    );
  }
  return raw as Reference;
}

export async function writeReference(dir: string, reference: Reference): Promise<void> {
  await writeFile(path.join(dir, REFERENCE_FILE), `${JSON.stringify(reference)}\n`);
}

function cosine(a: Float32Array, b: number[]): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return dot / Math.sqrt(na * nb || 1);
}

/** Embeds reference inputs as the services do: each text alone (as a query is), the pictures (in `dir`) as one batch. */
export async function embedReferenceInputs(
  model: ClipModel,
  texts: string[],
  files: string[],
): Promise<{ texts: Float32Array[]; images: Float32Array[] }> {
  const textVectors: Float32Array[] = [];
  for (const text of texts) textVectors.push(...(await model.text.embed([text])));
  const options = preprocessOptionsFor(model.manifest);
  const tensors = await Promise.all(
    files.map(async (file) => (await preprocessImage(path.join(model.dir, file), options)).tensor),
  );
  return { texts: textVectors, images: await model.image.embed(tensors) };
}

export async function compareWithReference(model: ClipModel, reference: Reference): Promise<ReferenceReport> {
  const vectors = await embedReferenceInputs(
    model,
    reference.texts.map((t) => t.text),
    reference.images.map((i) => i.file),
  );
  const checks: ReferenceCheck[] = [
    ...reference.texts.map((t, n) => ({
      kind: 'text' as const,
      input: t.text,
      cosine: cosine(vectors.texts[n], t.embedding),
    })),
    ...reference.images.map((i, n) => ({
      kind: 'image' as const,
      input: i.file,
      cosine: cosine(vectors.images[n], i.embedding),
    })),
  ];
  const worst = checks.reduce((a, b) => (b.cosine < a.cosine ? b : a));
  return { producer: reference.producer, checks, worst };
}

/** Compares the model with its folder's reference; null when there is none; throws ModelReferenceError below the bar. */
export async function checkReference(model: ClipModel): Promise<ReferenceReport | null> {
  const reference = await readReference(model);
  if (!reference) return null;
  const report = await compareWithReference(model, reference);
  if (report.worst.cosine < REFERENCE_MIN_COSINE) throw new ModelReferenceError(model.dir, report);
  return report;
}
