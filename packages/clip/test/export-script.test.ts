// scripts/export-model.py's quick checks: it compiles, answers --help, and recognises a folder that already holds a
// complete export. The real export runs in test/model-export.int.test.ts (CI, or EXPORT_TESTS=1).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const script = path.resolve(import.meta.dirname, '../../../scripts/export-model.py');
const python = spawnSync('python3', ['--version']).status === 0 ? 'python3' : undefined;
const cache = mkdtempSync(path.join(os.tmpdir(), 'clip-pycache-'));
afterAll(() => rmSync(cache, { recursive: true, force: true }));

function py(args: string[]) {
  return spawnSync(python!, args, { encoding: 'utf8', env: { ...process.env, PYTHONPYCACHEPREFIX: cache } });
}

describe.skipIf(!python)(`export-model.py (${python ? 'python3' : 'python3 not installed'})`, () => {
  it('compiles', () => {
    const r = py(['-m', 'py_compile', script]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('documents its arguments, with RN50/openai as the default model', () => {
    const r = py([script, '--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('--pretrained');
    expect(r.stdout).toContain('default RN50');
  });

  it('skips a folder that already holds a complete export of the same model (and seed), reference included', () => {
    const r = spawnSync(
      python!,
      [
        '-c',
        `import importlib.util, json, pathlib, tempfile
spec = importlib.util.spec_from_file_location('export_model', ${JSON.stringify(script)})
m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)
d = pathlib.Path(tempfile.mkdtemp())
files = {'visual': 'visual.onnx', 'textual': 'textual.onnx', 'vocab': 'v.gz', 'reference': 'reference.json'}
for f in files.values(): (d / f).write_text('x')
(d / 'model.json').write_text(json.dumps({'name': 'RN50', 'pretrained': 'openai', 'files': files}))
print(m.complete_export(d, 'RN50', 'openai'), m.complete_export(d, 'ViT-B-32', 'openai'))
(d / 'model.json').write_text(json.dumps({'name': 'RN50', 'pretrained': 'none', 'seed': 3, 'files': files}))
print(m.complete_export(d, 'RN50', 'none', 3), m.complete_export(d, 'RN50', 'none', 4))
(d / 'reference.json').unlink()
print(m.complete_export(d, 'RN50', 'none', 3))`,
      ],
      { encoding: 'utf8', env: { ...process.env, PYTHONPYCACHEPREFIX: cache } },
    );
    expect(r.stderr).toBe('');
    expect(r.stdout.trim().split('\n')).toEqual(['True False', 'True False', 'False']);
  });
});
