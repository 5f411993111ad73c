// The search controls in a real browser against the real stack (Elasticsearch, the embedder and the search-api with
// the tiny synthetic model): filter chips, the strong-match cutoff, date order, more results, refine terms, the URL,
// the keyboard, and the API's 400s.
import { mkdir, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Colour, colourOf, colourPicture } from './colour-pictures.ts';
import { type BrowserStack, repoRoot, startBrowserStack } from './stack.ts';

const PICTURES: Array<[Colour, number]> = [
  ['red', 4],
  ['blue', 4],
  ['purple', 2],
  ['green', 2],
  ['white', 2],
];
const DOCS = PICTURES.reduce((n, [, count]) => n + count, 0);
const TOP_K = 4;

let stack: BrowserStack | undefined;
let page: Page;

beforeAll(async () => {
  // Variants 3 and 4 live in trips/; variant v was added in 2020 + v (the file time, as no journal names it).
  stack = await startBrowserStack('ui-controls', TOP_K, async (imagesDir) => {
    await mkdir(path.join(imagesDir, 'trips'));
    for (const [colour, count] of PICTURES) {
      for (let v = 1; v <= count; v++) {
        const file = path.join(imagesDir, v >= 3 ? 'trips' : '', `${colour}-${v}.png`);
        await writeFile(file, await colourPicture(colour, v));
        const added = new Date(Date.UTC(2020 + v, 2, 1));
        await utimes(file, added, added);
      }
    }
  });
  page = stack.page;
}, 240_000);

afterAll(async () => {
  await stack?.stop();
});

const searches = () =>
  page.evaluate(() => Number(document.querySelector('section.results')?.getAttribute('data-searches')));

/** Does `action` and waits for the search it starts to finish with its pictures loaded; returns their names. */
async function results(action: () => Promise<unknown>, fresh = false): Promise<string[]> {
  const before = fresh ? 0 : await searches();
  await action();
  await page.waitForFunction(
    (after) => {
      const section = document.querySelector('section.results');
      if (!section || Number(section.getAttribute('data-searches')) <= after) return false;
      if (section.getAttribute('aria-busy') === 'true') return false;
      const imgs = Array.from(document.querySelectorAll<HTMLImageElement>('ol.grid img'));
      return imgs.length > 0 && imgs.every((i) => i.complete && i.naturalWidth > 0);
    },
    before,
    { timeout: 30_000 },
  );
  return names();
}

const names = () => page.locator('ol.grid img').evaluateAll((imgs) => imgs.map((i) => i.getAttribute('alt') ?? ''));
const open = (query: string) => results(() => page.goto(`${stack!.ui.url}/${query}`), true);

