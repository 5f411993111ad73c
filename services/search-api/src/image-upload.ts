// Uploaded query pictures: the type comes from the bytes, never from the name or the claimed Content-Type, and
// decoding is bounded by MAX_IMAGE_PIXELS so a small file that inflates to gigapixels is refused before it is decoded.
import { ImageDecodeError } from '@image-search/clip';
import { detectImage } from '@image-search/picture-store';
import { type ApiError, badRequest, tooLarge, unsupportedMedia } from './errors.ts';

/**
 * What can be told from the bytes alone, at once on the receiving thread: the 4xx for an empty upload or one that is
 * not a picture format we decode. Decoding itself happens beside the model
 * (query-model-worker.ts); its errors come back as ImageDecodeError for uploadError.
 */
export async function checkUpload(bytes: Buffer): Promise<void> {
  if (bytes.length === 0) throw badRequest('file: the uploaded file is empty');
  if (!(await detectImage(bytes))) {
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
