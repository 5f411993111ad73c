// The API with a stand-in model (fixed vectors) and an Elasticsearch address nothing answers on: enough for
// validation, file serving and "Elasticsearch is down" behaviour without a cluster or a model file.
import { type ModelManifest, preprocessImage, preprocessOptionsFor } from '@image-search/clip';
import { loadSearchApiConfig } from '@image-search/config';
import { createLogger } from '@image-search/log';
import { createClient } from '@image-search/search-index';
import type { QueryModel } from '../src/query-embedder.ts';
import { buildServer, type SearchApi } from '../src/server.ts';

export const STUB_MANIFEST: ModelManifest = {
  name: 'stub',
  pretrained: 'test',
  embedDim: 4,
  imageSize: 8,
  mean: [0.5, 0.5, 0.5],
  std: [0.5, 0.5, 0.5],
  interpolation: 'bicubic',
  resizeMode: 'shortest',
  contextLength: 77,
  dynamicTextLength: true,
  files: { visual: 'visual.onnx', textual: 'textual.onnx', vocab: 'bpe_simple_vocab_16e6.txt.gz' },
  synthetic: true,
};

export interface StubModel extends QueryModel {
  textCalls: string[][];
  /** Resolves the model runs waiting on it (to hold runs open in queue tests). */
  gate: { wait: Promise<void> | null };
}

export function stubModel(): StubModel {
  const model: StubModel = {
    dir: '/models/stub',
    manifest: STUB_MANIFEST,
    provider: 'cpu',
    textCalls: [],
    gate: { wait: null },
    text: {
      async embed(texts) {
        model.textCalls.push(texts);
        if (model.gate.wait) await model.gate.wait;
        return texts.map(() => new Float32Array([1, 0, 0, 0]));
      },
    },
    image: {
      embed: async (batch) => batch.map(() => new Float32Array([0, 1, 0, 0])),
      // Decodes for real, as the worker does, so an upload meets sharp's own errors and limits.
      async embedPicture(bytes, maxPixels) {
        await preprocessImage(bytes, { ...preprocessOptionsFor(STUB_MANIFEST), maxPixels });
        return { vector: new Float32Array([0, 1, 0, 0]), decodeMs: 0 };
      },
    },
    close: async () => {},
  };
  return model;
}

/** Port 9 (discard) on loopback: connection refused, answered at once. */
export const DEAD_ES = 'http://127.0.0.1:9';

export async function startStubServer(env: Record<string, string> = {}, model = stubModel()) {
  const config = loadSearchApiConfig({ ES_HOST: DEAD_ES, ES_INDEX: 'stub', LOG_LEVEL: 'ERROR', ...env });
  const es = createClient({ ES_HOST: DEAD_ES });
  const logger = createLogger('search-api', { level: config.LOG_LEVEL });
  const api: SearchApi = await buildServer({ config, model, es, logger });
  await api.app.listen({ host: '127.0.0.1', port: 0 });
  const address = api.app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    api,
    model,
    base: `http://127.0.0.1:${port}`,
    async close() {
      await api.app.close();
      await es.close();
    },
  };
}
