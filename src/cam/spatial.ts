import { reshape } from '../tensor/ops/shape.js';
import { Tensor } from '../tensor/tensor.js';

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

/**
 * raw = sum_c w_c A_c: the map of every channel-weighted method, [N, ...spatial].
 * One loop, not mul then sum: a map records no gradient, and the broadcast
 * mul boxed a number per element wherever its call site had gone megamorphic
 * (eight young-generation collections per batch of 8 of ResNet-18 in a pool's
 * worker).
 */
export function weightedSum(a: Tensor, weights: Tensor): Tensor {
  const [N, C] = a.shape as [number, number];
  const P = positions(a);
  // As mul then sum did, bit for bit: float32 products, summed over the channels in order in float64.
  const acc = new Float64Array(N * P);
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      const w = weights.data[n * C + c]!;
      for (let i = 0, at = (n * C + c) * P; i < P; i++) acc[n * P + i] = acc[n * P + i]! + Math.fround(a.data[at + i]! * w);
    }
  }
  return new Tensor(new Float32Array(acc), [N, ...a.shape.slice(2)]);
}
