import { Tensor } from '../tensor/tensor.js';

/**
 * Small loops shared by the methods. A and dA are [N,C,h,w]; per-channel
 * weights are [N,C]; maps are [N,h,w]. Sums run in float64.
 */

export function dims(a: Tensor): { n: number; c: number; hw: number; h: number; w: number } {
  const [n, c, h, w] = a.shape as [number, number, number, number];
  return { n, c, h, w, hw: h * w };
}

/** raw[n] = sum_c weights[n,c] * A[n,c] (the map of every channel-weighted method). */
export function weightedSum(a: Tensor, weights: Float64Array | Float32Array): Tensor {
  const { n, c, h, w, hw } = dims(a);
  const out = new Float32Array(n * hw);
  const acc = new Float64Array(hw);
  for (let i = 0; i < n; i++) {
    acc.fill(0);
    for (let k = 0; k < c; k++) {
      const wk = weights[i * c + k]!;
      if (wk === 0) continue;
      const base = (i * c + k) * hw;
      for (let p = 0; p < hw; p++) acc[p] = acc[p]! + wk * a.data[base + p]!;
    }
    for (let p = 0; p < hw; p++) out[i * hw + p] = acc[p]!;
  }
  return new Tensor(out, [n, h, w]);
}

/** How the elementwise methods combine dA and A at each position before summing over channels. */
export type ElementwiseTerm = 'gradTimesAct' | 'reluOfGradTimesAct' | 'reluGradTimesAct';

/**
 * raw[n,p] = sum_c term(dA[n,c,p], A[n,c,p]): dA*A (HiResCAM),
 * relu(dA*A) (Grad-CAM element-wise), relu(dA)*A (LayerCAM).
 */
export function elementwiseSum(a: Tensor, g: Tensor, term: ElementwiseTerm): Tensor {
  const { n, c, h, w, hw } = dims(a);
  const out = new Float32Array(n * hw);
  const acc = new Float64Array(hw);
  const ad = a.data;
  const gd = g.data;
  for (let i = 0; i < n; i++) {
    acc.fill(0);
    for (let k = 0; k < c; k++) {
      const base = (i * c + k) * hw;
      if (term === 'gradTimesAct') {
        for (let p = 0; p < hw; p++) acc[p] = acc[p]! + gd[base + p]! * ad[base + p]!;
      } else if (term === 'reluOfGradTimesAct') {
        for (let p = 0; p < hw; p++) acc[p] = acc[p]! + Math.max(gd[base + p]! * ad[base + p]!, 0);
      } else {
        for (let p = 0; p < hw; p++) acc[p] = acc[p]! + Math.max(gd[base + p]!, 0) * ad[base + p]!;
      }
    }
    for (let p = 0; p < hw; p++) out[i * hw + p] = acc[p]!;
  }
  return new Tensor(out, [n, h, w]);
}

/** [N,C] weights as a Tensor (float32, like the fixtures). */
export function weightsTensor(weights: Float64Array, n: number, c: number): Tensor {
  return new Tensor(Float32Array.from(weights), [n, c]);
}
