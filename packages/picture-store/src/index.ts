// What the downloader and the embedder (and search-api's upload check) agree on about stored pictures: how a picture
// file is named, which image types are accepted and how they are told from their bytes, the record journal's format,
// and the source (URL and time) of a stored picture.
export {
  detectImage,
  IMAGE_EXTENSIONS,
  IMAGE_TYPES,
  type ImageFormat,
  type ImageType,
  mimeOf,
  SNIFF_BYTES,
} from './image-type.ts';
export {
  formatRecord,
  JOURNAL_VERSION,
  type PictureRecord,
  parseRecord,
  type RecordFields,
  readJournalLines,
} from './journal.ts';
export {
  journalFile,
  type Key64,
  type PictureKey,
  parsePictureName,
  pictureFileName,
  pictureKey,
  STATE_DIR,
  stateDir,
  stemKey,
} from './naming.ts';
export { type PictureSource, readSource, SourceUrls } from './source-urls.ts';
