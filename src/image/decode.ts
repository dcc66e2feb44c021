import { ArgumentError } from '../tensor/errors.js';
import { ImageDecodeError, ImageLimitError } from './errors.js';
import { decodeJpegRgba } from './jpeg-decode.js';
import { resolveLimits } from './limits.js';
import { applyExifOrientation } from './orientation.js';
import { decodePngRgba, PNG_SIGNATURE } from './png-decode.js';
import type { DecodeOptions, RgbaImage } from './types.js';
import { checkBoolean, optionsOf } from './validate.js';

export type ImageFormat = 'png' | 'jpeg';

/** The format named by the file's magic bytes, or null. */
export function detectImageFormat(bytes: Uint8Array): ImageFormat | null {
  if (!(bytes instanceof Uint8Array)) throw new ArgumentError(`detectImageFormat: expected the file's first bytes as a Uint8Array, got ${Object.prototype.toString.call(bytes)}`);
  if (bytes.length >= 8 && PNG_SIGNATURE.every((b, i) => bytes[i] === b)) return 'png';
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  return null;
}

function asBytes(input: Uint8Array | ArrayBuffer | ArrayBufferView): Uint8Array {
  if (input instanceof Uint8Array) return input;
  if (input instanceof ArrayBuffer) return new Uint8Array(input);
  if (ArrayBuffer.isView(input)) {
    const v = input as ArrayBufferView;
    return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  }
  throw new ArgumentError(`decodeImage: expected the file's bytes as a Uint8Array or ArrayBuffer, got ${Object.prototype.toString.call(input)}`);
}

/**
 * Decodes a PNG or JPEG (format from the magic bytes) into an ImageData-shaped
 * RGBA image. The header's size is checked against `maxPixels` (default 50e6)
 * and `maxMemoryBytes` (default 1 GiB) before any pixel is decoded. A JPEG's
 * EXIF orientation is applied unless `applyOrientation` is false. Every
 * corrupt, truncated or unsupported file throws ImageDecodeError, every file
 * over the limits ImageLimitError.
 */
export function decodeImage(input: Uint8Array | ArrayBuffer | ArrayBufferView, options?: DecodeOptions): RgbaImage {
  const bytes = asBytes(input);
  const o = optionsOf('decodeImage', options);
  const limits = resolveLimits('decodeImage', o);
  const applyOrientation = checkBoolean('decodeImage', 'applyOrientation', o.applyOrientation) ?? true;
  const format = detectImageFormat(bytes);
  try {
    if (format === 'png') return decodePngRgba(bytes, limits);
    if (format === 'jpeg') {
      const { image, header } = decodeJpegRgba(bytes, limits);
      return applyOrientation ? applyExifOrientation(image, header.orientation) : image;
    }
  } catch (e) {
    if (e instanceof ImageDecodeError || e instanceof ArgumentError || e instanceof ImageLimitError) throw e;
    // A bug of ours (RangeError and the like) must still reach the caller typed and in our words;
    // the original stays available as `cause` for a bug report.
    const error = new ImageDecodeError(
      `decodeImage: could not decode this ${format === 'png' ? 'PNG' : 'JPEG'}: it is damaged in a way the decoder did not anticipate`,
    );
    error.cause = e;
    throw error;
  }
  const head = Array.from(bytes.subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join(' ');
  throw new ImageDecodeError(
    `decodeImage: unrecognised format (first bytes: ${head || 'none, the input is empty'}); PNG and JPEG are supported`,
  );
}
