import { record } from '../autograd.js';
import { Tensor, normalizeAxis } from '../tensor.js';

export interface CumsumOptions {
  /** Leave each element out of its own sum (ONNX's exclusive = 1). */
  exclusive?: boolean;
  /** Sum from the end of the axis (ONNX's reverse = 1). */
  reverse?: boolean;
}

/** Running sums of each line of `axis` into `dst` (float64 accumulators). */
function scanLines(src: Float32Array, dst: Float32Array, shape: readonly number[], a: number, exclusive: boolean, reverse: boolean): void {
  let outer = 1;
  for (let i = 0; i < a; i++) outer *= shape[i]!;
  let inner = 1;
  for (let i = a + 1; i < shape.length; i++) inner *= shape[i]!;
  const n = shape[a]!;
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < inner; j++) {
      const base = o * n * inner + j;
      let s = 0;
      for (let t = 0; t < n; t++) {
        const i = base + (reverse ? n - 1 - t : t) * inner;
        if (exclusive) {
          dst[i] = s;
          s += src[i]!;
        } else {
          s += src[i]!;
          dst[i] = s;
        }
      }
    }
  }
}

/**
 * Cumulative sum along an axis (torch.cumsum, ONNX CumSum with exclusive and
 * reverse). The backward is the cumulative sum of the gradient in the other
 * direction, with the same exclusiveness.
 */
export function cumsum(x: Tensor, axis: number, options: CumsumOptions = {}): Tensor {
  const exclusive = options.exclusive ?? false;
  const reverse = options.reverse ?? false;
  if (x.ndim === 0) return record('cumsum', new Tensor(x.data.slice(), x.shape), [x], (g) => [g]);
  const a = normalizeAxis(axis, x.ndim, 'cumsum');
  const out = new Float32Array(x.size);
  scanLines(x.data, out, x.shape, a, exclusive, reverse);
  return record('cumsum', new Tensor(out, x.shape), [x], (g) => {
    const gi = new Float32Array(x.size);
    scanLines(g.data, gi, x.shape, a, exclusive, !reverse);
    return [new Tensor(gi, x.shape)];
  });
}
