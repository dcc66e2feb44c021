import { record } from '../autograd.js';
import { kernels } from '../backend.js';
import { ArgumentError, ShapeError } from '../errors.js';
import { Tensor, shapeString } from '../tensor.js';
import { bufferToOverwrite } from '../buffer-pool.js';
import type { ChannelAffine } from '../kernels/kernels.js';

/**
 * Normalisation ops over the channel axis (axis 1) of [N, C, ...] tensors.
 * Data is laid out as N blocks of C channels of `inner` contiguous values
 * (inner = H*W for images, 1 for [N, C]), and the loops follow that layout.
 */

export interface BatchNormOptions {
  /** Use batch statistics and update the running ones (default false: running statistics). */
  training?: boolean;
  /** Weight of the batch statistic in the running update (PyTorch default 0.1). */
  momentum?: number;
  eps?: number;
}

function checkChannelVector(t: Tensor | null | undefined, C: number, what: string): void {
  if (t && (t.ndim !== 1 || t.shape[0] !== C)) {
    throw new ShapeError(`batchNorm: ${what} has shape ${shapeString(t.shape)}; expected [${C}] (one value per channel)`);
  }
}

/**
 * Batch normalisation over axis 1 (F.batch_norm). In training mode the
 * running statistics are updated in place (unbiased variance, as PyTorch).
 *
 * Evaluation: y = (x - runningMean) / sqrt(runningVar + eps) * weight + bias.
 * Training: the same with the batch mean and biased batch variance over every
 * axis but 1. Gradients flow to x, weight and bias in both modes; the running
 * statistics are buffers and get none.
 */
export function batchNorm(
  x: Tensor,
  runningMean: Tensor | null,
  runningVar: Tensor | null,
  weight?: Tensor | null,
  bias?: Tensor | null,
  options: BatchNormOptions = {},
): Tensor {
  if (x.ndim < 2) throw new ShapeError(`batchNorm: expected an input [N, C] or [N, C, ...], got shape ${shapeString(x.shape)}`);
  const training = options.training ?? false;
  const momentum = options.momentum ?? 0.1;
  const eps = options.eps ?? 1e-5;
  if (!Number.isFinite(momentum)) throw new ArgumentError(`batchNorm: momentum ${momentum} is not valid; accepted: a finite number (PyTorch default 0.1)`);
  if (!(eps >= 0)) throw new ArgumentError(`batchNorm: eps ${eps} is not valid; accepted: a non-negative number (default 1e-5)`);
  const N = x.shape[0]!;
  const C = x.shape[1]!;
  const inner = x.size / Math.max(N * C, 1);
  checkChannelVector(runningMean, C, 'runningMean');
  checkChannelVector(runningVar, C, 'runningVar');
  checkChannelVector(weight, C, 'weight');
  checkChannelVector(bias, C, 'bias');
  if (!training && (!runningMean || !runningVar)) {
    throw new ArgumentError('batchNorm: evaluation mode needs runningMean and runningVar; pass them, or set training: true to use batch statistics');
  }
  const count = N * inner; // values per channel
  if (training && count <= 1) {
    throw new ShapeError(`batchNorm: training needs more than 1 value per channel, got input shape ${shapeString(x.shape)}`);
  }

  const src = x.data;
  // Per-channel statistics used for normalising (float64 sums).
  const mean = new Float64Array(C);
  const invStd = new Float64Array(C);
  if (training) {
    for (let c = 0; c < C; c++) {
      let sum = 0;
      for (let n = 0; n < N; n++) {
        const base = (n * C + c) * inner;
        for (let i = 0; i < inner; i++) sum += src[base + i]!;
      }
      const m = sum / count;
      let sq = 0;
      for (let n = 0; n < N; n++) {
        const base = (n * C + c) * inner;
        for (let i = 0; i < inner; i++) {
          const d = src[base + i]! - m;
          sq += d * d;
        }
      }
      const biasedVar = sq / count;
      mean[c] = m;
      invStd[c] = 1 / Math.sqrt(biasedVar + eps);
      // The running variance is updated with the unbiased estimate, as PyTorch.
      if (runningMean) runningMean.data[c] = (1 - momentum) * runningMean.data[c]! + momentum * m;
      if (runningVar) runningVar.data[c] = (1 - momentum) * runningVar.data[c]! + momentum * (sq / (count - 1));
    }
  } else {
    runningStatistics(runningMean!, runningVar!, eps, mean, invStd);
  }

  const { scale, shift } = scaleAndShift(mean, invStd, weight, bias);
  const out = bufferToOverwrite(x.size);
  kernels().scaleShift(src, out, C, inner, scale, shift, false);

  const result = new Tensor(out, x.shape);
  const inputs = [x, ...(weight ? [weight] : []), ...(bias ? [bias] : [])];
  return record('batchNorm', result, inputs, (gradOutput, needs) => {
    const go = gradOutput.data;
    // Per channel: sum(g) and sum(g * xhat), needed by every gradient in training.
    const sumG = new Float64Array(C);
    const sumGXhat = new Float64Array(C);
    for (let n = 0; n < N; n++) {
      for (let c = 0; c < C; c++) {
        const base = (n * C + c) * inner;
        const m = mean[c]!;
        const s = invStd[c]!;
        let a = 0;
        let b = 0;
        for (let i = 0; i < inner; i++) {
          const g = go[base + i]!;
          a += g;
          b += g * (src[base + i]! - m) * s;
        }
        sumG[c] = sumG[c]! + a;
        sumGXhat[c] = sumGXhat[c]! + b;
      }
    }
    const grads: (Tensor | null)[] = [];
    if (needs[0]) {
      const dx = new Float32Array(x.size);
      for (let n = 0; n < N; n++) {
        for (let c = 0; c < C; c++) {
          const base = (n * C + c) * inner;
          const gain = invStd[c]! * (weight ? weight.data[c]! : 1);
          if (!training) {
            for (let i = 0; i < inner; i++) dx[base + i] = go[base + i]! * gain;
            continue;
          }
          // dx = gain * (g - mean(g) - xhat * mean(g * xhat)): the batch
          // statistics depend on x too.
          const m = mean[c]!;
          const s = invStd[c]!;
          const meanG = sumG[c]! / count;
          const meanGXhat = sumGXhat[c]! / count;
          for (let i = 0; i < inner; i++) {
            const xhat = (src[base + i]! - m) * s;
            dx[base + i] = gain * (go[base + i]! - meanG - xhat * meanGXhat);
          }
        }
      }
      grads.push(new Tensor(dx, x.shape));
    } else grads.push(null);
    if (weight) grads.push(needs[1] ? new Tensor(Float32Array.from(sumGXhat), weight.shape) : null);
    if (bias) grads.push(needs[grads.length] ? new Tensor(Float32Array.from(sumG), bias.shape) : null);
    return grads;
  }, training ? {} : {
    // Evaluation mode is affine per channel: d out = scale dx + xhat dweight + dbias.
    tangent: (tangents) => {
      const [dx, dWeight, dBias] = [tangents[0], weight ? tangents[1] : null, bias ? tangents[weight ? 2 : 1] : null];
      const d = new Float32Array(x.size);
      for (let n = 0; n < N; n++) {
        for (let c = 0; c < C; c++) {
          const base = (n * C + c) * inner;
          const scale = invStd[c]! * (weight ? weight.data[c]! : 1);
          const dw = dWeight ? dWeight.data[c]! : 0;
          const db = dBias ? dBias.data[c]! : 0;
          for (let i = 0; i < inner; i++) {
            const xhat = (src[base + i]! - mean[c]!) * invStd[c]!;
            d[base + i] = (dx ? dx.data[base + i]! * scale : 0) + xhat * dw + db;
          }
        }
      }
      return new Tensor(d, x.shape);
    },
  });
}

