import { ArgumentError } from '../tensor/errors.js';
import { ImageLimitError } from './errors.js';

/**
 * An 8-bit RGBA picture laid out like the DOM's ImageData, so a decoded image
 * can go straight to `ctx.putImageData` and a canvas's ImageData can come back.
 */
export interface RgbaImage {
  width: number;
  height: number;
  /** width * height * 4 bytes, row-major, R G B A per pixel. */
  data: Uint8ClampedArray;
}

/** Limits against hostile files, checked from the header before any pixel is decoded. */
export interface DecodeLimits {
  /** Largest width * height accepted (default 50 megapixels). */
  maxPixels?: number;
  /** Largest working memory the decoder may allocate, in bytes (default 1 GiB). */
  maxMemoryBytes?: number;
}

export interface DecodeOptions extends DecodeLimits {
  /** Apply a JPEG's EXIF orientation (1-8) so the picture comes out upright (default true). */
  applyOrientation?: boolean;
}

/** A blank (transparent black) image of width x height (positive integers). */
export function createImage(width: number, height: number): RgbaImage {
  if (!Number.isSafeInteger(width) || !Number.isSafeInteger(height) || width < 1 || height < 1) {
    throw new ArgumentError(`createImage: width and height must be positive integers, got ${String(width)}x${String(height)}`);
  }
  let data: Uint8ClampedArray;
  try {
    data = new Uint8ClampedArray(width * height * 4);
  } catch {
    throw new ImageLimitError(`createImage: a ${width}x${height} RGBA image (${width * height * 4} bytes) cannot be allocated`);
  }
  return { width, height, data };
}
