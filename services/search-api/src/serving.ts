// Which model answers queries, and against which index: the model that built the index the alias points at. When the
// alias moves to an index of another model, that model is loaded in the background while the old pair keeps
// answering, then the pair is swapped in one assignment — a query never meets vectors of another model.
import path from 'node:path';
import { exportHash, readManifest } from '@image-search/clip';
import type { Logger } from '@image-search/log';
import { type Client, type Filling, fillingIndex, type IndexModel, servingIndex } from '@image-search/search-index';
import type { QueryModel } from './query-embedder.ts';

export interface Serving {
  /** What searches address: the concrete index of `model` (never the alias, which may point at the next one). */
  index: string;
  model: QueryModel;
}

/** What the routes need: the pair answering now, why there is none, and a new index being filled. */
export interface ModelServing {
  current(): Serving | null;
  whyNot(): string;
  reindexing(): Promise<Filling | null>;
}

/** One model against the alias, whatever it holds (tests, and a server built around a model of its own). */
export function fixedServing(model: QueryModel, alias: string): ModelServing {
  const serving = { index: alias, model };
  return { current: () => serving, whyNot: () => '', reindexing: async () => null };
}

export interface ServingModelsOptions {
  es: Client;
  alias: string;
  /** Folders to look in when the one the index records is not there (<MODELS_DIR>/<name>-<pretrained>). */
  modelDirs(m: IndexModel): string[];
  load(dir: string): Promise<QueryModel>;
  logger?: Logger;
  /** A model being replaced is closed this long after the swap, when the queries that took it have finished. */
  retireAfterMs?: number;
}

/** Longer than any query can take (the Elasticsearch timeout is 10 s). */
const RETIRE_AFTER_MS = 30_000;

function sameModel(a: IndexModel, b: IndexModel): boolean {
  return (
    a.name === b.name &&
    a.pretrained === b.pretrained &&
    a.dims === b.dims &&
    (a.exportHash === null || b.exportHash === null || a.exportHash === b.exportHash)
  );
}

export class ServingModels implements ModelServing {
  private serving: (Serving & { source: IndexModel }) | null = null;
  private problem = 'starting: looking for the index';
  /** The last missing export logged, so it is logged once and not at every look. */
  private reported = '';
  private readonly retiring = new Set<QueryModel>();
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly opts: ServingModelsOptions) {}

  current(): Serving | null {
    return this.serving;
  }

  whyNot(): string {
    return this.problem;
  }

  reindexing(): Promise<Filling | null> {
    return fillingIndex(this.opts.es, this.opts.alias, this.serving?.index ?? null);
  }

  /** One look at the alias: follows it to a new index, loading that index's model first when it is another one. */
  async refresh(): Promise<void> {
    const target = await servingIndex(this.opts.es, this.opts.alias);
    const now = this.serving;
    if (!target) {
      if (!now) this.problem = `index: ${this.opts.alias} does not exist yet (the embedder creates it when it starts)`;
      return;
    }
    if (now?.index === target.index) return;
    if (now && sameModel(now.source, target)) {
      this.serving = { ...now, index: target.index, source: target };
      this.opts.logger?.info({ index: target.index }, 'the alias moved to an index of the same model: searching it');
      return;
    }
    const dir = await this.findExport(target);
    if (!dir) return;
    const t0 = performance.now();
    if (!now) this.problem = `model: loading ${target.name}/${target.pretrained} for ${target.index}`;
    let model: QueryModel;
    try {
      model = await this.opts.load(dir);
    } catch (err) {
      // A model folder ONNX Runtime refuses, DEVICE=cuda without CUDA: said once, kept for /readyz, tried again later.
      this.report(`model: could not load ${dir} for ${target.index}: ${(err as Error).message}`);
      return;
    }
    if (this.closed) {
      await model.close();
      return;
    }
    this.serving = { index: target.index, model, source: target };
    this.problem = '';
    this.opts.logger?.info(
      {
        index: target.index,
        model: `${target.name}/${target.pretrained}`,
        dir,
        ms: Math.round(performance.now() - t0),
      },
      now ? 'the alias moved to a new model: loaded it and switched searches over' : 'model loaded and warmed up',
    );
    if (now) this.retire(now.model);
  }

  /** Refreshes now and then every `everyMs` until closed; a failed look is logged and retried. */
  start(everyMs: number): void {
    const tick = async () => {
      try {
        await this.refresh();
      } catch (err) {
        this.opts.logger?.warn({ err: (err as Error).message }, 'could not check which index the alias serves');
      }
      if (!this.closed) this.timer = setTimeout(tick, everyMs);
    };
    void tick();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    const models = [...this.retiring, ...(this.serving ? [this.serving.model] : [])];
    this.serving = null;
    await Promise.all(models.map((m) => m.close()));
  }

  /** The folder holding the export the index was built with; null (and the reason kept for /readyz) when none does. */
  private async findExport(target: IndexModel): Promise<string | null> {
    const dirs = [...new Set([target.dir, ...this.opts.modelDirs(target)].filter((d): d is string => !!d))];
    for (const dir of dirs) {
      const manifest = await readManifest(dir).catch(() => null);
      if (manifest?.name !== target.name || manifest.pretrained !== target.pretrained) continue;
      if (manifest.embedDim !== target.dims) continue;
      if (target.exportHash && (await exportHash(dir)) !== target.exportHash) continue;
      return path.resolve(dir);
    }
    const why =
      `model: ${target.index} was built with ${target.name}/${target.pretrained}` +
      `${target.exportHash ? ` (export ${target.exportHash})` : ''}, which is in none of ${dirs.join(', ')}`;
    this.report(why);
    return null;
  }

  /** Why the alias's index cannot be served (yet): logged once, and the answer of /readyz while nothing serves. */
  private report(why: string): void {
    if (why !== this.reported) this.opts.logger?.error(why);
    this.reported = why;
    if (!this.serving) this.problem = why;
  }

  private retire(model: QueryModel): void {
    if (model === this.serving?.model) return;
    this.retiring.add(model);
    setTimeout(() => {
      this.retiring.delete(model);
      void model.close();
    }, this.opts.retireAfterMs ?? RETIRE_AFTER_MS).unref();
  }
}
