// The page's search controls against a fake search API: filter chips, dates, order, strong matches, more results,
// refine terms and the mode, each sent to the API as its parameter and kept in the URL.
import { fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { userEvent } from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { App } from '../src/App.tsx';
import { FACETS, hits, META, withFakeApi } from './fake-api.ts';

const fake = withFakeApi();

const lastText = () => fake().callsTo('GET /search/text').at(-1)!.query;

async function searchFor(text: string) {
  await userEvent.type(screen.getByRole('searchbox'), `${text}{Enter}`);
  await waitFor(() => expect(screen.getAllByRole('img', { name: /^pic-\d+\.png$/ }).length).toBeGreaterThan(0));
}

describe('filter chips', () => {
  it('shows the facet counts of the text as chips that turn their filter on and off', async () => {
    render(<App defaultK={4} />);
    await searchFor('red');
    const sites = await screen.findByRole('group', { name: 'Site' });
    const chip = within(sites).getByRole('button', { name: 'Site a.example, 5 pictures' });
    expect(chip.getAttribute('aria-pressed')).toBe('false');
    await userEvent.click(chip);
    await waitFor(() => expect(lastText().get('host')).toBe('a.example'));
    expect(chip.getAttribute('aria-pressed')).toBe('true');
    expect(new URLSearchParams(window.location.search).get('host')).toBe('a.example');
    await userEvent.click(within(sites).getByRole('button', { name: /^Site b\.example/ }));
    await waitFor(() => expect(lastText().get('host')).toBe('a.example,b.example'));
    await userEvent.click(within(screen.getByRole('group', { name: 'Folder' })).getByRole('button', { name: /trips/ }));
    await waitFor(() => expect(lastText().get('folder')).toBe('trips'));
    await userEvent.click(chip);
    await waitFor(() => expect(lastText().get('host')).toBe('b.example'));
    const texts = fake().callsTo('GET /search/text');
    expect(texts.map((c) => c.query.get('facets'))).toEqual(texts.map(() => 'true'));
  });

  it('shows chips for a "more like this" search and a picture search, asking for the counts with the first page only', async () => {
    window.history.replaceState(null, '', '/?similar=id7&k=4');
    render(<App defaultK={4} />);
    const sites = await screen.findByRole('group', { name: 'Site' });
    await userEvent.click(within(sites).getByRole('button', { name: 'Site b.example, 2 pictures' }));
    await waitFor(() => expect(fake().callsTo('GET /search/similar').at(-1)!.query.get('host')).toBe('b.example'));
    await userEvent.click(screen.getByRole('button', { name: 'Load more' }));
    await waitFor(() => expect(fake().callsTo('GET /search/similar')).toHaveLength(3));
    expect(
      fake()
        .callsTo('GET /search/similar')
        .map((c) => c.query.get('facets')),
    ).toEqual(['true', 'true', null]);

    const folder = [{ value: 'uploads', count: 3 }];
    fake().on('POST /search/image', () => ({ json: { hits: hits(4), facets: { ...FACETS, folder } } }));
    const file = new File([new Uint8Array([0xff, 0xd8, 0xff])], 'cat.jpg', { type: 'image/jpeg' });
    await userEvent.upload(screen.getByLabelText('Choose a picture to search with'), file);
    await waitFor(() => expect(fake().callsTo('POST /search/image')).toHaveLength(1));
    expect(fake().callsTo('POST /search/image')[0].query.get('facets')).toBe('true');
    expect(await screen.findByRole('button', { name: 'Folder uploads, 3 pictures' })).toBeTruthy();
  });

  it('turns a year chip into the year filter, whichever date the date range is on', async () => {
    render(<App defaultK={4} />);
    await searchFor('red');
    await userEvent.selectOptions(screen.getByRole('combobox', { name: 'Which date' }), 'added');
    const chip = await screen.findByRole('button', { name: /^Year 2024/ });
    await userEvent.click(chip);
    await waitFor(() => expect(lastText().get('year')).toBe('2024'));
    expect(chip.getAttribute('aria-pressed')).toBe('true');
    expect(new URLSearchParams(window.location.search).get('year')).toBe('2024');
    for (const range of ['taken_from', 'taken_to', 'added_from', 'added_to']) expect(lastText().get(range)).toBeNull();
    await userEvent.click(chip);
    await waitFor(() => expect(lastText().get('year')).toBeNull());
    expect(chip.getAttribute('aria-pressed')).toBe('false');
  });
});

describe('order, strong matches and mode', () => {
  it('sends sort, min_score from /meta and mode, and keeps them in the URL', async () => {
    render(<App defaultK={4} />);
    await searchFor('red');
    await userEvent.click(screen.getByRole('radio', { name: 'Newest' }));
    await waitFor(() => expect(lastText().get('sort')).toBe('newest'));
    await userEvent.click(screen.getByRole('checkbox', { name: 'Only strong matches' }));
    await waitFor(() => expect(lastText().get('min_score')).toBe(String(META.strong_match_score)));
    await userEvent.selectOptions(screen.getByRole('combobox', { name: 'Match by' }), 'hybrid');
    await waitFor(() => expect(lastText().get('mode')).toBe('hybrid'));
    const url = new URLSearchParams(window.location.search);
    expect([url.get('sort'), url.get('strong'), url.get('mode')]).toEqual(['newest', '1', 'hybrid']);
  });

  it('restores every control from the URL on load and repeats that search', async () => {
    window.history.replaceState(
      null,
      '',
      '/?q=red&k=3&mode=keyword&sort=oldest&host=a.example&taken_from=2020-01-01&refine=%2Bnight',
    );
    render(<App defaultK={10} />);
    await waitFor(() => expect(fake().callsTo('POST /search/combine')).toHaveLength(1));
    expect((screen.getByRole('radio', { name: 'Oldest' }) as HTMLInputElement).checked).toBe(true);
    expect((screen.getByRole('textbox', { name: 'Refine' }) as HTMLInputElement).value).toBe('+night');
    expect((screen.getByLabelText('from') as HTMLInputElement).value).toBe('2020-01-01');
    const body = JSON.parse(String(fake().callsTo('POST /search/combine')[0].body));
    expect(body).toMatchObject({ k: 3, sort: 'oldest', host: ['a.example'], taken_from: '2020-01-01' });
  });

  it('shows the API message naming the parameter when it refuses a value', async () => {
    fake().on('GET /search/text', () => ({
      status: 400,
      json: { error: 'bad_request', message: 'taken_from must be a date, 2024-05-06 or 2024-05-06T07:08:09Z' },
    }));
    window.history.replaceState(null, '', '/?q=red&taken_from=yesterday');
    render(<App defaultK={4} />);
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain('taken_from must be a date');
    expect(alert.textContent).toContain('Change the query');
  });
});

describe('more results', () => {
  it('loads the next page with from, adds it, and says when there are no more', async () => {
    fake().on('GET /search/text', (c) => {
      const from = Number(c.query.get('from'));
      return { json: hits(Math.min(Number(c.query.get('k')), 10 - from), from) };
    });
    render(<App defaultK={4} />);
    await searchFor('red');
    await userEvent.click(screen.getByRole('button', { name: 'Load more' }));
    await waitFor(() => expect(screen.getAllByRole('listitem')).toHaveLength(8));
    expect(lastText().get('from')).toBe('4');
    await userEvent.click(screen.getByRole('button', { name: 'Load more' }));
    expect(await screen.findByText('All 10 pictures shown.')).toBeTruthy();
    expect(screen.queryByRole('button', { name: 'Load more' })).toBeNull();
    const names = screen.getAllByRole('img', { name: /^pic-/ }).map((i) => i.getAttribute('alt'));
    expect(new Set(names).size).toBe(10);
  });

  it('fetches the next page when → is pressed on the last picture in the lightbox, and shows its first', async () => {
    render(<App defaultK={3} />);
    await searchFor('red');
    await userEvent.click(screen.getByRole('button', { name: /pic-3\.png, score/ }));
    const dialog = screen.getByRole('dialog', { hidden: true });
    fireEvent.keyDown(dialog, { key: 'ArrowRight' });
    await waitFor(() => expect(dialog.getAttribute('aria-label')).toBe('Picture pic-4.png'));
    expect(lastText().get('from')).toBe('3');
    expect(screen.getAllByRole('listitem')).toHaveLength(6);
  });

  it('stops at MAX_K from /meta', async () => {
    fake().on('GET /meta', () => ({ json: { ...META, max_k: 6 } }));
    render(<App defaultK={4} />);
    await searchFor('red');
    await userEvent.click(screen.getByRole('button', { name: 'Load more' }));
    expect(await screen.findByText(/best 6 pictures/)).toBeTruthy();
    expect(lastText().get('k')).toBe('2');
  });
});

describe('refine terms', () => {
  it('sends the search and its plus and minus terms as weighted parts', async () => {
    render(<App defaultK={4} />);
    await searchFor('beach');
    await userEvent.type(screen.getByRole('textbox', { name: 'Refine' }), '+night -people{Enter}');
    await waitFor(() => expect(fake().callsTo('POST /search/combine')).toHaveLength(1));
    const body = JSON.parse(String(fake().callsTo('POST /search/combine')[0].body));
    expect(body.parts).toEqual([{ text: 'beach' }, { text: 'night', weight: 0.5 }, { text: 'people', weight: -0.5 }]);
    expect(new URLSearchParams(window.location.search).get('refine')).toBe('+night -people');
    expect((screen.getByRole('combobox', { name: 'Match by' }) as HTMLSelectElement).disabled).toBe(true);
  });
});
