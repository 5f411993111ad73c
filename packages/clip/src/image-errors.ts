// Why a file could not become a tensor, as a value the caller can act on (skip and record it, answer 415 or 413 …).

export type ImageDecodeErrorCode = 'corrupt' | 'unsupported' | 'too_large' | 'empty';

export class ImageDecodeError extends Error {
  override readonly name = 'ImageDecodeError';
  constructor(
    readonly code: ImageDecodeErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