// ---------------------------------------------------------------------------
// local response normalisation

export interface LocalResponseNormOptions {
  alpha?: number;
  beta?: number;
  k?: number;
  /**
   * Which channels form the neighbourhood of channel c. They agree for odd
   * sizes and differ by one channel for even sizes:
   * 'pytorch' (default): [c - floor(size/2), c + floor((size-1)/2)] (torch.nn.LocalResponseNorm);
   * 'onnx': [c - floor((size-1)/2), c + ceil((size-1)/2)] (the ONNX LRN spec).
   */
  window?: 'pytorch' | 'onnx';
}

/**
 * Local response normalisation across channels (torch.nn.LocalResponseNorm / ONNX LRN):
 * y = x / (k + alpha/size * sum over the neighbourhood of x^2)^beta.
 * Channels beyond the edges count as zeros (the divisor stays size).
 */
export function localResponseNorm(x: Tensor, size: number, options: LocalResponseNormOptions = {}): Tensor {
  if (x.ndim < 3) throw new ShapeError(`localResponseNorm: expected an input [N, C, ...] with at least 3 axes, got shape ${shapeString(x.shape)}`);
  if (!Number.isInteger(size) || size < 1) throw new ArgumentError(`localResponseNorm: size ${size} is not valid; accepted: a positive integer`);
  const alpha = options.alpha ?? 1e-4;
  const beta = options.beta ?? 0.75;
  const k = options.k ?? 1;
  const window = options.window ?? 'pytorch';
  if (window !== 'pytorch' && window !== 'onnx') {
    throw new ArgumentError(`localResponseNorm: window '${String(window)}' is not valid; accepted: 'pytorch' or 'onnx'`);
  }
  const before = window === 'pytorch' ? Math.floor(size / 2) : Math.floor((size - 1) / 2);
  const after = size - 1 - before;
  const N = x.shape[0]!;
  const C = x.shape[1]!;
  const inner = x.size / Math.max(N * C, 1);
  const src = x.data;
  const coef = alpha / size;

  // d = k + alpha/size * windowed sum of squares, kept for the backward rule.
  const d = new Float64Array(x.size);
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      const base = (n * C + c) * inner;
      const lo = Math.max(0, c - before);
      const hi = Math.min(C - 1, c + after);
      for (let j = lo; j <= hi; j++) {
        const other = (n * C + j) * inner;
        for (let i = 0; i < inner; i++) {
          const v = src[other + i]!;
          d[base + i] = d[base + i]! + v * v;
        }
      }
      for (let i = 0; i < inner; i++) d[base + i] = k + coef * d[base + i]!;
    }
  }
  // scale = d^-beta, kept too: the backward needs d^-beta and d^(-beta-1) = scale / d.
  const scale = new Float64Array(x.size);
  const out = new Float32Array(x.size);
  for (let i = 0; i < out.length; i++) {
    const f = Math.pow(d[i]!, -beta);
    scale[i] = f;
    out[i] = src[i]! * f;
  }

  const result = new Tensor(out, x.shape);
  return record('localResponseNorm', result, [x], (gradOutput) => {
    // dx_j = g_j d_j^-beta - 2 beta alpha/size x_j * sum_{c: j in window(c)} g_c x_c d_c^(-beta-1)
    // and j is in window(c) exactly when c is in [j - after, j + before].
    const go = gradOutput.data;
    const t = new Float64Array(x.size);
    for (let i = 0; i < t.length; i++) t[i] = (go[i]! * src[i]! * scale[i]!) / d[i]!;
    const dx = new Float32Array(x.size);
    const windowSum = new Float64Array(inner);
    const factor = 2 * beta * coef;
    for (let n = 0; n < N; n++) {
      for (let j = 0; j < C; j++) {
        const base = (n * C + j) * inner;
        windowSum.fill(0);
        for (let c = Math.max(0, j - after); c <= Math.min(C - 1, j + before); c++) {
          const other = (n * C + c) * inner;
          for (let i = 0; i < inner; i++) windowSum[i] = windowSum[i]! + t[other + i]!;
        }
        for (let i = 0; i < inner; i++) {
          dx[base + i] = go[base + i]! * scale[base + i]! - factor * src[base + i]! * windowSum[i]!;
        }
      }
    }
    return [new Tensor(dx, x.shape)];
  });
}

