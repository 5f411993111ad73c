// @image-search/clip: OpenCLIP models in TypeScript — model folders, tokenizer, preprocessing, ONNX encoders.
export { MANIFEST_FILE, ModelDirError, type ModelManifest, parseManifest, readManifest } from './manifest.ts';
