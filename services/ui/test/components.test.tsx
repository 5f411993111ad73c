import { cleanup, fireEvent, render, screen, within } from '@testing-library/react';
import { userEvent } from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Lightbox } from '../src/components/Lightbox.tsx';
import { EmptyNotice, QueueProgress, ReindexingBanner, SyntheticBanner } from '../src/components/Notices.tsx';
import { ResultGrid } from '../src/components/ResultGrid.tsx';
import { RuntimeInfo } from '../src/components/RuntimeInfo.tsx';
import { SearchForm } from '../src/components/SearchForm.tsx';
import { hit, hits, META } from './fake-api.ts';

afterEach(cleanup);

function renderForm(overrides: Partial<Parameters<typeof SearchForm>[0]> = {}) {
  const props = {
    text: '',
    k: 10,
    busy: false,
    onTextChange: vi.fn(),
    onKChange: vi.fn(),
    onSearch: vi.fn(),
    onPicture: vi.fn(),
    ...overrides,
  };
  render(<SearchForm {...props} />);
  return props;
}

describe('SearchForm', () => {
  it('has the prompt with its placeholder and searches on Enter with the trimmed text and k', async () => {
    const props = renderForm({ text: '  red car ', k: 7 });
    const prompt = screen.getByRole('searchbox', { name: /describe the pictures/i });
    expect(prompt.getAttribute('placeholder')).toBe('sunset over mountains');
    await userEvent.type(prompt, '{Enter}');
    expect(props.onSearch).toHaveBeenCalledWith('red car', 7);
  });

  it('searches with the Search button and not while the prompt is empty', async () => {
    const props = renderForm({ text: '' });
    const button = screen.getByRole('button', { name: 'Search' });
    expect((button as HTMLButtonElement).disabled).toBe(true);
    cleanup();
    const filled = renderForm({ text: 'dog' });
    await userEvent.click(screen.getByRole('button', { name: 'Search' }));
    expect(filled.onSearch).toHaveBeenCalledWith('dog', 10);
    expect(props.onSearch).not.toHaveBeenCalled();
  });

  it('has a labelled "How many images" slider from 1 to 20 showing its value', () => {
    const props = renderForm({ k: 12 });
    const slider = screen.getByRole('slider', { name: 'How many images' }) as HTMLInputElement;
    expect([slider.min, slider.max, slider.value]).toEqual(['1', '20', '12']);
    expect(screen.getByText('12').tagName).toBe('OUTPUT');
    fireEvent.change(slider, { target: { value: '4' } });
    expect(props.onKChange).toHaveBeenCalledWith(4);
  });

  it('passes a chosen picture on', async () => {
    const props = renderForm();
    const file = new File([new Uint8Array([1, 2, 3])], 'blue.png', { type: 'image/png' });
    await userEvent.upload(screen.getByLabelText('Choose a picture to search with'), file);
    expect(props.onPicture).toHaveBeenCalledWith(file);
  });
});

describe('ResultGrid', () => {
  it('shows every result as a thumbnail named by its file, with its score to three decimals', () => {
    render(<ResultGrid hits={hits(4)} stale={false} onOpen={() => {}} />);
    const images = screen.getAllByRole('img');
    expect(images).toHaveLength(4);
    expect(images[0].getAttribute('alt')).toBe('pic-1.png');
    expect(images[0].getAttribute('src')).toBe('/api/thumbnails/id1.webp');
    expect(screen.getByText((0.9 - 0.01234).toFixed(3))).toBeTruthy();
    for (const s of screen.getAllByTitle('Similarity score')) expect(s.textContent).toMatch(/^\d\.\d{3}$/);
  });

  it('falls back to the full picture when a hit has no thumbnail', () => {
    render(<ResultGrid hits={[hit(1, { thumbnail_url: null })]} stale={false} onOpen={() => {}} />);
    expect(screen.getByRole('img').getAttribute('src')).toBe('/api/images/pic-1.png');
  });

  it('shows the full picture when a thumbnail cannot be loaded', () => {
    render(<ResultGrid hits={[hit(1)]} stale={false} onOpen={() => {}} />);
    const img = screen.getByRole('img');
    fireEvent.error(img);
    expect(img.getAttribute('src')).toBe('/api/images/pic-1.png');
  });

  it('opens a result from the keyboard', async () => {
    const onOpen = vi.fn();
    render(<ResultGrid hits={hits(3)} stale={false} onOpen={onOpen} />);
    const second = screen.getByRole('button', { name: /pic-2\.png/ });
    second.focus();
    await userEvent.keyboard('{Enter}');
    expect(onOpen).toHaveBeenCalledWith(1);
  });
});

