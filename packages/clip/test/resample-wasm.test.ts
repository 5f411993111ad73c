// The committed WebAssembly is exactly what its source assembles to, so a change to the .wat cannot ship without it.
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { assemble, WASM } from '../scripts/build-wasm.ts';

describe('pil-resample.wasm', () => {
  it('is the assembled pil-resample.wat (run `pnpm clip:wasm` after changing the .wat)', async () => {
    expect(Buffer.from(await assemble()).equals(await readFile(WASM))).toBe(true);
  });
});
