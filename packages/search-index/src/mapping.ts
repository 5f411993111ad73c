// What an image index looks like: its name, settings, mapping and _meta, as pure functions of the IndexSpec.
import { createHash } from 'node:crypto';
import type { VectorIndexType } from '@image-search/config';

export interface IndexSpec {
  /** ES_INDEX: the alias that users and the API address. */
  alias: string;
  /** e.g. 'RN50/openai'. */
  model: string;
  dims: number;
  hnswM: number;
  hnswEf: number;
  vectorIndexType: VectorIndexType;
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
  /** What the picture carries besides its vector (see PictureFacts); absent on documents indexed before them. */
  facts_version?: number;
  /** EXIF DateTimeOriginal (camera local time, read as UTC), when the bytes have it. */
  taken_at?: string | null;
  /** When the picture arrived: the downloader's record, else the file's modification time. */
  added_at?: string | null;
  /** taken_at, else added_at: what "newest" and the year facet go by. */
  dated_at?: string | null;
  source_host?: string | null;
  /** The folder relative to IMAGES_DIR, '/'-separated, '' at the top. */
  folder?: string;
  /** jpeg, png, webp, gif, tiff, avif. */
  format?: string;
  orientation?: Orientation;
  /** EXIF/IPTC/XMP keywords. */
  keywords?: string[];
  /** EXIF/IPTC/XMP description. */
  description?: string | null;
}

export type Orientation = 'landscape' | 'portrait' | 'square';

/** The fields a metadata back-fill sets on a document indexed before them. */
export type PictureFacts = Required<
  Pick<
    ImageDoc,
    | 'facts_version'
    | 'taken_at'
    | 'added_at'
    | 'dated_at'
    | 'source_host'
    | 'folder'
    | 'file_name'
    | 'format'
    | 'orientation'
    | 'width'
    | 'height'
    | 'bytes'
    | 'keywords'
    | 'description'
  >
>;

/**
 * Bumped when the embedder learns to read more about a picture: documents with an older (or no) facts_version get the
 * facts again in a back-fill, without their vectors being touched. Adding fields never needs a new index.
 */
export const FACTS_VERSION = 1;

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

/** File names, folders and hosts are searched as words too, with the standard analyzer ("IMG_2041.JPG" → img_2041, jpg). */
const WORDS = { type: 'text' as const };

/** Fields added after the first indices were made: put on existing indices in place (see ensureModelIndex). */
export const FACT_FIELDS = {
  facts_version: { type: 'integer' as const },
  taken_at: { type: 'date' as const },
  added_at: { type: 'date' as const },
  dated_at: { type: 'date' as const },
  source_host: { type: 'keyword' as const, fields: { text: WORDS } },
  folder: { type: 'keyword' as const, fields: { text: WORDS } },
  format: { type: 'keyword' as const },
  orientation: { type: 'keyword' as const },
  keywords: { type: 'text' as const },
  description: { type: 'text' as const },
  file_name: { type: 'keyword' as const, fields: { text: WORDS } },
};

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
          index_options: vectorIndexOptions(spec),
        },
        source_url: { type: 'keyword' as const, ignore_above: 4096 },
        width: { type: 'integer' as const },
        height: { type: 'integer' as const },
        bytes: { type: 'long' as const },
        content_type: { type: 'keyword' as const },
        model: { type: 'keyword' as const },
        indexed_at: { type: 'date' as const },
        thumbnail: { type: 'keyword' as const, index: false },
        ...FACT_FIELDS,
      },
    },
  };
}

/** The dense_vector's index_options: the graph settings for HNSW types; flat types take none. */
export function vectorIndexOptions(spec: IndexSpec) {
  const type = spec.vectorIndexType;
  return type.endsWith('flat') ? { type } : { type, m: spec.hnswM, ef_construction: spec.hnswEf };
}

/** int8, int4 and BBQ types keep quantised vectors in the graph; only they gain from rescoring with the floats. */
export function isQuantized(type: VectorIndexType): boolean {
  return type !== 'hnsw' && type !== 'flat';
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
