// @image-search/clip: OpenCLIP models in TypeScript — model folders, tokenizer, preprocessing, ONNX encoders.
export { type ClipModel, type LoadModelOptions, loadModel } from './encoders.ts';
export { exportHash } from './export-hash.ts';
export {
  type ExportVersions,
  MANIFEST_FILE,
  ModelDirError,
  type ModelManifest,
  parseManifest,
  readManifest,
} from './manifest.ts';
export {
  DEFAULT_MAX_PIXELS,
  ImageDecodeError,
  type ImageDecodeErrorCode,
  type Preprocessed,
  type PreprocessOptions,
  preprocessImage,
  preprocessOptionsFor,
} from './preprocess.ts';
export {
  checkReference,
  ModelReferenceError,
  REFERENCE_MIN_COSINE,
  type ReferenceReport,
} from './reference.ts';
export { type Device, DeviceUnavailableError, type Provider } from './session.ts';
export {
  DEFAULT_SEED,
  ensureSyntheticModel,
  makeSyntheticModel,
  SYNTHETIC_ARCHS,
  type SyntheticArch,
} from './synthetic/make.ts';
export { uniformSource } from './synthetic/random.ts';
export { TINY_COLOURS } from './synthetic/tiny.ts';
export { CONTEXT_LENGTH, END_TOKEN, START_TOKEN, Tokenizer } from './tokenizer.ts';
