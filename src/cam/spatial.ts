import { mul } from '../tensor/ops/elementwise.js';
import { sum } from '../tensor/ops/reduce.js';
import { reshape } from '../tensor/ops/shape.js';
import type { Tensor } from '../tensor/tensor.js';

/**
 * The vocabulary the method files write their formulas in. A and dA are
 * [N, C, ...spatial] (1 to 3 spatial axes); channel weights are [N, C];
 * maps are [N, ...spatial].
 */

/** The spatial axes of a [N, C, ...spatial] tensor: 2 to ndim - 1. */
export function spatialAxes(a: Tensor): number[] {
  return Array.from({ length: a.ndim - 2 }, (_, i) => i + 2);
}

/** The number of positions of a [N, C, ...spatial] tensor (h * w for images). */
export function positions(a: Tensor): number {
  return a.shape.slice(2).reduce((p, d) => p * d, 1);
}

/** [N, C] channel weights shaped [N, C, 1, ...] to broadcast against A. */
export function perChannel(weights: Tensor, a: Tensor): Tensor {
  return reshape(weights, [a.shape[0]!, a.shape[1]!, ...spatialAxes(a).map(() => 1)]);
}

/** raw = sum_c w_c A_c: the map of every channel-weighted method, [N, ...spatial]. */
export function weightedSum(a: Tensor, weights: Tensor): Tensor {
  return sum(mul(a, perChannel(weights, a)), 1);
}
