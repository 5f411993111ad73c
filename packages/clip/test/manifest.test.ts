import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ModelDirError, readManifest } from '../src/manifest.ts';

const good = {
  name: 'RN50',
  pretrained: 'openai',
  embedDim: 1024,
  imageSize: 224,
  mean: [0.48145466, 0.4578275, 0.40821073],
  std: [0.26862954, 0.26130258, 0.27577711],
  interpolation: 'bicubic',
  resizeMode: 'shortest',
  contextLength: 77,
  dynamicTextLength: true,
  files: { visual: 'visual.onnx', textual: 'textual.onnx', vocab: 'bpe_simple_vocab_16e6.txt.gz' },
  synthetic: false,
};

describe('readManifest', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'clip-manifest-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function writeAll(manifest: unknown, files = ['visual.onnx', 'textual.onnx', 'bpe_simple_vocab_16e6.txt.gz']) {
    await writeFile(path.join(dir, 'model.json'), JSON.stringify(manifest));
    for (const f of files) await writeFile(path.join(dir, f), 'x');
  }

  it('reads a complete folder', async () => {
    await writeAll(good);
    const m = await readManifest(dir);
    expect(m.embedDim).toBe(1024);
    expect(m.dynamicTextLength).toBe(true);
    expect(m.files.vocab).toBe('bpe_simple_vocab_16e6.txt.gz');
  });

  it('says the folder does not exist and how to make one', async () => {
    const missing = path.join(dir, 'nope');
    const err = await readManifest(missing).catch((e) => e);
    expect(err).toBeInstanceOf(ModelDirError);
    expect(err.message).toContain('does not exist');
    expect(err.message).toContain('pnpm clip synth --arch tiny --out DIR');
    expect(err.message).not.toContain('\n');
  });

  it('says model.json is missing', async () => {
    const err = await readManifest(dir).catch((e) => e);
    expect(err).toBeInstanceOf(ModelDirError);
    expect(err.message).toContain('no model.json');
  });

  it('names the files that are missing', async () => {
    await writeAll(good, ['visual.onnx']);
    const err = await readManifest(dir).catch((e) => e);
    expect(err.message).toContain('textual.onnx, bpe_simple_vocab_16e6.txt.gz');
  });

  it('names invalid fields', async () => {
    await writeAll({ ...good, embedDim: 'big', std: [0, 1, 1] });
    const err = await readManifest(dir).catch((e) => e);
    expect(err.message).toContain('embedDim');
    expect(err.message).toContain('std');
  });

  it('treats an older manifest without dynamicTextLength as fixed length', async () => {
    const { dynamicTextLength: _, ...old } = good;
    await writeAll(old);
    expect((await readManifest(dir)).dynamicTextLength).toBe(false);
  });
});
