// GET /meta (what is serving: model, index, cluster, a re-indexing under way), /healthz (the process is alive) and
// /readyz (it can answer searches: Elasticsearch reachable, index present and matching the model, model loaded).
import { errorSchema, healthSchema, type Meta, metaSchema, type Ready, readySchema } from '@image-search/api-contract';
import type { ExportVersions } from '@image-search/clip';
import { EsUnavailableError, indexInfo } from '@image-search/search-index';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { ApiContext } from '../context.ts';
import { strongMatchScore } from '../strong-match.ts';

export function modelName(m: { name: string; pretrained: string }): string {
  return m.pretrained ? `${m.name}/${m.pretrained}` : m.name;
}

function exportedWith(v: ExportVersions | undefined): Meta['exported_with'] {
  return v ? { torch: v.torch, open_clip: v.openClip, onnx: v.onnx } : null;
}

export async function metaRoutes(fastify: FastifyInstance, ctx: ApiContext & { isModelReady(): boolean }) {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const { config, es } = ctx;

  app.get(
    '/meta',
    {
      schema: {
        tags: ['meta'],
        summary: 'The model, index and cluster behind this API',
        response: { 200: metaSchema, 503: errorSchema.describe('Elasticsearch is unreachable.') },
      },
    },
    async (): Promise<Meta> => {
      const { index, model } = ctx.servingNow();
      const [info, filling, queue] = await Promise.all([
        indexInfo(es, index),
        ctx.serving.reindexing(),
        ctx.queueCounts(),
      ]);
      return {
        model_name: modelName(model.manifest),
        vector_dim: model.manifest.embedDim,
        device: config.DEVICE,
        es_version: info.esVersion,
        es_index: config.ES_INDEX,
        doc_count: info.docCount,
        hnsw_m: info.hnswM ?? (info.concreteIndex ? null : config.HNSW_M),
        hnsw_ef: info.hnswEf ?? (info.concreteIndex ? null : config.HNSW_EF),
        cluster: info.clusterName,
        model_dir: model.dir,
        synthetic: model.manifest.synthetic,
        exported_with: exportedWith(model.manifest.exportedWith),
        concrete_index: info.concreteIndex,
        provider: model.provider,
        cluster_status: info.clusterStatus,
        reindexing: filling && {
          model: modelName(filling.model),
          done: filling.done,
          total: filling.total,
        },
        strong_match_score: strongMatchScore(modelName(model.manifest), model.manifest.synthetic),
        max_k: config.MAX_K,
        work_queue: queue,
      };
    },
  );

  app.get(
    '/healthz',
    { schema: { tags: ['meta'], summary: 'The process is alive', response: { 200: healthSchema } } },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/readyz',
    {
      schema: {
        tags: ['meta'],
        summary: 'Ready to answer searches',
        response: { 200: readySchema, 503: readySchema.describe('Not ready; `missing` says why.') },
      },
    },
    async (_request, reply): Promise<Ready> => {
      const missing: string[] = [];
      const now = ctx.serving.current();
      const checks = { elasticsearch: false, index: false, model: ctx.isModelReady() && now !== null };
      if (!checks.model) missing.push(now ? 'model: not loaded' : ctx.serving.whyNot());
      try {
        const info = await indexInfo(es, now?.index ?? config.ES_INDEX);
        checks.elasticsearch = true;
        if (!info.concreteIndex) {
          missing.push(`index: ${config.ES_INDEX} does not exist yet (run the embedder)`);
        } else if (now && info.dims !== null && info.dims !== now.model.manifest.embedDim) {
          missing.push(
            `index: ${info.concreteIndex} holds ${info.dims}-dim vectors but the model gives ${now.model.manifest.embedDim}`,
          );
        } else {
          checks.index = true;
        }
      } catch (err) {
        if (!(err instanceof EsUnavailableError)) throw err;
        missing.push(`elasticsearch: ${config.ES_HOST} is unreachable`);
      }
      const ready = missing.length === 0;
      if (!ready) reply.code(503).header('Retry-After', '5');
      return { status: ready ? 'ready' : 'not_ready', checks, missing };
    },
  );
}
