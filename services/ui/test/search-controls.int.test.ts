// The search controls in a real browser against the real stack (Elasticsearch, the embedder and the search-api with
// the tiny synthetic model): filter chips, the strong-match cutoff, date order, more results, refine terms, the URL,
// the keyboard, and the API's 400s.
import { createHash } from 'node:crypto';
import { appendFile, mkdir, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { formatRecord, journalFile, pictureFileName, pictureKey } from '@image-search/picture-store';
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
/** Pictures the downloader stored, with the host each came from (its journal record), all added in 2021. */
const DOWNLOADED: Array<[Colour, number, string]> = [
  ['green', 3, 'a.example'],
  ['green', 4, 'a.example'],
  ['white', 3, 'b.example'],
];
const DOCS = PICTURES.reduce((n, [, count]) => n + count, 0) + DOWNLOADED.length;
const TOP_K = 4;

let stack: BrowserStack | undefined;
let page: Page;
/** The id (SHA-256 of the bytes) of green-1.png, a picture put in by hand: no host, top folder, added in 2021. */
let green1 = '';

beforeAll(async () => {
  // Variants 3 and 4 live in trips/; variant v was added in 2020 + v (the file time, as no journal names it).
  stack = await startBrowserStack('ui-controls', TOP_K, async (imagesDir) => {
    await mkdir(path.join(imagesDir, 'trips'));
    for (const [colour, count] of PICTURES) {
      for (let v = 1; v <= count; v++) {
        const file = path.join(imagesDir, v >= 3 ? 'trips' : '', `${colour}-${v}.png`);
        const bytes = await colourPicture(colour, v);
        await writeFile(file, bytes);
        const added = new Date(Date.UTC(2020 + v, 2, 1));
        await utimes(file, added, added);
        if (colour === 'green' && v === 1) green1 = createHash('sha256').update(bytes).digest('hex');
      }
    }
    await mkdir(path.dirname(journalFile(imagesDir)));
    for (const [colour, v, host] of DOWNLOADED) {
      const url = `https://${host}/${colour}-${v}.png`;
      const bytes = await colourPicture(colour, v);
      const file = pictureFileName(pictureKey(url).stem, '.png');
      await writeFile(path.join(imagesDir, file), bytes);
      const at = new Date(Date.UTC(2021, 2, 1)).toISOString();
      const record = { key: pictureKey(url).stem, status: 'done' as const, url, file, bytes: bytes.length, at };
      const rest = { content_type: 'image/png', final_url: null, attempts: 1, error: null, detail: null };
      await appendFile(journalFile(imagesDir), formatRecord({ ...record, ...rest, permanent: false }));
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

  it('counts a "more like this" search in its chips; a host chip keeps the other hosts while the rest narrow', async () => {
    await open(`?similar=${green1}`);
    const chip = (group: string, value: string) =>
      page.getByRole('group', { name: group }).getByRole('button', { name: new RegExp(`^${group} ${value}\\b`) });
    const label = (group: string, value: string) => chip(group, value).getAttribute('aria-label');
    expect(await label('Site', 'a.example')).toBe('Site a.example, 2 pictures');
    expect(await label('Site', 'b.example')).toBe('Site b.example, 1 picture');
    expect(await label('Folder', 'trips')).toBe('Folder trips, 4 pictures');
    // the other pictures added in 2021: variant 1 of each colour but green-1 itself, and the downloaded three
    expect(await label('Year', '2021')).toBe('Year 2021, 7 pictures');

    const fromA = await results(() => chip('Site', 'a.example').click());
    expect(fromA).toHaveLength(2);
    expect(await chip('Site', 'a.example').getAttribute('aria-pressed')).toBe('true');
    expect(await label('Site', 'b.example')).toBe('Site b.example, 1 picture');
    expect(await label('Year', '2021')).toBe('Year 2021, 2 pictures');
    // a.example's pictures are all in the top folder, which is no filter: no folder is left to narrow to
    expect(await page.getByRole('group', { name: 'Folder' }).count()).toBe(0);
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
