// Uploaded query pictures: the type comes from the bytes, never from the name or the claimed Content-Type, and
// decoding is bounded by MAX_IMAGE_PIXELS so a small file that inflates to gigapixels is refused before it is decoded.
import { ImageDecodeError, type ModelManifest, preprocessImage, preprocessOptionsFor } from '@image-search/clip';
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

/** The model's input tensor for an uploaded picture, or the 4xx that tells the caller what is wrong with it. */
export async function uploadToTensor(
  bytes: Buffer,
  manifest: ModelManifest,
  maxPixels: number,
): Promise<{ tensor: Float32Array; width: number; height: number; format: string }> {
  if (bytes.length === 0) throw badRequest('file: the uploaded file is empty');
  if (!sniffImageType(bytes)) {
    throw unsupportedMedia('file: not a picture we can read (expected JPEG, PNG, WebP, GIF, AVIF or TIFF bytes)');
  }
  try {
    const p = await preprocessImage(bytes, { ...preprocessOptionsFor(manifest), maxPixels });
    return { tensor: p.tensor, width: p.width, height: p.height, format: p.format };
  } catch (err) {
    if (err instanceof ImageDecodeError) throw decodeErrorToApi(err, maxPixels);
    throw err;
  }
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
