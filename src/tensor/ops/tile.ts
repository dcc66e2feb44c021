import { ArgumentError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { expand, reshape } from './shape.js';

/**
 * Repeat the tensor `repeats[i]` times along axis i (ONNX Tile,
 * torch.Tensor.repeat with as many repeats as axes). Written as
 * reshape -> expand -> reshape: each axis of size d gets a new axis of size
 * 1 before it, expanded to the repeat count, so the backward is expand's sum.
 */
export function tile(x: Tensor, repeats: readonly number[]): Tensor {
  if (repeats.length !== x.ndim || !repeats.every((r) => Number.isInteger(r) && r >= 0)) {
    throw new ArgumentError(`tile: repeats [${repeats.join(', ')}] must be ${x.ndim} non-negative integers, one per axis of shape [${x.shape.join(', ')}]`);
  }
  const split = x.shape.flatMap((d) => [1, d]);
  const wide = x.shape.flatMap((d, i) => [repeats[i]!, d]);
  return reshape(expand(reshape(x, split), wide), x.shape.map((d, i) => d * repeats[i]!));
}
