// Uploaded query pictures: the type comes from the bytes, never from the name or the claimed Content-Type, and
// decoding is bounded by MAX_IMAGE_PIXELS so a small file that inflates to gigapixels is refused before it is decoded.
import { ImageDecodeError } from '@image-search/clip';
import { type ApiError, badRequest, tooLarge, unsupportedMedia } from './errors.ts';

export type SniffedType = 'jpeg' | 'png' | 'gif' | 'webp' | 'avif' | 'heif' | 'tiff';

const ascii = (buf: Buffer, start: number, end: number) => buf.subarray(start, end).toString('latin1');

/** The picture format by its magic bytes; null for anything that is not a raster format we decode. */
export function sniffImageType(buf: Buffer): SniffedType | null {
  if (buf.length < 12) return null;
  if (buf[0] === 0xff && buf[1] === 0xd8 && buf[2] === 0xff) return 'jpeg';
  if (buf.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return 'png';
  const head6 = ascii(buf, 0, 6);
  if (head6 === 'GIF87a' || head6 === 'GIF89a') return 'gif';
  if (ascii(buf, 0, 4) === 'RIFF' && ascii(buf, 8, 12) === 'WEBP') return 'webp';
  if (ascii(buf, 4, 8) === 'ftyp') {
    const brand = ascii(buf, 8, 12);
    if (brand === 'avif' || brand === 'avis') return 'avif';
    if (['heic', 'heix', 'heim', 'heis', 'mif1', 'msf1'].includes(brand)) return 'heif';
    return null;
  }
  const head4 = ascii(buf, 0, 4);
  if (head4 === 'II*\0' || head4 === 'MM\0*') return 'tiff';
  return null;
}

/**
 * What can be told from the bytes alone, at once on the receiving thread: the 4xx for an empty upload or one that is
 * not a picture format we decode. Decoding itself happens beside the model
 * (query-model-worker.ts); its errors come back as ImageDecodeError for uploadError.
 */
export function checkUpload(bytes: Buffer): void {
  if (bytes.length === 0) throw badRequest('file: the uploaded file is empty');
  if (!sniffImageType(bytes)) {
    throw unsupportedMedia('file: not a picture we can read (expected JPEG, PNG, WebP, GIF, AVIF or TIFF bytes)');
  }
}

/** A picture that could not be decoded as the 4xx that tells the caller what is wrong with it; anything else as is. */
export function uploadError(err: unknown, maxPixels: number): unknown {
  return err instanceof ImageDecodeError ? decodeErrorToApi(err, maxPixels) : err;
}

function decodeErrorToApi(err: ImageDecodeError, maxPixels: number): ApiError {
  switch (err.code) {
    case 'too_large':
      return tooLarge(`file: the picture has too many pixels (limit ${maxPixels}); ${err.message}`);
    case 'unsupported':
      return unsupportedMedia(`file: unsupported picture format; ${err.message}`);
    case 'empty':
      return badRequest('file: the uploaded file is empty');
    default:
      return badRequest(`file: the picture could not be decoded; ${err.message}`);
  }
}
