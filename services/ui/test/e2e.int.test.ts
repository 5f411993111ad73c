// The search page in a real browser (Debian's chromium) against the real stack: Elasticsearch, the embedder and the
// search-api with the tiny synthetic model, and generated colour pictures.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Colour, colourOf, colourPicture } from './colour-pictures.ts';
import {
  AFTER_PAINT,
  type BrowserStack,
  repoRoot,
  resultsLoaded,
  SEARCHES_STARTED,
  startBrowserStack,
} from './stack.ts';

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

let stack: BrowserStack | undefined;
let page: Page;

beforeAll(async () => {
  stack = await startBrowserStack('ui-e2e', TOP_K, async (imagesDir) => {
    for (const [colour, count] of PICTURES) {
      for (let v = 1; v <= count; v++) {
        await writeFile(path.join(imagesDir, `${colour}-${v}.png`), await colourPicture(colour, v));
      }
    }
  });
  page = stack.page;
}, 240_000);

afterAll(async () => {
  await stack?.stop();
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
    await page.goto(stack!.ui.url);
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
    await stack!.api.child.stop();
    await page.getByRole('searchbox').fill('yellow');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    const alert = page.getByRole('alert').filter({ hasText: 'not answering' });
    await expect.poll(() => alert.textContent()).toContain('pnpm search-api');
  });
});
