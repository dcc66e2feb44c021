/**
 * The command's shared options: the parseArgs entries that `explain` and
 * `compare` both take (model, image, layer, preprocessing, output), and the
 * checks that turn their text into numbers with a UsageError that says what
 * is accepted.
 */
import { UsageError } from './args-error.js';

/** Largest model input side --size accepts, and largest --resize (pixels). */
export const MAX_INPUT_SIDE = 4096;
export const MAX_RESIZE = 8192;

/** Options with the same spelling and meaning in `explain` and `compare` (for node:util's parseArgs). */
export const MODEL_IMAGE_OPTIONS = {
  model: { type: 'string', short: 'm' },
  arch: { type: 'string', short: 'a' },
  'num-classes': { type: 'string' },
  image: { type: 'string', short: 'i' },
  layer: { type: 'string', short: 'l', multiple: true },
  target: { type: 'string', short: 't' },
  labels: { type: 'string' },
  size: { type: 'string' },
  resize: { type: 'string' },
  mean: { type: 'string' },
  std: { type: 'string' },
  'no-normalize': { type: 'boolean', default: false },
  top: { type: 'string', default: '5' },
  json: { type: 'boolean', default: false },
} as const;

/** `length` comma-separated finite numbers (--mean, --std). */
export function numberList(value: string | undefined, name: string, length: number, positive = false): number[] | undefined {
  if (value === undefined) return undefined;
  const parts = value.split(',').map((s) => (s.trim() === '' ? Number.NaN : Number(s)));
  if (parts.length !== length || parts.some((v) => !Number.isFinite(v) || (positive && v <= 0))) {
    throw new UsageError(`--${name} takes ${length} comma-separated ${positive ? 'positive ' : ''}numbers, e.g. 0.485,0.456,0.406 (got '${value}')`);
  }
  return parts;
}

/** A whole number from `min` to `max`, written as digits. */
export function integer(value: string | undefined, name: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (value === undefined) return undefined;
  const n = /^\s*\d+\s*$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`--${name} takes an integer from ${min} to ${max} (got '${value}')`);
  }
  return n;
}

/** --size: '224' (square) or 'WxH' ('320x240': 320 wide, 240 high), as [height, width]. */
export function sizeOption(value: string | undefined): [number, number] | undefined {
  if (value === undefined) return undefined;
  const m = /^\s*(\d+)\s*(?:[xX×]\s*(\d+)\s*)?$/.exec(value);
  const width = m ? Number(m[1]) : Number.NaN;
  const height = m ? Number(m[2] ?? m[1]) : Number.NaN;
  const ok = (v: number) => Number.isSafeInteger(v) && v >= 1 && v <= MAX_INPUT_SIDE;
  if (!ok(width) || !ok(height)) {
    throw new UsageError(`--size takes a size in pixels from 1 to ${MAX_INPUT_SIDE}, square ('224') or width x height ('320x240') (got '${value}')`);
  }
  return [height, width];
}

/** `{ key: value }`, or `{}` when value is undefined (exactOptionalPropertyTypes-friendly). */
export function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}
