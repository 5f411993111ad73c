// What a model directory is: model.json plus the files it names. Reading it checks everything a session needs, so a
// broken folder stops a service with one line instead of an ONNX Runtime stack trace later.
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';

export interface ModelManifest {
  name: string;
  pretrained: string;
  embedDim: number;
  imageSize: number;
  mean: [number, number, number];
  std: [number, number, number];
  interpolation: 'bicubic' | 'bilinear';
  resizeMode: 'shortest';
  /** 77 for every OpenCLIP model. */
  contextLength: number;
  /** textual.onnx accepts [N, L] with 1 <= L <= contextLength; false means it must be fed exactly contextLength. */
  dynamicTextLength: boolean;
  /** `reference` names the reference embeddings (reference.ts) that `pnpm clip verify` and warm-up check. */
  files: { visual: string; textual: string; vocab: string; reference?: string };
  synthetic: boolean;
  arch?: string;
  seed?: number;
  /** The exact versions that made a real export (scripts/export-model.py), shown by the search API's /meta. */
  exportedWith?: ExportVersions;
}

export interface ExportVersions {
  torch: string;
  openClip: string;
  onnx: string;
  python?: string;
}

export const MANIFEST_FILE = 'model.json';

const HOW_TO_MAKE =
  'make one with `pnpm clip synth --arch tiny --out DIR` (test model), or export a real one with the Docker `model` service (scripts/export-model.py)';

/** A model folder that is missing or inconsistent; the message is one line naming what is wrong and how to fix it. */
export class ModelDirError extends Error {
  override readonly name = 'ModelDirError';
  constructor(
    readonly dir: string,
    problem: string,
  ) {
    super(`model folder ${dir}: ${problem}; ${HOW_TO_MAKE}`);
  }
}

function isTriple(v: unknown): v is [number, number, number] {
  return Array.isArray(v) && v.length === 3 && v.every((x) => typeof x === 'number' && Number.isFinite(x));
}

function isPositiveInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v > 0;
}

/** Checks the parsed model.json; returns what is wrong with it, or the typed manifest. */
export function parseManifest(raw: unknown): { manifest: ModelManifest } | { problem: string } {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    return { problem: 'model.json is not a JSON object' };
  const m = raw as Record<string, unknown>;
  const bad: string[] = [];
  if (typeof m.name !== 'string' || !m.name) bad.push('name (a model name)');
  if (typeof m.pretrained !== 'string') bad.push('pretrained (a tag)');
  if (!isPositiveInt(m.embedDim)) bad.push('embedDim (a positive integer)');
  if (!isPositiveInt(m.imageSize)) bad.push('imageSize (a positive integer)');
  if (!isTriple(m.mean)) bad.push('mean (three numbers)');
  if (!isTriple(m.std) || !(m.std as number[]).every((x) => x > 0)) bad.push('std (three positive numbers)');
  if (m.interpolation !== 'bicubic' && m.interpolation !== 'bilinear')
    bad.push("interpolation ('bicubic' or 'bilinear')");
  if (m.resizeMode !== undefined && m.resizeMode !== 'shortest') bad.push("resizeMode ('shortest')");
  if (!isPositiveInt(m.contextLength)) bad.push('contextLength (a positive integer, 77)');
  if (m.dynamicTextLength !== undefined && typeof m.dynamicTextLength !== 'boolean')
    bad.push('dynamicTextLength (true or false)');
  const files = m.files as Record<string, unknown> | undefined;
  if (
    typeof files !== 'object' ||
    files === null ||
    !['visual', 'textual', 'vocab'].every((k) => typeof files[k] === 'string' && files[k])
  )
    bad.push('files ({ visual, textual, vocab } file names)');
  if (files && files.reference !== undefined && (typeof files.reference !== 'string' || !files.reference))
    bad.push('files.reference (a file name)');
  if (m.synthetic !== undefined && typeof m.synthetic !== 'boolean') bad.push('synthetic (true or false)');
  const versions = m.exportedWith as Record<string, unknown> | undefined;
  if (versions !== undefined && !['torch', 'openClip', 'onnx'].every((k) => typeof versions?.[k] === 'string'))
    bad.push('exportedWith ({ torch, openClip, onnx } version strings)');
  if (bad.length) return { problem: `model.json has missing or invalid fields: ${bad.join(', ')}` };
  const f = files as Record<string, string>;
  const manifest: ModelManifest = {
    name: m.name as string,
    pretrained: m.pretrained as string,
    embedDim: m.embedDim as number,
    imageSize: m.imageSize as number,
    mean: m.mean as [number, number, number],
    std: m.std as [number, number, number],
    interpolation: m.interpolation as 'bicubic' | 'bilinear',
    resizeMode: 'shortest',
    contextLength: m.contextLength as number,
    dynamicTextLength: (m.dynamicTextLength as boolean | undefined) ?? false,
    files: { visual: f.visual, textual: f.textual, vocab: f.vocab },
    synthetic: (m.synthetic as boolean | undefined) ?? false,
  };
  if (f.reference) manifest.files.reference = f.reference;
  if (typeof m.arch === 'string') manifest.arch = m.arch;
  if (typeof m.seed === 'number') manifest.seed = m.seed;
  if (versions) {
    const { torch, openClip, onnx, python } = versions as Record<string, string>;
    manifest.exportedWith = { torch, openClip, onnx, ...(typeof python === 'string' ? { python } : {}) };
  }
  return { manifest };
}

async function isFile(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isFile();
  } catch {
    return false;
  }
}

/** Reads and checks `<dir>/model.json` and that the files it names exist; throws ModelDirError otherwise. */
export async function readManifest(dir: string): Promise<ModelManifest> {
  const abs = path.resolve(dir);
  let text: string;
  try {
    text = await readFile(path.join(abs, MANIFEST_FILE), 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const what = (await stat(abs).catch(() => null)) ? `no ${MANIFEST_FILE} in it` : 'it does not exist';
    throw new ModelDirError(
      abs,
      code === 'ENOENT' || code === 'ENOTDIR' ? what : `cannot read ${MANIFEST_FILE} (${code})`,
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ModelDirError(abs, `${MANIFEST_FILE} is not valid JSON (${(err as Error).message})`);
  }
  const parsed = parseManifest(raw);
  if ('problem' in parsed) throw new ModelDirError(abs, parsed.problem);
  const { manifest } = parsed;
  const missing: string[] = [];
  for (const file of Object.values(manifest.files)) {
    if (!(await isFile(path.join(abs, file)))) missing.push(file);
  }
  if (missing.length)
    throw new ModelDirError(abs, `${MANIFEST_FILE} names files that are missing: ${missing.join(', ')}`);
  return manifest;
}
