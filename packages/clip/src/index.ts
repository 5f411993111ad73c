// @image-search/clip: OpenCLIP models in TypeScript — model folders, tokenizer, preprocessing, ONNX encoders.
export { type ClipModel, type LoadModelOptions, loadModel } from './encoders.ts';
export { MANIFEST_FILE, ModelDirError, type ModelManifest, parseManifest, readManifest } from './manifest.ts';
export { type Device, DeviceUnavailableError, type Provider } from './session.ts';
export {
  DEFAULT_SEED,
  ensureSyntheticModel,
  makeSyntheticModel,
  SYNTHETIC_ARCHS,
  type SyntheticArch,
} from './synthetic/make.ts';
export { TINY_COLOURS } from './synthetic/tiny.ts';
export { END_TOKEN, START_TOKEN, Tokenizer } from './tokenizer.ts';
