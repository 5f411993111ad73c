// `pnpm clip …` as a user runs it: a separate process, JSON on stdout, usage on stderr.
import { execFile } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { preprocessImage } from '../src/preprocess.ts';
import { fixture } from './fixtures.ts';
import { cosine } from './models.ts';

const repoRoot = path.resolve(import.meta.dirname, '../../..');
const tsx = path.join(repoRoot, 'node_modules/.bin/tsx');
const cli = path.join(repoRoot, 'packages/clip/src/cli.ts');
const run = promisify(execFile);

async function clip(args: string[], input?: string): Promise<{ stdout: string; stderr: string; code: number }> {
  const child = run(tsx, [cli, ...args], { cwd: repoRoot, maxBuffer: 64 * 1024 * 1024 });
  if (input !== undefined) child.child.stdin!.end(input);
  try {
    const { stdout, stderr } = await child;
    return { stdout, stderr, code: 0 };
  } catch (err) {
    const e = err as { stdout: string; stderr: string; code: number };
    return { stdout: e.stdout, stderr: e.stderr, code: e.code };
  }
}

describe('pnpm clip', () => {
  let tmp: string;
  let model: string;
  const pictures: Record<string, string> = {};

  beforeAll(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'clip-cli-'));
    model = path.join(tmp, 'tiny');
    const made = await clip(['synth', '--arch', 'tiny', '--out', model]);
    expect(made.code, made.stderr).toBe(0);
    expect(JSON.parse(made.stdout)).toMatchObject({ arch: 'tiny', embedDim: 64 });
    const colours = { red: { r: 210, g: 25, b: 30 }, blue: { r: 25, g: 50, b: 190 } };
    for (const [name, background] of Object.entries(colours)) {
      pictures[name] = path.join(tmp, `${name}.jpg`);
      await sharp({ create: { width: 120, height: 80, channels: 3, background } })
        .composite([
          { input: { create: { width: 20, height: 20, channels: 3, background: '#ffffff' } }, left: 10, top: 10 },
        ])
        .jpeg()
        .toFile(pictures[name]);
    }
  }, 60_000);
  afterAll(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  it('finds "red" closest to the red picture and "blue" to the blue one', async () => {
    const vector = async (args: string[]) => {
      const r = await clip([...args, '--model', model]);
      expect(r.code, r.stderr).toBe(0);
      return Float32Array.from(JSON.parse(r.stdout) as number[]);
    };
    const [red, blue, redPic, bluePic] = await Promise.all([
      vector(['embed-text', 'red']),
      vector(['embed-text', 'blue']),
      vector(['embed-image', pictures.red]),
      vector(['embed-image', pictures.blue]),
    ]);
    expect(red.length).toBe(64);
    expect(cosine(red, redPic)).toBeGreaterThan(cosine(red, bluePic));
    expect(cosine(blue, bluePic)).toBeGreaterThan(cosine(blue, redPic));
  }, 60_000);

  it('preprocess writes the same little-endian float32 CHW tensor the library makes', async () => {
    const out = path.join(tmp, 'red.f32');
    const r = await clip(['preprocess', pictures.red, '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ shape: [3, 224, 224], width: 120, height: 80, format: 'jpeg' });
    const bytes = await readFile(out);
    const written = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
    const expected = await preprocessImage(pictures.red, {
      imageSize: 224,
      mean: [0.48145466, 0.4578275, 0.40821073],
      std: [0.26862954, 0.26130258, 0.27577711],
    });
    expect(Buffer.from(written.buffer, written.byteOffset, written.byteLength)).toEqual(
      Buffer.from(expected.tensor.buffer, expected.tensor.byteOffset, expected.tensor.byteLength),
    );
    const withModel = await clip(['preprocess', pictures.red, '--out', out, '--model', model]);
    expect(JSON.parse(withModel.stdout).shape).toEqual([3, 64, 64]);
    expect((await readFile(out)).length).toBe(3 * 64 * 64 * 4);
  }, 60_000);

  const golden = fixture('clip/tokenizer-golden.json');
  it.skipIf(golden.missing)(
    `tokenize --json prints the reference ids (${golden.missing ?? 'golden cases'})`,
    async () => {
      const cases = (
        JSON.parse(await readFile(golden.path, 'utf8')) as { cases: Array<{ text: string; tokens: number[] }> }
      ).cases.slice(0, 20);
      const r = await clip(['tokenize', '--json'], `${cases.map((c) => JSON.stringify(c.text)).join('\n')}\n`);
      expect(r.code, r.stderr).toBe(0);
      expect(
        r.stdout
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l)),
      ).toEqual(cases.map((c) => c.tokens));
    },
    60_000,
  );

  it('answers a usage mistake with the line to type, and a missing model folder with how to make one', async () => {
    const noModel = await clip(['embed-text', 'red']);
    expect(noModel.code).toBe(2);
    expect(noModel.stderr).toContain('usage: pnpm clip embed-text TEXT --model DIR');
    const badArch = await clip(['synth', '--arch', 'vit', '--out', tmp]);
    expect(badArch.code).toBe(2);
    expect(badArch.stderr).toContain('use tiny, rn50, vit-b-32, vit-b-16');
    const missing = await clip(['embed-text', 'red', '--model', path.join(tmp, 'absent')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('pnpm clip synth --arch tiny --out DIR');
    const unknown = await clip(['embed']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('pnpm clip embed-image IMAGE --model DIR');
  }, 60_000);

  it('verify passes a model that matches its reference, and fails loudly on one that does not', async () => {
    const ok = await clip(['verify', '--model', model]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ ok: true, checks: 7, minCosine: expect.any(Number) });
    expect(ok.stderr).toMatch(/^verified: 7 reference inputs match/m);

    // The same folder whose reference says the red picture looks like the blue one.
    const damaged = path.join(tmp, 'damaged');
    await cp(model, damaged, { recursive: true });
    const reference = JSON.parse(await readFile(path.join(damaged, 'reference.json'), 'utf8'));
    reference.images[0].embedding = reference.images[1].embedding;
    await writeFile(path.join(damaged, 'reference.json'), JSON.stringify(reference));
    const bad = await clip(['verify', '--model', damaged]);
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout)).toMatchObject({ ok: false });
    expect(bad.stderr).toMatch(/^FAIL +cosine .* image "reference\/red.png"$/m);
    expect(bad.stderr).toMatch(/^FAILED: .* does not reproduce .* do not search with this export$/m);
  }, 60_000);
});
