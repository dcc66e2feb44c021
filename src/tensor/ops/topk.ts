import { record } from '../autograd.js';
import { ArgumentError } from '../errors.js';
import { Tensor, normalizeAxis, shapeString } from '../tensor.js';

export interface TopkOptions {
  /** Largest (default) or smallest values. */
  largest?: boolean;
}

/**
 * The k largest (or smallest) values along an axis and their indices
 * (torch.topk, ONNX TopK), sorted, equal values in index order. Values carry
 * the gradient back to where they came from; indices are plain float32
 * integers without gradient.
 */
export function topk(x: Tensor, k: number, axis = -1, options: TopkOptions = {}): { values: Tensor; indices: Tensor } {
  const largest = options.largest ?? true;
  const a = normalizeAxis(axis, x.ndim, 'topk');
  const n = x.shape[a]!;
  if (!Number.isInteger(k) || k < 0 || k > n) {
    throw new ArgumentError(`topk: k = ${k} is not valid for axis ${axis} of size ${n} (shape ${shapeString(x.shape)}; accepted: 0 to ${n})`);
  }
  let outer = 1;
  for (let i = 0; i < a; i++) outer *= x.shape[i]!;
  let inner = 1;
  for (let i = a + 1; i < x.ndim; i++) inner *= x.shape[i]!;
  const outShape = [...x.shape];
  outShape[a] = k;
  const values = new Float32Array(outer * k * inner);
  const indices = new Float32Array(outer * k * inner);
  const from = new Int32Array(outer * k * inner);
  const src = x.data;
  const order = new Array<number>(n);
  const sign = largest ? 1 : -1;
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < inner; j++) {
      const base = o * n * inner + j;
      for (let t = 0; t < n; t++) order[t] = t;
      // NaN counts as the largest value, as in PyTorch.
      const key = (t: number): number => {
        const v = src[base + t * inner]!;
        return v !== v ? sign * Infinity : v;
      };
      order.sort((p, q) => sign * (key(q) - key(p)) || p - q);
      for (let t = 0; t < k; t++) {
        const at = o * k * inner + t * inner + j;
        const i = base + order[t]! * inner;
        values[at] = src[i]!;
        indices[at] = order[t]!;
        from[at] = i;
      }
    }
  }
  const v = record('topk', new Tensor(values, outShape), [x], (g) => {
    const gi = new Float32Array(x.size);
    for (let i = 0; i < from.length; i++) gi[from[i]!]! += g.data[i]!;
    return [new Tensor(gi, x.shape)];
  });
  return { values: v, indices: new Tensor(indices, outShape) };
}
