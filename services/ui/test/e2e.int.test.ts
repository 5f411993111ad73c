// The search page in a real browser (Debian's chromium) against the real stack: Elasticsearch, the embedder and the
// search-api with the tiny synthetic model, and generated colour pictures.
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ensureSyntheticModel } from '@image-search/clip';
import type { Browser, Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AFTER_PAINT,
  type ApiEnv,
  type Child,
  deleteIndices,
  indexOnce,
  launchChromium,
  repoRoot,
  resultsLoaded,
  SEARCHES_STARTED,
  startSearchApi,
  startUi,
} from './stack.ts';

const COLOURS = {
  red: [215, 25, 35],
  blue: [25, 55, 215],
  green: [35, 170, 50],
  yellow: [240, 215, 40],
  purple: [125, 35, 160],
  white: [240, 240, 240],
} as const;
type Colour = keyof typeof COLOURS;
const PICTURES: Array<[Colour, number]> = [
  ['red', 4],
  ['blue', 4],
  ['green', 3],
  ['yellow', 3],
  ['purple', 2],
  ['white', 2],
];
const DOCS = PICTURES.reduce((n, [, count]) => n + count, 0);
const TOP_K = 6;

/** A mostly-`colour` picture, lighter at the top; `variant` changes its bytes. */
async function colourPicture(colour: Colour, variant: number): Promise<Buffer> {
  const [r, g, b] = COLOURS[colour];
  const w = 240;
  const h = 180;
  const px = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++) {
    const shade = 1.12 - (0.24 * y) / h;
    for (let x = 0; x < w; x++) {
      const i = (y * w + x) * 3;
      const noise = ((x * 7919 + y * 104729 + variant * 15485863) % 17) - 8;
      px[i] = Math.max(0, Math.min(255, r * shade + noise));
      px[i + 1] = Math.max(0, Math.min(255, g * shade + noise));
      px[i + 2] = Math.max(0, Math.min(255, b * shade + noise));
    }
  }
  return sharp(px, { raw: { width: w, height: h, channels: 3 } })
    .png()
    .toBuffer();
}

const colourOf = (fileName: string) => fileName.split('-')[0];

let work: string;
let env: ApiEnv;
let api: { url: string; child: Child } | undefined;
let ui: { url: string; child: Child } | undefined;
let browser: Browser | undefined;
let page: Page;

beforeAll(async () => {
  const esHost = process.env.ES_HOST ?? 'http://127.0.0.1:9200';
  work = await mkdtemp(path.join(os.tmpdir(), 'ui-e2e-'));
  env = {
    ES_HOST: esHost,
    ES_INDEX: `test-ui-e2e-${randomBytes(4).toString('hex')}`,
    MODEL_DIR: await ensureSyntheticModel('tiny', path.join(os.tmpdir(), 'image-search-models', 'tiny')),
    IMAGES_DIR: path.join(work, 'images'),
    THUMBNAILS_DIR: path.join(work, 'thumbnails'),
  };
  await mkdir(env.IMAGES_DIR, { recursive: true });
  for (const [colour, count] of PICTURES) {
    for (let v = 1; v <= count; v++) {
      await writeFile(path.join(env.IMAGES_DIR, `${colour}-${v}.png`), await colourPicture(colour, v));
    }
  }
  await indexOnce(env, path.join(work, 'state'));
  api = await startSearchApi(env);
  ui = await startUi(api.url, TOP_K);
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await ui?.child.stop();
  await api?.child.stop();
  if (env) await deleteIndices(env.ES_HOST, env.ES_INDEX);
  if (work) await rm(work, { recursive: true, force: true });
});

/**
 * Does `action`, then waits for the search it starts to show `k` loaded pictures; returns their names in order.
 * An action that loads a new page starts counting searches from zero again (`newPage`).
 */
async function searchResults(k: number, action: () => Promise<unknown>, newPage = false): Promise<string[]> {
  const before = newPage ? 0 : ((await page.evaluate(SEARCHES_STARTED)) as number);
  await action();
  await page.waitForFunction(resultsLoaded(k, before), undefined, { timeout: 30_000 });
  await page.evaluate(AFTER_PAINT);
  return page.locator('ol.grid img').evaluateAll((imgs) => imgs.map((i) => i.getAttribute('alt') ?? ''));
}

