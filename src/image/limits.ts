import { ArgumentError } from '../tensor/errors.js';
import { ImageLimitError } from './errors.js';
import type { DecodeLimits } from './types.js';

const DEFAULT_MAX_PIXELS = 50e6;
const DEFAULT_MAX_MEMORY_BYTES = 1024 * 1024 * 1024;

export interface ResolvedLimits {
  maxPixels: number;
  maxMemoryBytes: number;
}

export function resolveLimits(fn: string, limits: DecodeLimits = {}): ResolvedLimits {
  const maxPixels = limits.maxPixels ?? DEFAULT_MAX_PIXELS;
  const maxMemoryBytes = limits.maxMemoryBytes ?? DEFAULT_MAX_MEMORY_BYTES;
  if (typeof maxPixels !== 'number' || !(maxPixels > 0)) {
    throw new ArgumentError(`${fn}: maxPixels must be a positive number, got ${String(limits.maxPixels)}`);
  }
  if (typeof maxMemoryBytes !== 'number' || !(maxMemoryBytes > 0)) {
    throw new ArgumentError(`${fn}: maxMemoryBytes must be a positive number, got ${String(limits.maxMemoryBytes)}`);
  }
  return { maxPixels, maxMemoryBytes };
}

/** Throws ImageLimitError when the header's size or the decoder's working memory exceeds the limits. */
export function checkLimits(
  fn: string,
  format: string,
  width: number,
  height: number,
  workingBytes: number,
  limits: ResolvedLimits,
): void {
  const pixels = width * height;
  if (pixels > limits.maxPixels) {
    throw new ImageLimitError(
      `${fn}: the ${format} header declares ${width}x${height} = ${pixels} pixels; ` +
        `at most ${limits.maxPixels} are accepted (raise the maxPixels option to allow more)`,
    );
  }
  if (workingBytes > limits.maxMemoryBytes) {
    throw new ImageLimitError(
      `${fn}: decoding this ${width}x${height} ${format} needs about ${workingBytes} bytes; ` +
        `at most ${limits.maxMemoryBytes} are accepted (raise the maxMemoryBytes option to allow more)`,
    );
  }
}
