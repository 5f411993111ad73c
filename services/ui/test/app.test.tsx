// The whole page against a fake search API at the fetch seam: what a person types, sees and gets told.
import { act, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { userEvent } from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { App } from '../src/App.tsx';
import { hits, META, withFakeApi } from './fake-api.ts';

const fake = withFakeApi();

async function searchFor(text: string) {
  const prompt = screen.getByRole('searchbox');
  await userEvent.clear(prompt);
  await userEvent.type(prompt, `${text}{Enter}`);
}

describe('text search', () => {
  it('searches for what was typed with the default k, shows the thumbnails, scores and latency, and puts it in the URL', async () => {
    render(<App defaultK={6} />);
    await searchFor('red');
    await waitFor(() => expect(screen.getAllByRole('img', { name: /^pic-\d+\.png$/ })).toHaveLength(6));
    const call = fake().callsTo('GET /search/text')[0];
    expect([call.query.get('q'), call.query.get('k')]).toEqual(['red', '6']);
    expect(screen.getByTestId('latency').textContent).toMatch(/^\d+ ms$/);
    expect(screen.getByText(/6 results in/)).toBeTruthy();
    expect(window.location.search).toBe('?q=red&k=6');
  });

  it('uses the k chosen on the slider', async () => {
    render(<App defaultK={10} />);
    fireEvent.change(screen.getByRole('slider', { name: 'How many images' }), { target: { value: '3' } });
    await searchFor('green');
    await waitFor(() => expect(screen.getAllByRole('listitem')).toHaveLength(3));
    expect(fake().callsTo('GET /search/text')[0].query.get('k')).toBe('3');
  });

  it('repeats the search in the URL on load, so a shared link or a reload shows the same results', async () => {
    window.history.replaceState(null, '', '/?q=blue+sky&k=4');
    render(<App defaultK={10} />);
    await waitFor(() => expect(screen.getAllByRole('listitem')).toHaveLength(4));
    expect((screen.getByRole('searchbox') as HTMLInputElement).value).toBe('blue sky');
    expect((screen.getByRole('slider') as HTMLInputElement).value).toBe('4');
    expect(fake().callsTo('GET /search/text').at(-1)?.query.get('q')).toBe('blue sky');
  });

  it('says when the index is empty, with how many pictures there are so far', async () => {
    fake().on('GET /search/text', () => ({ json: [] }));
    fake().on('GET /meta', () => ({ json: { ...META, doc_count: 0 } }));
    render(<App defaultK={10} />);
    await searchFor('anything');
    expect(await screen.findByText('Nothing indexed yet — 0 pictures so far.')).toBeTruthy();
  });
});

describe('errors that say what to do', () => {
  it('when the search API is down', async () => {
    fake().on('GET /search/text', () => ({
      status: 502,
      json: { error: 'unavailable', message: 'The search API at http://api:8000 is not answering (ECONNREFUSED).' },
      headers: { 'x-ui-proxy': 'upstream-unreachable' },
    }));
    render(<App defaultK={10} />);
    await searchFor('red');
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain('is not answering (ECONNREFUSED)');
    expect(alert.textContent).toContain('pnpm search-api');
  });

  it('when Elasticsearch is down, with the API message, and recovers with Try again', async () => {
    let down = true;
    fake().on('GET /search/text', (c) =>
      down
        ? { status: 503, json: { error: 'unavailable', message: 'Elasticsearch at http://es:9200 is unreachable' } }
        : { json: hits(Number(c.query.get('k'))) },
    );
    render(<App defaultK={5} />);
    await searchFor('red');
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain('Elasticsearch at http://es:9200 is unreachable');
    expect(alert.textContent).toMatch(/Elasticsearch is running/);
    down = false;
    await userEvent.click(within(alert).getByRole('button', { name: 'Try again' }));
    await waitFor(() => expect(screen.getAllByRole('listitem')).toHaveLength(5));
    expect(screen.queryByRole('alert')).toBeNull();
  });

  it('when the request itself is wrong, with the API message', async () => {
    fake().on('GET /search/text', () => ({
      status: 400,
      json: { error: 'bad_request', message: 'q must be at most 1000 characters' },
    }));
    render(<App defaultK={10} />);
    await searchFor('x');
    expect((await screen.findByRole('alert')).textContent).toContain('q must be at most 1000 characters');
  });
});

describe('runtime info and the synthetic warning', () => {
  it('shows /meta in the Runtime info panel', async () => {
    render(<App defaultK={10} />);
    const summary = screen.getByText('Runtime info');
    await userEvent.click(summary);
    await waitFor(() => expect(screen.getByText('Documents').nextElementSibling?.textContent).toBe('1,234'));
    expect(screen.getByText('Model').nextElementSibling?.textContent).toBe('tiny/synthetic');
  });

  it('shows a warning banner when the model is synthetic', async () => {
    fake().on('GET /meta', () => ({ json: { ...META, synthetic: true } }));
    render(<App defaultK={10} />);
    expect((await screen.findByRole('alert')).textContent).toMatch(/matches colours, not meaning/);
  });
});

describe('lightbox and more like this', () => {
  it('opens a result and searches for pictures like it, shareable in the URL', async () => {
    render(<App defaultK={4} />);
    await searchFor('red');
    await userEvent.click(await screen.findByRole('button', { name: /pic-2\.png, score/ }));
    const dialog = screen.getByRole('dialog', { hidden: true });
    expect(within(dialog).getByText('640 × 480 px')).toBeTruthy();
    await userEvent.click(within(dialog).getByRole('button', { name: 'More like this', hidden: true }));
    await waitFor(() => expect(fake().callsTo('GET /search/similar/id2')).toHaveLength(1));
    expect(fake().callsTo('GET /search/similar/id2')[0].query.get('k')).toBe('4');
    expect(window.location.search).toBe('?similar=id2&k=4');
    expect(await screen.findByText('pic-2.png', { selector: 'strong' })).toBeTruthy();
  });
});

describe('keyboard use', () => {
  it('goes from the prompt to a result and back to it after closing the lightbox', async () => {
    render(<App defaultK={3} />);
    await searchFor('red');
    const card = await screen.findByRole('button', { name: /pic-3\.png, score/ });
    card.focus();
    await userEvent.keyboard('{Enter}');
    const dialog = screen.getByRole('dialog', { hidden: true });
    expect(dialog.hasAttribute('open')).toBe(true);
    await userEvent.click(within(dialog).getByRole('button', { name: 'Close', hidden: true }));
    expect(dialog.hasAttribute('open')).toBe(false);
    expect(document.activeElement).toBe(card);
  });
});

describe('search by picture', () => {
  const png = () => new File([new Uint8Array([137, 80, 78, 71])], 'blue.png', { type: 'image/png' });

  it('uploads a chosen file as multipart "file" with k', async () => {
    render(<App defaultK={8} />);
    await userEvent.upload(screen.getByLabelText('Choose a picture to search with'), png());
    await waitFor(() => expect(screen.getAllByRole('listitem')).toHaveLength(8));
    const call = fake().callsTo('POST /search/image')[0];
    expect(call.query.get('k')).toBe('8');
    const sent = (call.body as FormData).get('file') as File;
    expect(sent.name).toBe('blue.png');
    expect(sent.size).toBe(4);
    expect(screen.getByText('blue.png', { selector: 'strong' })).toBeTruthy();
  });

  it('searches with a picture dropped on the page', async () => {
    render(<App defaultK={3} />);
    const file = png();
    const drop = new Event('drop', { bubbles: true, cancelable: true });
    Object.defineProperty(drop, 'dataTransfer', { value: { types: ['Files'], files: [file] } });
    await act(async () => {
      window.dispatchEvent(drop);
    });
    expect(drop.defaultPrevented).toBe(true);
    await waitFor(() => expect(fake().callsTo('POST /search/image')).toHaveLength(1));
    expect(((fake().callsTo('POST /search/image')[0].body as FormData).get('file') as File).name).toBe('blue.png');
  });

  it('searches with a pasted picture', async () => {
    render(<App defaultK={3} />);
    const paste = new Event('paste', { bubbles: true, cancelable: true });
    Object.defineProperty(paste, 'clipboardData', { value: { files: [png()] } });
    await act(async () => {
      window.dispatchEvent(paste);
    });
    await waitFor(() => expect(fake().callsTo('POST /search/image')).toHaveLength(1));
  });

  it('says what to do when the picture is refused', async () => {
    fake().on('POST /search/image', () => ({
      status: 415,
      json: { error: 'unsupported_media_type', message: 'the file is not a picture this server can read' },
    }));
    render(<App defaultK={3} />);
    await userEvent.upload(screen.getByLabelText('Choose a picture to search with'), png());
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain('the file is not a picture this server can read');
    expect(alert.textContent).toContain('Choose a JPEG, PNG');
  });
});
