import { TinycamError } from '../tensor/errors.js';

/** A file that is not a PNG/JPEG we can read: corrupt, truncated or using an unsupported feature. */
export class ImageDecodeError extends TinycamError {
  static override readonly typeName: string = 'ImageDecodeError';
  constructor(message: string) {
    super('E_IMAGE_DECODE', message);
  }
}

/** A file whose header declares more pixels or memory than the caller allows. */
export class ImageLimitError extends TinycamError {
  static override readonly typeName: string = 'ImageLimitError';
  constructor(message: string) {
    super('E_IMAGE_LIMIT', message);
  }
}
