// Assembles src/pil-resample.wat into src/pil-resample.wasm (`pnpm clip:wasm`). The .wasm is committed so that
// nothing needs assembling at install or run time; a test checks it is what this script makes of the .wat.
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import wabt from 'wabt';

export const WAT = fileURLToPath(new URL('../src/pil-resample.wat', import.meta.url));
export const WASM = fileURLToPath(new URL('../src/pil-resample.wasm', import.meta.url));

export async function assemble(): Promise<Uint8Array> {
  const tools = await wabt();
  const module = tools.parseWat('pil-resample.wat', await readFile(WAT, 'utf8'), { simd: true });
  try {
    module.validate();
    return module.toBinary({ log: false, write_debug_names: false }).buffer;
  } finally {
    module.destroy();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const bytes = await assemble();
  await writeFile(WASM, bytes);
  console.log(`wrote ${WASM} (${bytes.length} bytes)`);
}