describe('Lightbox', () => {
  it('shows the full picture, its size and source, and asks for more like it', async () => {
    const onMore = vi.fn();
    const list = hits(3);
    render(<Lightbox hits={list} index={1} onIndexChange={() => {}} onMoreLikeThis={onMore} />);
    const dialog = screen.getByRole('dialog', { hidden: true });
    const img = within(dialog).getByAltText('pic-2.png');
    expect(img.getAttribute('src')).toBe('/api/images/pic-2.png');
    expect(within(dialog).getByText('640 × 480 px')).toBeTruthy();
    expect(within(dialog).getByRole('link', { name: 'https://example.com/pic-2.png', hidden: true })).toBeTruthy();
    await userEvent.click(within(dialog).getByRole('button', { name: 'More like this', hidden: true }));
    expect(onMore).toHaveBeenCalledWith(list[1]);
  });

  it('steps with the arrow keys and closes', async () => {
    const onIndex = vi.fn();
    render(<Lightbox hits={hits(3)} index={2} onIndexChange={onIndex} onMoreLikeThis={() => {}} />);
    const dialog = screen.getByRole('dialog', { hidden: true });
    fireEvent.keyDown(dialog, { key: 'ArrowRight' });
    expect(onIndex).toHaveBeenLastCalledWith(0);
    fireEvent.keyDown(dialog, { key: 'ArrowLeft' });
    expect(onIndex).toHaveBeenLastCalledWith(1);
    await userEvent.click(within(dialog).getByRole('button', { name: 'Close', hidden: true }));
    expect(onIndex).toHaveBeenLastCalledWith(null);
  });
});

describe('RuntimeInfo', () => {
  it('lists model, dimension, device, index, documents, Elasticsearch, cluster and HNSW settings', () => {
    render(<RuntimeInfo meta={META} error={null} onOpen={() => {}} />);
    expect(screen.getByText('Runtime info').tagName).toBe('SUMMARY');
    const value = (label: string) => screen.getByText(label).nextElementSibling?.textContent;
    expect(value('Model')).toBe('tiny/synthetic');
    expect(value('Dimension')).toBe('64');
    expect(value('Device')).toBe('cpu');
    expect(value('Index')).toBe('images → images-tiny-v1');
    expect(value('Documents')).toBe('1,234');
    expect(value('Elasticsearch')).toBe('8.19.2');
    expect(value('Cluster')).toBe('image-search (green)');
    expect(value('HNSW m')).toBe('16');
    expect(value('HNSW ef')).toBe('512');
  });

  it('says why it has nothing to show', () => {
    render(<RuntimeInfo meta={null} error="The search API is down." onOpen={() => {}} />);
    expect(screen.getByText('The search API is down.')).toBeTruthy();
  });
});

describe('notices', () => {
  it('warns when the model is synthetic, and only then', () => {
    const { rerender } = render(<SyntheticBanner meta={{ ...META, synthetic: true }} />);
    expect(screen.getByRole('alert').textContent).toMatch(/synthetic model/);
    rerender(<SyntheticBanner meta={META} />);
    expect(screen.queryByRole('alert')).toBeNull();
  });

  it('says a model switch is under way, for which model and how far, and only then', () => {
    const reindexing = { model: 'ViT-B-32/laion2b_s34b_b79k', done: 1200, total: 5000 };
    const { rerender } = render(<ReindexingBanner meta={{ ...META, model_name: 'RN50/openai', reindexing }} />);
    expect(screen.getByRole('status').textContent).toMatch(
      /^Re-indexing for ViT-B-32\/laion2b_s34b_b79k: 1,200 of 5,000\. Searches use RN50\/openai until/,
    );
    rerender(<ReindexingBanner meta={META} />);
    expect(screen.queryByRole('status')).toBeNull();
  });

  it('shows indexed, queued and failed pictures in one line when there is a work queue, and only then', () => {
    const { rerender } = render(<QueueProgress meta={{ ...META, work_queue: { queued: 5600, failed: 2 } }} />);
    expect(screen.getByRole('status').textContent).toBe('1,234 indexed · 5,600 queued · 2 failed');
    rerender(<QueueProgress meta={META} />);
    expect(screen.queryByRole('status')).toBeNull();
  });

  it('says the index is empty and how many pictures there are so far', () => {
    render(<EmptyNotice docCount={0} />);
    expect(screen.getByText('Nothing indexed yet — 0 pictures so far.')).toBeTruthy();
  });
});
