// `pnpm clip <command>`: the package's tools from a shell — tokenize, preprocess, embed text or images, make models.
// Results go to stdout (JSON), messages to stderr; a usage mistake exits 2 with the line to type, a failure exits 1.
import { writeFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { loadModel } from './encoders.ts';
import { ModelDirError, readManifest } from './manifest.ts';
import { ImageDecodeError, type PreprocessOptions, preprocessImage, preprocessOptionsFor } from './preprocess.ts';
import { compareWithReference, REFERENCE_MIN_COSINE, readReference } from './reference.ts';
import { type Device, DeviceUnavailableError } from './session.ts';
import { makeSyntheticModel, SYNTHETIC_ARCHS, type SyntheticArch, vocabSource } from './synthetic/make.ts';
import { CONTEXT_LENGTH, Tokenizer } from './tokenizer.ts';

const COMMANDS = {
  tokenize: 'pnpm clip tokenize [--json] [--vocab FILE]   (one text per stdin line; --json: each line a JSON string)',
  preprocess: 'pnpm clip preprocess IMAGE --out FILE [--model DIR]   (raw little-endian float32, 3×S×S, CHW)',
  'embed-text': 'pnpm clip embed-text TEXT --model DIR',
  'embed-image': 'pnpm clip embed-image IMAGE --model DIR',
  synth: 'pnpm clip synth --arch tiny|rn50|vit-b-32|vit-b-16 --out DIR [--seed N]',
  verify: 'pnpm clip verify --model DIR [--device auto|cpu|cuda]   (the export against its reference embeddings)',
} as const;
type Command = keyof typeof COMMANDS;

/** OpenAI RN50's preprocessing, used by `preprocess` when no model folder is given. */
const OPENAI_RN50: PreprocessOptions = {
  imageSize: 224,
  mean: [0.48145466, 0.4578275, 0.40821073],
  std: [0.26862954, 0.26130258, 0.27577711],
  interpolation: 'bicubic',
};

class UsageError extends Error {}

function usage(): string {
  return `usage:\n${Object.values(COMMANDS)
    .map((line) => `  ${line}`)
    .join('\n')}`;
}

function parse<T extends ParseArgsConfig['options']>(command: Command, argv: string[], options: T) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true } as const);
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\nusage: ${COMMANDS[command]}`);
  }
}

function need<T>(value: T | undefined, command: Command, what: string): T {
  if (value === undefined || value === '') throw new UsageError(`missing ${what}\nusage: ${COMMANDS[command]}`);
  return value;
}

function onePositional(positionals: string[], command: Command, what: string): string {
  if (positionals.length > 1) {
    throw new UsageError(
      `expected one ${what}, got ${positionals.length} (quote text with spaces)\nusage: ${COMMANDS[command]}`,
    );
  }
  return need(positionals[0], command, what);
}

async function tokenize(argv: string[]): Promise<void> {
  const { values } = parse('tokenize', argv, { json: { type: 'boolean' }, vocab: { type: 'string' } });
  const tokenizer = await Tokenizer.fromFile(values.vocab ?? vocabSource());
  let lineNo = 0;
  for await (const line of createInterface({ input: process.stdin, crlfDelay: Number.POSITIVE_INFINITY })) {
    lineNo += 1;
    let text = line;
    if (values.json) {
      try {
        text = JSON.parse(line);
      } catch {
        throw new UsageError(`line ${lineNo} is not JSON: ${line.slice(0, 60)}`);
      }
      if (typeof text !== 'string') throw new UsageError(`line ${lineNo} is not a JSON string`);
    }
    process.stdout.write(`${JSON.stringify(tokenizer.tokenize(text, CONTEXT_LENGTH))}\n`);
  }
}

async function preprocess(argv: string[]): Promise<void> {
  const { values, positionals } = parse('preprocess', argv, { out: { type: 'string' }, model: { type: 'string' } });
  const image = onePositional(positionals, 'preprocess', 'IMAGE');
  const out = need(values.out, 'preprocess', '--out FILE');
  const opts = values.model ? preprocessOptionsFor(await readManifest(values.model)) : OPENAI_RN50;
  const result = await preprocessImage(image, opts);
  const t = result.tensor;
  await writeFile(out, new Uint8Array(t.buffer, t.byteOffset, t.byteLength));
  const S = opts.imageSize;
  const { width, height, format } = result;
  process.stdout.write(`${JSON.stringify({ out, shape: [3, S, S], width, height, format })}\n`);
}

async function embed(command: 'embed-text' | 'embed-image', argv: string[]): Promise<void> {
  const { values, positionals } = parse(command, argv, { model: { type: 'string' } });
  const input = onePositional(positionals, command, command === 'embed-text' ? 'TEXT' : 'IMAGE');
  const model = await loadModel(need(values.model, command, '--model DIR'));
  try {
    const [vector] =
      command === 'embed-text'
        ? await model.text.embed([input])
        : await model.image.embed([(await preprocessImage(input, preprocessOptionsFor(model.manifest))).tensor]);
    process.stdout.write(`${JSON.stringify(Array.from(vector))}\n`);
  } finally {
    await model.close();
  }
}

async function synth(argv: string[]): Promise<void> {
  const { values } = parse('synth', argv, {
    arch: { type: 'string' },
    out: { type: 'string' },
    seed: { type: 'string' },
  });
  const arch = need(values.arch, 'synth', `--arch ${SYNTHETIC_ARCHS.join('|')}`);
  if (!SYNTHETIC_ARCHS.includes(arch as SyntheticArch)) {
    throw new UsageError(`unknown --arch ${arch}; use ${SYNTHETIC_ARCHS.join(', ')}\nusage: ${COMMANDS.synth}`);
  }
  const out = need(values.out, 'synth', '--out DIR');
  const seed = values.seed === undefined ? undefined : Number(values.seed);
  if (seed !== undefined && !(Number.isInteger(seed) && seed >= 0)) {
    throw new UsageError(`--seed must be a non-negative integer, got ${values.seed}\nusage: ${COMMANDS.synth}`);
  }
  const started = performance.now();
  const manifest = await makeSyntheticModel(arch as SyntheticArch, out, { seed });
  const seconds = Math.round((performance.now() - started) / 100) / 10;
  process.stdout.write(`${JSON.stringify({ out, arch, seed: manifest.seed, embedDim: manifest.embedDim, seconds })}\n`);
}

async function verify(argv: string[]): Promise<number> {
  const { values } = parse('verify', argv, { model: { type: 'string' }, device: { type: 'string' } });
  const device = values.device ?? 'auto';
  if (!['auto', 'cpu', 'cuda'].includes(device)) {
    throw new UsageError(`unknown --device ${device}; use auto, cpu or cuda\nusage: ${COMMANDS.verify}`);
  }
  const model = await loadModel(need(values.model, 'verify', '--model DIR'), { device: device as Device });
  try {
    const reference = await readReference(model);
    if (!reference) {
      process.stderr.write(
        `FAILED: ${model.dir} has no reference embeddings (model.json names no files.reference); export it again with scripts/export-model.py\n`,
      );
      return 1;
    }
    const report = await compareWithReference(model, reference);
    for (const c of report.checks) {
      const mark = c.cosine < REFERENCE_MIN_COSINE ? 'FAIL' : 'ok  ';
      process.stderr.write(
        `${mark} cosine ${c.cosine.toFixed(7)}  ${c.kind} ${JSON.stringify(c.input).slice(0, 70)}\n`,
      );
    }
    const ok = report.worst.cosine >= REFERENCE_MIN_COSINE;
    const { name, pretrained } = model.manifest;
    const summary = {
      model: `${name}/${pretrained}`,
      dir: model.dir,
      provider: model.provider,
      producer: report.producer,
    };
    process.stdout.write(
      `${JSON.stringify({ ...summary, checks: report.checks.length, minCosine: report.worst.cosine, ok })}\n`,
    );
    process.stderr.write(
      ok
        ? `verified: ${report.checks.length} reference inputs match ${report.producer} (lowest cosine ${report.worst.cosine.toFixed(7)})\n`
        : `FAILED: ${model.dir} does not reproduce ${report.producer}: ${report.worst.kind} ${JSON.stringify(report.worst.input)} has cosine ${report.worst.cosine.toFixed(6)} < ${REFERENCE_MIN_COSINE}; do not search with this export\n`,
    );
    return ok ? 0 : 1;
  } finally {
    await model.close();
  }
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'tokenize':
        await tokenize(rest);
        break;
      case 'preprocess':
        await preprocess(rest);
        break;
      case 'embed-text':
      case 'embed-image':
        await embed(command, rest);
        break;
      case 'synth':
        await synth(rest);
        break;
      case 'verify':
        return await verify(rest);
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        process.stderr.write(`${usage()}\n`);
        return command === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown command '${command}'\n${usage()}`);
    }
    return 0;
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`${err.message}\n`);
      return 2;
    }
    if (err instanceof ModelDirError || err instanceof ImageDecodeError || err instanceof DeviceUnavailableError) {
      process.stderr.write(`${err.message}\n`);
      return 1;
    }
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EISDIR' || code === 'EACCES') {
      process.stderr.write(`${(err as Error).message}\n`);
      return 1;
    }
    throw err;
  }
}

process.exitCode = await main(process.argv.slice(2));
