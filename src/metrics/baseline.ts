import { ArgumentError, ShapeError } from '../tensor/errors.js';
import { Tensor, shapeString } from '../tensor/tensor.js';
import type { Layout } from './checks.js';

/**
 * What occluded or ablated inputs are filled with (captum's `baselines`): a
 * number for every element (default 0), or a Tensor of the input's shape,
 * [1, C, H, W] for every image, or [C, H, W].
 */
export type Baseline = number | Tensor;

/** The baseline as a full [N, C, H, W] array. */
export function baselineData(baseline: Baseline | undefined, input: Tensor, layout: Layout, fn: string): Float32Array {
  const value = baseline ?? 0;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new ArgumentError(`${fn}: baseline must be a finite number or a Tensor; got ${value}`);
    return new Float32Array(input.size).fill(value);
  }
  if (!(value instanceof Tensor)) throw new ArgumentError(`${fn}: baseline must be a number or a Tensor; got ${typeof value}`);
  const size = layout.channels * layout.positions;
  if (value.size === input.size && value.ndim === 4 && value.shape.every((s, i) => s === input.shape[i])) return value.data;
  const perImage =
    (value.ndim === 4 && value.shape[0] === 1 && value.shape.slice(1).every((s, i) => s === input.shape[i + 1])) ||
    (value.ndim === 3 && value.shape.every((s, i) => s === input.shape[i + 1]));
  if (!perImage) {
    throw new ShapeError(`${fn}: baseline has shape ${shapeString(value.shape)}; accepted: a number, the input's shape ${shapeString(input.shape)}, [1, ${input.shape.slice(1).join(', ')}] or [${input.shape.slice(1).join(', ')}]`);
  }
  const out = new Float32Array(input.size);
  for (let i = 0; i < layout.n; i++) out.set(value.data, i * size);
  return out;
}