describe('the search controls against the real stack', () => {
  it('narrows "red" to a folder with its filter chip, and back', async () => {
    const all = await open('?q=red');
    expect(all.map(colourOf)).toEqual(['red', 'red', 'red', 'red']);
    const chip = page.getByRole('group', { name: 'Folder' }).getByRole('button', { name: /^Folder trips/ });
    const inTrips = await results(() => chip.click());
    expect(inTrips.slice(0, 2).sort()).toEqual(['red-3.png', 'red-4.png']);
    expect(inTrips.slice(2).sort()).toEqual(['blue-3.png', 'blue-4.png']);
    expect(await chip.getAttribute('aria-pressed')).toBe('true');
    expect(new URL(page.url()).searchParams.get('folder')).toBe('trips');
    expect((await results(() => chip.click())).map(colourOf)).toEqual(['red', 'red', 'red', 'red']);
  });

  it('narrows "red" to a year with its chip, pictures without a date taken by the year they were added', async () => {
    await open('?q=red');
    const chip = page.getByRole('group', { name: 'Year' }).getByRole('button', { name: /^Year 2022/ });
    const in2022 = await results(() => chip.click());
    expect(in2022[0]).toBe('red-2.png');
    expect(in2022.every((name) => name.endsWith('-2.png'))).toBe(true);
    expect(new URL(page.url()).searchParams.get('year')).toBe('2022');
    expect((await results(() => chip.click())).map(colourOf)).toEqual(['red', 'red', 'red', 'red']);
  });

  it('keeps only the strong matches, and orders them newest or oldest first', async () => {
    await open('?q=red&k=8');
    const strong = await results(() => page.getByRole('checkbox', { name: 'Only strong matches' }).check());
    expect(strong.map(colourOf)).toEqual(['red', 'red', 'red', 'red']);
    await expect.poll(() => page.getByText('All 4 pictures shown.').isVisible()).toBe(true);
    const newest = await results(() => page.locator('label', { hasText: 'Newest' }).click());
    expect(newest).toEqual(['red-4.png', 'red-3.png', 'red-2.png', 'red-1.png']);
    const oldest = await results(() => page.locator('label', { hasText: 'Oldest' }).click());
    expect(oldest).toEqual(['red-1.png', 'red-2.png', 'red-3.png', 'red-4.png']);
    await page.screenshot({ path: path.join(repoRoot, 'test-results', 'ui-controls.png'), fullPage: true });
  });

  it('restores the search and its controls from the URL on reload', async () => {
    const url = new URL(page.url());
    expect([url.searchParams.get('sort'), url.searchParams.get('strong')]).toEqual(['oldest', '1']);
    const again = await results(() => page.reload(), true);
    expect(again).toEqual(['red-1.png', 'red-2.png', 'red-3.png', 'red-4.png']);
    expect(await page.getByRole('radio', { name: 'Oldest' }).isChecked()).toBe(true);
    expect(await page.getByRole('checkbox', { name: 'Only strong matches' }).isChecked()).toBe(true);
    expect(await page.getByRole('searchbox').inputValue()).toBe('red');
  });

  it('loads more pictures as the end of the results comes into view, each once, to the last', async () => {
    const first = await open('?q=red');
    expect(first).toHaveLength(TOP_K);
    const end = page.getByText(`All ${DOCS} pictures shown.`);
    await expect
      .poll(
        async () => {
          await page.evaluate(() => window.scrollTo(0, document.body.scrollHeight));
          return end.isVisible();
        },
        { timeout: 30_000 },
      )
      .toBe(true);
    const shown = await names();
    expect(shown).toHaveLength(DOCS);
    expect(new Set(shown).size).toBe(DOCS);
    expect(shown.slice(0, TOP_K)).toEqual(first);
  });

  it('pulls "red" away from blue with the refine term "-blue"', async () => {
    const plain = await open(`?q=red&k=${DOCS}`);
    const refined = await results(async () => {
      await page.getByRole('textbox', { name: 'Refine' }).fill('-blue');
      await page.getByRole('textbox', { name: 'Refine' }).press('Enter');
    });
    // "red" alone ranks blue (part of purple's mix) above white and green; "-blue" sends the blue pictures last.
    const lastBlue = (list: string[]) => list.map(colourOf).lastIndexOf('blue');
    expect(lastBlue(plain)).toBeLessThan(plain.map(colourOf).indexOf('white'));
    expect(refined.slice(0, 4).map(colourOf)).toEqual(['red', 'red', 'red', 'red']);
    expect(refined.slice(-4).map(colourOf)).toEqual(['blue', 'blue', 'blue', 'blue']);
    expect(new URL(page.url()).searchParams.get('refine')).toBe('-blue');
  });

  it('moves through the grid with the arrow keys and the lightbox with ← and →, Enter opening and Esc closing', async () => {
    const shown = await open('?q=red');
    await page.locator('ol.grid .card-button').first().focus();
    await page.keyboard.press('ArrowRight');
    const focused = () => page.evaluate(() => document.activeElement?.querySelector('img')?.getAttribute('alt'));
    expect(await focused()).toBe(shown[1]);
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog');
    await expect.poll(() => dialog.getAttribute('aria-label')).toBe(`Picture ${shown[1]}`);
    await page.keyboard.press('ArrowRight');
    await expect.poll(() => dialog.getAttribute('aria-label')).toBe(`Picture ${shown[2]}`);
    await page.keyboard.press('Escape');
    await expect.poll(() => dialog.isVisible()).toBe(false);
    expect(await focused()).toBe(shown[2]);
  });

  it('shows the API message naming a parameter it refuses', async () => {
    await page.goto(`${stack!.ui.url}/?q=red&taken_from=yesterday`);
    await expect
      .poll(() => page.getByRole('alert').filter({ hasText: 'taken_from' }).textContent())
      .toContain('taken_from must be a date');
  });
});
