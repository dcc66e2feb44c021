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

/** An options argument: undefined gives {}, anything but a plain object is an ArgumentError. */
export function optionsOf<T extends object>(fn: string, options: T | undefined): Partial<T> {
  if (options === undefined) return {};
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new ArgumentError(`${fn}: options must be an object, got ${describe(options)}`);
  }
  return options;
}

/** An integer option of at least `min` (NaN, Infinity, fractions and strings are refused). */
export function checkInteger(fn: string, name: string, value: unknown, min: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new ArgumentError(`${fn}: ${name} must be an integer >= ${min}, got ${typeof value === 'string' ? JSON.stringify(value) : String(value)}`);
  }
  return value;
}

/** A boolean option, when given. */
export function checkBoolean(fn: string, name: string, value: unknown): boolean | undefined {
  if (value !== undefined && typeof value !== 'boolean') {
    throw new ArgumentError(`${fn}: ${name} must be true or false, got ${typeof value === 'string' ? JSON.stringify(value) : String(value)}`);
  }
  return value;
}

/** An [r, g, b, a] colour of four numbers 0..255. */
export function checkColour(fn: string, name: string, value: unknown): void {
  if (!Array.isArray(value) || value.length !== 4 || !value.every((v) => typeof v === 'number' && v >= 0 && v <= 255)) {
    throw new ArgumentError(`${fn}: ${name} must be [r, g, b, a] with four numbers from 0 to 255, got ${JSON.stringify(value)}`);
  }
}
