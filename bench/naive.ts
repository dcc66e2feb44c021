import { Tensor } from '../src/tensor/tensor.js';

/**
 * The naive kernels the benchmarks compare against: what one writes first in
 * plain JS, with no blocking or packing. They are run in the same process as
 * ours, so both see the same machine state.
 */

/** C[m x n] = A[m x k] B[k x n]: the textbook i-j-p triple loop. */
export function naiveMatmul(m: number, n: number, k: number, a: Float32Array, b: Float32Array, c: Float32Array): void {
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += a[i * k + p]! * b[p * n + j]!;
      c[i * n + j] = s;
    }
  }
}

/** x @ W^T + b with W [out, in]: the same triple loop. */
export function naiveLinear(x: Tensor, w: Tensor, bias: Tensor | null): Tensor {
  const [outF, inF] = w.shape as [number, number];
  const rows = x.size / inF;
  const out = new Float32Array(rows * outF);
  for (let r = 0; r < rows; r++) {
    for (let o = 0; o < outF; o++) {
      let s = bias ? bias.data[o]! : 0;
      for (let i = 0; i < inF; i++) s += x.data[r * inF + i]! * w.data[o * inF + i]!;
      out[r * outF + o] = s;
    }
  }
  return new Tensor(out, [...x.shape.slice(0, -1), outF]);
}

/** Direct convolution (groups = 1, symmetric padding): each output sums its window. */
export function naiveConv2d(
  x: Tensor,
  w: Tensor,
  bias: Tensor | null,
  options: { stride?: number; padding?: number } = {},
): Tensor {
  const stride = options.stride ?? 1;
  const pad = options.padding ?? 0;
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const [O, , kH, kW] = w.shape as [number, number, number, number];
  const OH = Math.floor((H + 2 * pad - kH) / stride) + 1;
  const OW = Math.floor((W + 2 * pad - kW) / stride) + 1;
  const out = new Float32Array(N * O * OH * OW);
  const xd = x.data;
  const wd = w.data;
  for (let n = 0; n < N; n++) {
    for (let o = 0; o < O; o++) {
      for (let oh = 0; oh < OH; oh++) {
        for (let ow = 0; ow < OW; ow++) {
          let s = bias ? bias.data[o]! : 0;
          for (let c = 0; c < C; c++) {
            for (let ki = 0; ki < kH; ki++) {
              const ih = oh * stride - pad + ki;
              if (ih < 0 || ih >= H) continue;
              for (let kj = 0; kj < kW; kj++) {
                const iw = ow * stride - pad + kj;
                if (iw < 0 || iw >= W) continue;
                s += xd[((n * C + c) * H + ih) * W + iw]! * wd[((o * C + c) * kH + ki) * kW + kj]!;
              }
            }
          }
          out[((n * O + o) * OH + oh) * OW + ow] = s;
        }
      }
    }
  }
  return new Tensor(out, [N, O, OH, OW]);
}
