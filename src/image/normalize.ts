import { ArgumentError, ShapeError } from '../tensor/errors.js';
import { optionsOf } from './validate.js';
import { div, sub } from '../tensor/ops/elementwise.js';
import { Tensor, shapeString } from '../tensor/tensor.js';

export const IMAGENET_MEAN = [0.485, 0.456, 0.406] as const;
export const IMAGENET_STD = [0.229, 0.224, 0.225] as const;

export interface NormalizeOptions {
  mean?: readonly number[];
  std?: readonly number[];
}

/**
 * torchvision's Normalize: (x - mean[c]) / std[c] per channel of a
 * [N, C, H, W] or [C, H, W] tensor, ImageNet's mean and std by default.
 * Built from the engine's sub and div, so gradients flow through it.
 */
export function normalize(x: Tensor, options?: NormalizeOptions): Tensor {
  if (!(x instanceof Tensor)) throw new ArgumentError('normalize: expected a Tensor [N, C, H, W] or [C, H, W]');
  const o = optionsOf('normalize', options);
  const mean = o.mean ?? IMAGENET_MEAN;
  const std = o.std ?? IMAGENET_STD;
  for (const [name, values] of [['mean', mean], ['std', std]] as const) {
    if (!Array.isArray(values) || !values.every((v) => typeof v === 'number' && Number.isFinite(v))) {
      throw new ArgumentError(`normalize: ${name} must be an array of finite numbers, one per channel, got ${JSON.stringify(values)}`);
    }
  }
  if (x.ndim !== 3 && x.ndim !== 4) {
    throw new ShapeError(`normalize: expected [N, C, H, W] or [C, H, W], got ${shapeString(x.shape)}`);
  }
  const C = x.shape[x.ndim - 3]!;
  if (mean.length !== C || std.length !== C) {
    throw new ArgumentError(`normalize: mean and std need one value per channel (${C}), got ${mean.length} and ${std.length}`);
  }
  if (std.some((s) => !(s !== 0 && Number.isFinite(s)))) throw new ArgumentError(`normalize: std values must be finite and non-zero, got [${std.join(', ')}]`);
  const shape = x.ndim === 4 ? [1, C, 1, 1] : [C, 1, 1];
  return div(sub(x, new Tensor(Float32Array.from(mean), shape)), new Tensor(Float32Array.from(std), shape));
}
