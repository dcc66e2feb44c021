import { ArgumentError } from '../tensor/errors.js';
import type { RgbaImage } from './types.js';

/** Checks that `image` is an ImageData-shaped RGBA picture; names `fn` in the error. */
export function checkImage(fn: string, image: RgbaImage): void {
  if (!image || typeof image !== 'object') {
    throw new ArgumentError(`${fn}: expected an image { width, height, data: RGBA bytes }, got ${String(image)}`);
  }
  const { width, height } = image;
  const data: unknown = image.data;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new ArgumentError(`${fn}: image width and height must be positive integers, got ${width}x${height}`);
  }
  if (!(data instanceof Uint8ClampedArray || data instanceof Uint8Array) || data.length !== width * height * 4) {
    throw new ArgumentError(
      `${fn}: image data must be a Uint8ClampedArray (or Uint8Array) of width*height*4 = ${width * height * 4} RGBA bytes, ` +
        `got ${describe(data)}`,
    );
  }
}

function describe(x: unknown): string {
  if (x === null || x === undefined) return String(x);
  const name = (x as { constructor?: { name?: string } }).constructor?.name ?? typeof x;
  const length = (x as { length?: unknown }).length;
  return typeof length === 'number' ? `${name} of length ${length}` : name;
}