describe('the search page against the real stack', () => {
  it('finds the red pictures for "red" and shows k thumbnails with scores and the latency', async () => {
    await page.goto(ui!.url);
    await page.getByRole('searchbox', { name: /describe the pictures/i }).fill('red');
    const names = await searchResults(TOP_K, () => page.keyboard.press('Enter'));
    expect(names).toHaveLength(TOP_K);
    expect(names.slice(0, 4).map(colourOf)).toEqual(['red', 'red', 'red', 'red']);
    await expect.poll(() => page.getByTestId('latency').textContent()).toMatch(/^\d+ ms$/);
    const scores = await page.locator('.score').allTextContents();
    expect(scores.every((s) => /^\d\.\d{3}$/.test(s))).toBe(true);
    // Thumbnails, not the full pictures, fill the grid.
    const srcs = await page.locator('ol.grid img').evaluateAll((imgs) => imgs.map((i) => i.getAttribute('src')));
    expect(srcs.every((s) => s?.startsWith('/api/thumbnails/') && s.endsWith('.webp'))).toBe(true);
    expect(new URL(page.url()).search).toBe(`?q=red&k=${TOP_K}`);
    await page.locator('details.runtime').evaluate((d) => d.setAttribute('open', ''));
    await expect
      .poll(() => page.locator('.runtime-row', { hasText: 'Documents' }).locator('dd').textContent())
      .toBe(String(DOCS));
    await page.screenshot({ path: path.join(repoRoot, 'test-results', 'ui-results.png'), fullPage: true });
  });

  it('shows the model and the document count in the runtime panel', async () => {
    const model = await page.locator('.runtime-row', { hasText: 'Model' }).first().locator('dd').textContent();
    expect(model).toMatch(/tiny/i);
    const docs = await page.locator('.runtime-row', { hasText: 'Documents' }).locator('dd').textContent();
    expect(docs).toBe(String(DOCS));
    await expect(page.getByRole('alert').filter({ hasText: 'synthetic model' }).count()).resolves.toBe(1);
  });

  it('repeats the search from the URL after a reload', async () => {
    const names = await searchResults(TOP_K, () => page.reload(), true);
    expect(names.slice(0, 4).map(colourOf)).toEqual(['red', 'red', 'red', 'red']);
    expect(await page.getByRole('searchbox').inputValue()).toBe('red');
  });

  it('opens the lightbox with the full picture and finds more like it', async () => {
    const first = page.locator('ol.grid .card-button').first();
    const firstName = await first.locator('img').getAttribute('alt');
    await first.click();
    const dialog = page.getByRole('dialog');
    await expect.poll(() => dialog.isVisible()).toBe(true);
    const full = dialog.locator('img.full');
    await page.waitForFunction(
      (img) => img instanceof HTMLImageElement && img.complete && img.naturalWidth === 240,
      await full.elementHandle(),
    );
    expect(await full.getAttribute('src')).toMatch(/^\/api\/images\/red-\d\.png$/);
    expect(await dialog.textContent()).toContain('240 × 180 px');
    const names = await searchResults(TOP_K, () => dialog.getByRole('button', { name: 'More like this' }).click());
    expect(names).not.toContain(firstName);
    expect(names.slice(0, 3).map(colourOf)).toEqual(['red', 'red', 'red']);
    expect(new URL(page.url()).searchParams.get('similar')).toMatch(/^[0-9a-f]{64}$/);
  });

  it('finds blue pictures for a dropped blue picture', async () => {
    const blue = (await colourPicture('blue', 99)).toString('base64');
    const dataTransfer = await page.evaluateHandle(async (b64) => {
      const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      const dt = new DataTransfer();
      dt.items.add(new File([bytes], 'my-blue.png', { type: 'image/png' }));
      return dt;
    }, blue);
    const names = await searchResults(TOP_K, async () => {
      await page.dispatchEvent('main', 'dragenter', { dataTransfer });
      await page.dispatchEvent('main', 'drop', { dataTransfer });
    });
    expect(await page.locator('.query-picture strong').textContent()).toBe('my-blue.png');
    expect(names.slice(0, 4).map(colourOf)).toEqual(['blue', 'blue', 'blue', 'blue']);
  });

  it('finds green pictures for a chosen green picture, with the k from the slider', async () => {
    await page.getByRole('slider', { name: 'How many images' }).fill('3');
    const buffer = await colourPicture('green', 42);
    const names = await searchResults(3, () =>
      page.getByTestId('picture-input').setInputFiles({ name: 'my-green.png', mimeType: 'image/png', buffer }),
    );
    expect(names.map(colourOf)).toEqual(['green', 'green', 'green']);
  });

  it('says the search API is down, and what to do, when it stops', async () => {
    await api!.child.stop();
    await page.getByRole('searchbox').fill('yellow');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    const alert = page.getByRole('alert').filter({ hasText: 'not answering' });
    await expect.poll(() => alert.textContent()).toContain('pnpm search-api');
  });
});
