import type { GemmOptions } from './gemm.js';
import type { ConvGeometry } from './im2col.js';
import type { PoolWindow } from './pool.js';

/**
 * The seam between ops and kernels: what an op's forward and backward rule
 * call to do their arithmetic. Two backends implement it: the pure-TS kernels
 * (./js.ts, the reference and the fallback) and the WebAssembly SIMD kernels
 * (./wasm.ts), chosen with `setBackend` (../backend.ts). Every function
 * writes only into its output array and never into its inputs.
 */
export interface Kernels {
  readonly name: 'js' | 'wasm';
  /** C[m x n] = op(A) op(B) (+ C), see ./gemm.ts. */
  gemm(m: number, n: number, k: number, a: Float32Array, b: Float32Array, c: Float32Array, options?: GemmOptions): void;
  /**
   * For each image and group: out[n, g] (+)= W_g * im2col(image[n, g]); then,
   * with `then`, out = scaleShift(out) over its channels, the values of a
   * separate scaleShift(out, out, ...) call bit for bit (a backend may apply
   * it before the output leaves its memory: layers/fusion.ts's batch norm).
   */
  convForward(image: Float32Array, weight: Float32Array, out: Float32Array, L: ConvLayout, accumulate: boolean, then?: ChannelAffine): void;
  /** image[n, g] += col2im(W_g^T * rows[n, g]) (the adjoint of convForward in its image). */
  convAdjoint(rows: Float32Array, weight: Float32Array, image: Float32Array, L: ConvLayout): void;
  /** dW_g += rows[n, g] * im2col(image[n, g])^T, summed over n. */
  convWeightGradient(rows: Float32Array, image: Float32Array, dW: Float32Array, L: ConvLayout): void;
  /** Depthwise convolution (one input channel per group), see ./depthwise.ts. */
  depthwiseForward(image: Float32Array, weight: Float32Array, out: Float32Array, batch: number, multiplier: number, geo: ConvGeometry): void;
  depthwiseInputGradient(dOut: Float32Array, weight: Float32Array, dImage: Float32Array, batch: number, multiplier: number, geo: ConvGeometry): void;
  depthwiseWeightGradient(dOut: Float32Array, image: Float32Array, dWeight: Float32Array, batch: number, multiplier: number, geo: ConvGeometry): void;
  /** out[n, c, i] = x[n, c, i] * scale[c] + shift[c] (then ReLU): batch norm in evaluation mode, see ./elementwise.ts. */
  scaleShift(x: Float32Array, out: Float32Array, channels: number, inner: number, scale: Float64Array, shift: Float64Array, relu: boolean): void;
  /** out = max(x, 0), NaN stays NaN. */
  relu(x: Float32Array, out: Float32Array): void;
  /** out = min(max(x, 0), 6), NaN stays NaN (MobileNetV2's activation). */
  relu6(x: Float32Array, out: Float32Array): void;
  /** out = a + b, all of one length; then ReLU, as relu(out, out) would, when asked (a residual block's tail). */
  add(a: Float32Array, b: Float32Array, out: Float32Array, reluAfter?: boolean): void;
  /** Max pooling of `planes` planes of H x W (argmax: the winning offsets, when wanted), see ./pool.ts. */
  maxPool2d(x: Float32Array, out: Float32Array, argmax: Int32Array | null, planes: number, H: number, W: number, window: PoolWindow): void;
}

/** A per-channel scale and shift (then ReLU) over a [N, C, ...] array: batch norm in evaluation mode. */
export interface ChannelAffine {
  scale: Float64Array;
  shift: Float64Array;
  relu: boolean;
}

/**
 * A grouped convolution as matrix products: per image n and group g, the
 * group's weight W_g ([rowChannels, imageChannels*kH*kW]) times the column
 * matrix of the image side (imageChannels planes of geo.inH x geo.inW).
 */
export interface ConvLayout {
  batch: number;
  groups: number;
  /** Channels of the image side (the one im2col reads) per group. */
  imageChannels: number;
  /** Channels of the matrix side (rows of W_g) per group. */
  rowChannels: number;
  geo: ConvGeometry;
  /**
   * The result is recorded for a backward pass (or is itself a gradient):
   * its values may route gradients downstream (ReLU masks, max-pool argmax),
   * so only the most accurate algorithms run (Winograd F(2x2), im2col), as
   * the fixtures' input gradients need. Unset: false.
   */
  recorded?: boolean;
}

/** A 1x1 kernel at stride 1 without padding reads the image as it is: no im2col needed. */
export function isPointwise(geo: ConvGeometry): boolean {
  return (
    geo.kH === 1 && geo.kW === 1 && geo.strideH === 1 && geo.strideW === 1 &&
    geo.padTop === 0 && geo.padLeft === 0 && geo.outH === geo.inH && geo.outW === geo.inW
  );
}