/** Evaluation mode's per-channel mean and 1 / sqrt(var + eps), from the running statistics. */
function runningStatistics(runningMean: Tensor, runningVar: Tensor, eps: number, mean: Float64Array, invStd: Float64Array): void {
  for (let c = 0; c < mean.length; c++) {
    mean[c] = runningMean.data[c]!;
    invStd[c] = 1 / Math.sqrt(runningVar.data[c]! + eps);
  }
}

/** y = x * scale + shift per channel: batch norm's affine map for a mean and 1 / std. */
function scaleAndShift(mean: Float64Array, invStd: Float64Array, weight: Tensor | null | undefined, bias: Tensor | null | undefined): { scale: Float64Array; shift: Float64Array } {
  const C = mean.length;
  const scale = new Float64Array(C);
  const shift = new Float64Array(C);
  for (let c = 0; c < C; c++) {
    scale[c] = invStd[c]! * (weight ? weight.data[c]! : 1);
    shift[c] = (bias ? bias.data[c]! : 0) - mean[c]! * scale[c]!;
  }
  return { scale, shift };
}

/**
 * Evaluation-mode batch norm of x [N, C, ...] written into `out` (which may be
 * x's own data), then ReLU when asked: the same values, bit for bit, as
 * relu(batchNorm(x, ...)). It records nothing, so it is only for callers that
 * know nothing needs a gradient and nothing else sees `out` (layers/fusion.ts).
 */
export function batchNormEvalInto(
  x: Tensor,
  out: Float32Array,
  runningMean: Tensor,
  runningVar: Tensor,
  weight: Tensor | null,
  bias: Tensor | null,
  eps: number,
  reluAfter: boolean,
): Tensor {
  const C = x.shape[1]!;
  const inner = x.size / Math.max(x.shape[0]! * C, 1);
  const { scale, shift } = batchNormEvalAffine(runningMean, runningVar, weight, bias, eps, reluAfter);
  kernels().scaleShift(x.data, out, C, inner, scale, shift, reluAfter);
  return out === x.data ? x : new Tensor(out, x.shape);
}

/**
 * Evaluation-mode batch norm (then ReLU when asked) as the per-channel
 * scale and shift that batchNormEvalInto applies: for a convolution to apply
 * it to its own output (conv2dThen), with the same values.
 */
export function batchNormEvalAffine(runningMean: Tensor, runningVar: Tensor, weight: Tensor | null, bias: Tensor | null, eps: number, reluAfter: boolean): ChannelAffine {
  const C = runningMean.size;
  const mean = new Float64Array(C);
  const invStd = new Float64Array(C);
  runningStatistics(runningMean, runningVar, eps, mean, invStd);
  return { ...scaleAndShift(mean, invStd, weight, bias), relu: reluAfter };
}
