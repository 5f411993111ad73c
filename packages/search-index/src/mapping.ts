// What an image index looks like: its name, settings, mapping and _meta, as pure functions of the IndexSpec.
import { createHash } from 'node:crypto';

export interface IndexSpec {
  /** ES_INDEX: the alias that users and the API address. */
  alias: string;
  /** e.g. 'RN50/openai'. */
  model: string;
  dims: number;
  hnswM: number;
  hnswEf: number;
  vectorIndexType: 'hnsw' | 'int8_hnsw';
  shards: number;
  replicas: number;
  /** The export the vectors come from, recorded in _meta so the API can load the same towers (see index-model.ts). */
  source?: ModelSource;
}

export interface ModelSource {
  name: string;
  pretrained: string;
  /** The model folder as the embedder saw it (the models volume is mounted at the same path in every service). */
  dir: string;
  exportHash: string;
}

export interface ImageDoc {
  /** The file's path relative to IMAGES_DIR, '/'-separated (the API serves it as /images/<path>). */
  path: string;
  vector: number[];
  file_name: string;
  source_url?: string | null;
  width: number;
  height: number;
  bytes: number;
  content_type: string;
  model: string;
  indexed_at: string;
  thumbnail?: string | null;
}

/** Bumped whenever the mapping below changes in a way that needs a new index. */
export const MAPPING_VERSION = 1;

/**
 * dot_product rather than cosine: CLIP compares embeddings by cosine, and our encoders already return unit-length
 * vectors, so the dot product IS the cosine — while Lucene can skip normalising on every comparison. dot_product
 * requires unit-length vectors (Elasticsearch rejects others), so this package re-normalises every vector it sends
 * (see toUnitVector). The _score is (1 + dot) / 2, exactly the cosine-based 0..1 score the API promises.
 */
export const SIMILARITY = 'dot_product' as const;

/** Lower-case name part from a model name: 'RN50/openai' → 'rn50-openai'. */
export function modelSlug(model: string): string {
  const slug = model
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return slug || 'model';
}

/** The settings that, when changed, need a fresh index (replicas can change in place, so they are not here). */
function fingerprint(spec: IndexSpec): string {
  const key = JSON.stringify({
    v: MAPPING_VERSION,
    model: spec.model,
    dims: spec.dims,
    similarity: SIMILARITY,
    type: spec.vectorIndexType,
    m: spec.hnswM,
    ef: spec.hnswEf,
    shards: spec.shards,
  });
  return createHash('sha256').update(key).digest('hex').slice(0, 8);
}

/** `<alias>-<model slug>-<8 hex of the mapping settings>`, e.g. images-rn50-openai-1a2b3c4d. */
export function concreteIndexName(spec: IndexSpec): string {
  return `${spec.alias}-${modelSlug(spec.model)}-${fingerprint(spec)}`;
}

export interface IndexMeta {
  model: string;
  dims: number;
  created_at: string;
  mapping_version: number;
  similarity: string;
  vector_index_type: string;
  hnsw_m: number;
  hnsw_ef: number;
  /** Indices made before these were recorded have only `model` ('name/pretrained'). */
  model_name?: string;
  pretrained?: string;
  model_dir?: string;
  export_hash?: string;
  /** Written now and then by an embedder filling this index while the alias still points at another one. */
  filling?: { done: number; total: number; at: string };
}

export function indexBody(spec: IndexSpec, createdAt: Date = new Date()) {
  const meta: IndexMeta = {
    model: spec.model,
    dims: spec.dims,
    created_at: createdAt.toISOString(),
    mapping_version: MAPPING_VERSION,
    similarity: SIMILARITY,
    vector_index_type: spec.vectorIndexType,
    hnsw_m: spec.hnswM,
    hnsw_ef: spec.hnswEf,
    ...(spec.source && {
      model_name: spec.source.name,
      pretrained: spec.source.pretrained,
      model_dir: spec.source.dir,
      export_hash: spec.source.exportHash,
    }),
  };
  return {
    settings: { number_of_shards: spec.shards, number_of_replicas: spec.replicas },
    mappings: {
      // Unknown fields are kept in _source but not indexed, so a newer writer cannot break an older index.
      dynamic: false as const,
      _meta: meta as unknown as Record<string, unknown>,
      properties: {
        path: { type: 'keyword' as const },
        vector: {
          type: 'dense_vector' as const,
          dims: spec.dims,
          index: true,
          similarity: SIMILARITY,
          index_options: { type: spec.vectorIndexType, m: spec.hnswM, ef_construction: spec.hnswEf },
        },
        file_name: { type: 'keyword' as const },
        source_url: { type: 'keyword' as const, ignore_above: 4096 },
        width: { type: 'integer' as const },
        height: { type: 'integer' as const },
        bytes: { type: 'long' as const },
        content_type: { type: 'keyword' as const },
        model: { type: 'keyword' as const },
        indexed_at: { type: 'date' as const },
        thumbnail: { type: 'keyword' as const, index: false },
      },
    },
  };
}

/**
 * Unit length, as a plain array for JSON, each value rounded to 9 significant digits (float32's precision, which is
 * all Elasticsearch stores) to keep request bodies short. A zero vector stays zero (ES will reject it loudly).
 */
export function toUnitVector(v: ArrayLike<number>): number[] {
  let sum = 0;
  for (let i = 0; i < v.length; i++) sum += v[i] * v[i];
  const norm = Math.sqrt(sum);
  const out = new Array<number>(v.length);
  for (let i = 0; i < v.length; i++) out[i] = norm > 0 ? Number((v[i] / norm).toPrecision(9)) : 0;
  return out;
}
