import { ArgumentError, ShapeError } from '../tensor/errors.js';
import { Tensor, shapeString } from '../tensor/tensor.js';

/** The layout every metric works in: N images of C channels over P positions (H x W). */
export interface Layout {
  n: number;
  channels: number;
  height: number;
  width: number;
  /** Positions per image (H x W). */
  positions: number;
}

/** Check that `input` is a batch of images [N, C, H, W]. */
export function checkImages(input: unknown, fn: string): Layout {
  if (!(input instanceof Tensor)) {
    throw new ArgumentError(`${fn}: input must be a Tensor of shape [N, C, H, W]; got ${input === null ? 'null' : typeof input}`);
  }
  if (input.ndim !== 4 || input.shape[0]! < 1 || input.size === 0) {
    throw new ShapeError(`${fn}: input has shape ${shapeString(input.shape)}; accepted: a batch of images [N, C, H, W] with N >= 1 (add a batch axis to a single [C, H, W] image)`);
  }
  const [n, channels, height, width] = input.shape as [number, number, number, number];
  return { n, channels, height, width, positions: height * width };
}

/**
 * Check that `maps` holds one map per image at the input's size, [N, H, W]
 * (or [N, 1, H, W]) without NaN or infinities, and return its values
 * (image i at i * H * W).
 */
export function checkMaps(maps: unknown, layout: Layout, fn: string, name = 'maps'): Float32Array {
  const { n, height, width } = layout;
  if (!(maps instanceof Tensor)) {
    throw new ArgumentError(`${fn}: ${name} must be a Tensor of shape [${n}, ${height}, ${width}] (one map per image, at the input's size); got ${maps === null ? 'null' : typeof maps}`);
  }
  const s = maps.shape;
  const fits =
    (s.length === 3 && s[0] === n && s[1] === height && s[2] === width) ||
    (s.length === 4 && s[0] === n && s[1] === 1 && s[2] === height && s[3] === width);
  if (!fits) {
    throw new ShapeError(
      `${fn}: ${name} has shape ${shapeString(s)} but the input is ${n} image(s) of ${height}x${width}; accepted: [${n}, ${height}, ${width}] or [${n}, 1, ${height}, ${width}] (resize maps to the input's size first, e.g. with resizeMaps)`,
    );
  }
  for (let i = 0; i < maps.size; i++) {
    if (!Number.isFinite(maps.data[i]!)) {
      throw new ArgumentError(`${fn}: ${name} holds ${maps.data[i]} at image ${Math.floor(i / layout.positions)}, position ${i % layout.positions}; maps must be finite numbers`);
    }
  }
  return maps.data;
}

/** One image's values (C x H x W) of a batch. */
export function imageData(input: Tensor, layout: Layout, image: number): Float32Array {
  const size = layout.channels * layout.positions;
  return input.data.subarray(image * size, (image + 1) * size);
}

/** One image's map (H x W). */
export function mapData(maps: Float32Array, layout: Layout, image: number): Float32Array {
  return maps.subarray(image * layout.positions, (image + 1) * layout.positions);
}

export function positiveInteger(value: unknown, name: string, fn: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new ArgumentError(`${fn}: ${name} must be a positive integer; got ${String(value)}`);
  }
  return value;
}

/** A percentile in [0, 100]. */
export function checkPercentile(value: unknown, fn: string, name = 'percentile'): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 100) {
    throw new ArgumentError(`${fn}: ${name} must be a number from 0 to 100; got ${String(value)}`);
  }
  return value;
}
