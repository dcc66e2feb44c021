import { record } from '../autograd.js';
import { kernels } from '../backend.js';
import { slopeTangent, tangentSum } from '../tangent.js';
import { ArgumentError, ShapeError } from '../errors.js';
import { bitsOf } from '../kernels/elementwise.js';
import { Tensor, shapeString } from '../tensor.js';
import { bufferToOverwrite } from '../buffer-pool.js';

/**
 * Elementwise activations, each a forward loop and a backward loop over
 * Float32Array (no per-element callbacks: relu runs over every activation
 * of a network). Gradient conventions at kinks follow PyTorch's kernels.
 */

/** How relu's backward treats the gradient: PyTorch's rule, guided backprop, or deconvnet. */
export type ReluBackwardRule = 'standard' | 'guided' | 'deconvnet';

function requireNumber(op: string, name: string, v: number): void {
  if (typeof v !== 'number' || Number.isNaN(v)) throw new ArgumentError(`${op}: ${name} must be a number, got ${String(v)}`);
}

/**
 * max(x, 0). Gradient at 0 is 0 (PyTorch). `backwardRule: 'guided'` passes
 * grad * (x > 0) * (grad > 0) (Springenberg et al.); `'deconvnet'` passes
 * relu(grad) regardless of x (Zeiler & Fergus).
 */
export function relu(x: Tensor, options: { backwardRule?: ReluBackwardRule } = {}): Tensor {
  const rule = options.backwardRule ?? 'standard';
  if (rule !== 'standard' && rule !== 'guided' && rule !== 'deconvnet') {
    throw new ArgumentError(`relu: backwardRule '${String(rule)}' is not supported (accepted: 'standard', 'guided', 'deconvnet')`);
  }
  const n = x.size;
  const out = bufferToOverwrite(n);
  kernels().relu(x.data, out);
  return record('relu', new Tensor(out, x.shape), [x], (g) => {
    const gi = new Float32Array(n);
    const xb = bitsOf(x.data);
    const gb = bitsOf(g.data);
    const ib = bitsOf(gi);
    if (rule === 'standard') {
      for (let i = 0; i < n; i++) ib[i] = gb[i]! & positiveMask(xb[i]!);
    } else if (rule === 'guided') {
      for (let i = 0; i < n; i++) {
        const v = gb[i]!;
        ib[i] = v & positiveMask(xb[i]!) & positiveMask(v);
      }
    } else {
      for (let i = 0; i < n; i++) {
        const v = gb[i]!;
        ib[i] = v & positiveMask(v);
      }
    }
    return [new Tensor(gi, x.shape)];
  }, { tangent: ([dx]) => slopeTangent(dx!, x, (v) => (v > 0 ? 1 : 0)) });
}

// relu's backward works on float32 bit patterns, without branches (see
// ../kernels/elementwise.ts for why).

/** All ones when the float32 with bits `b` is > 0 (+0 and -0 are not), else 0. */
function positiveMask(b: number): number {
  // -b & ~b has its sign bit set exactly for 0 < b as int32 (b = INT_MIN is -0)
  return (-b & ~b) >> 31;
}

/** min(max(x, 0), 6); gradient only for 0 < x < 6 (torch's hardtanh_backward). */
export function relu6(x: Tensor): Tensor {
  const xd = x.data;
  const n = xd.length;
  const out = bufferToOverwrite(n);
  kernels().relu6(xd, out);
  return record('relu6', new Tensor(out, x.shape), [x], (g) => {
    const gd = g.data;
    const gi = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const v = xd[i]!;
      gi[i] = v > 0 && v < 6 ? gd[i]! : 0;
    }
    return [new Tensor(gi, x.shape)];
  }, { tangent: ([dx]) => slopeTangent(dx!, x, (v) => (v > 0 && v < 6 ? 1 : 0)) });
}

/**
 * out[i] = src[i] clamped to [lo, hi] (out may be src): a NaN stays NaN and
 * -0 stays -0, as clip's values (the ONNX conv chains clamp in place with it).
 */
export function clampInto(src: Float32Array, out: Float32Array, lo: number, hi: number): void {
  for (let i = 0; i < src.length; i++) {
    let v = src[i]!;
    if (v < lo) v = lo;
    if (v > hi) v = hi;
    out[i] = v;
  }
}

/**
 * Clamp to [min, max] (either may be omitted), as torch.clamp: NaN stays
 * NaN, min > max gives max everywhere, and the gradient passes where
 * min <= x <= max (boundaries included). With neither bound it is the
 * identity, as ONNX Clip without min and max (torch.clamp would refuse).
 */
export function clip(x: Tensor, min?: number, max?: number): Tensor {
  if (min !== undefined) requireNumber('clip', 'min', min);
  if (max !== undefined) requireNumber('clip', 'max', max);
  const lo = min ?? Number.NEGATIVE_INFINITY;
  const hi = max ?? Number.POSITIVE_INFINITY;
  const xd = x.data;
  const n = xd.length;
  const out = new Float32Array(n);
  clampInto(xd, out, lo, hi);
  return record('clip', new Tensor(out, x.shape), [x], (g) => {
    const gd = g.data;
    const gi = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const v = xd[i]!;
      gi[i] = v >= lo && v <= hi ? gd[i]! : 0;
    }
    return [new Tensor(gi, x.shape)];
  }, { tangent: ([dx]) => slopeTangent(dx!, x, (v) => (v >= lo && v <= hi ? 1 : 0)) });
}

/** x for x > 0, negativeSlope * x otherwise (the gradient at 0 is negativeSlope, as torch). */
export function leakyRelu(x: Tensor, negativeSlope = 0.01): Tensor {
  requireNumber('leakyRelu', 'negativeSlope', negativeSlope);
  const xd = x.data;
  const n = xd.length;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const v = xd[i]!;
    out[i] = v > 0 ? v : v * negativeSlope;
  }
  return record('leakyRelu', new Tensor(out, x.shape), [x], (g) => {
    const gd = g.data;
    const gi = new Float32Array(n);
    for (let i = 0; i < n; i++) gi[i] = xd[i]! > 0 ? gd[i]! : gd[i]! * negativeSlope;
    return [new Tensor(gi, x.shape)];
  }, { tangent: ([dx]) => slopeTangent(dx!, x, (v) => (v > 0 ? 1 : negativeSlope)) });
}

/**
 * PReLU: x for x > 0, weight[c] * x otherwise. `weight` has 1 or C entries
 * (channel axis 1; a tensor of fewer than 2 axes has one channel).
 * Gradients flow to both x and the weight.
 */
export function prelu(x: Tensor, weight: Tensor): Tensor {
  const channels = x.ndim >= 2 ? x.shape[1]! : 1;
  const shared = weight.size === 1;
  if (!shared && weight.size !== channels) {
    throw new ShapeError(
      `prelu: weight of shape ${shapeString(weight.shape)} has ${weight.size} entries; input of shape ${shapeString(x.shape)} needs 1 or ${channels} (one per channel, axis 1)`,
    );
  }
  let inner = 1;
  for (let a = 2; a < x.ndim; a++) inner *= x.shape[a]!;
  const outer = channels * inner === 0 ? 0 : x.size / (channels * inner);
  const xd = x.data;
  const wd = weight.data;
  const out = new Float32Array(x.size);
  for (let o = 0, i = 0; o < outer; o++) {
    for (let c = 0; c < channels; c++) {
      const w = wd[shared ? 0 : c]!;
      for (let j = 0; j < inner; j++, i++) {
        const v = xd[i]!;
        out[i] = v > 0 ? v : w * v;
      }
    }
  }
  return record('prelu', new Tensor(out, x.shape), [x, weight], (g, needs) => {
    const gd = g.data;
    const gx = needs[0] ? new Float32Array(x.size) : null;
    // per-channel sums in float64: a weight's gradient gathers N*H*W terms
    const gw = needs[1] ? new Float64Array(channels) : null;
    for (let o = 0, i = 0; o < outer; o++) {
      for (let c = 0; c < channels; c++) {
        const w = wd[shared ? 0 : c]!;
        let acc = 0;
        for (let j = 0; j < inner; j++, i++) {
          const v = xd[i]!;
          const gv = gd[i]!;
          if (v > 0) {
            if (gx) gx[i] = gv;
          } else {
            if (gx) gx[i] = w * gv;
            acc += v * gv;
          }
        }
        if (gw) gw[c]! += acc;
      }
    }
    let weightGrad: Tensor | null = null;
    if (gw) {
      const data = new Float32Array(weight.size);
      if (shared) data[0] = gw.reduce((s, v) => s + v, 0);
      else for (let c = 0; c < channels; c++) data[c] = gw[c]!;
      weightGrad = new Tensor(data, weight.shape);
    }
    return [gx ? new Tensor(gx, x.shape) : null, weightGrad];
  }, {
    tangent: ([dx, dw]) => {
      const out = tangentSum(x.shape, dx ? slopeTangent(dx, x, () => 1) : null);
      for (let o = 0, i = 0; o < outer; o++) {
        for (let c = 0; c < channels; c++) {
          const w = wd[shared ? 0 : c]!;
          const dwc = dw ? dw.data[shared ? 0 : c]! : 0;
          for (let j = 0; j < inner; j++, i++) {
            const v = xd[i]!;
            if (v <= 0) out.data[i] = (dx ? w * dx.data[i]! : 0) + dwc * v;
          }
        }
      }
      return out;
    },
  });
}

/** x for x > 0, alpha * (exp(x) - 1) otherwise. */
export function elu(x: Tensor, alpha = 1): Tensor {
  requireNumber('elu', 'alpha', alpha);
  return eluScaled('elu', x, alpha, 1);
}

/** SELU's constants, as PyTorch (Klambauer et al., 2017). */
const SELU_ALPHA = 1.6732632423543772848170429916717;
const SELU_SCALE = 1.0507009873554804934193349852946;

/** scale * elu(x, alpha) with PyTorch's constants. */
export function selu(x: Tensor): Tensor {
  return eluScaled('selu', x, SELU_ALPHA, SELU_SCALE);
}

function eluScaled(op: string, x: Tensor, alpha: number, scale: number): Tensor {
  const xd = x.data;
  const n = xd.length;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const v = xd[i]!;
    out[i] = v > 0 ? scale * v : scale * alpha * Math.expm1(v);
  }
  return record(op, new Tensor(out, x.shape), [x], (g) => {
    const gd = g.data;
    const gi = new Float32Array(n);
    const negative = scale * alpha;
    for (let i = 0; i < n; i++) {
      const v = xd[i]!;
      gi[i] = v > 0 ? gd[i]! * scale : gd[i]! * negative * Math.exp(v);
    }
    return [new Tensor(gi, x.shape)];
  });
}

/** 1 / (1 + exp(-x)), computed without overflow for large |x|. */
export function sigmoid(x: Tensor): Tensor {
  const xd = x.data;
  const n = xd.length;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const v = xd[i]!;
    if (v >= 0) out[i] = 1 / (1 + Math.exp(-v));
    else {
      const e = Math.exp(v);
      out[i] = e / (1 + e);
    }
  }
  return record('sigmoid', new Tensor(out, x.shape), [x], (g) => {
    const gd = g.data;
    const gi = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const s = out[i]!;
      gi[i] = gd[i]! * s * (1 - s);
    }
    return [new Tensor(gi, x.shape)];
  }, {
    tangent: ([dx]) => slopeTangent(dx!, new Tensor(out, x.shape), (s) => s * (1 - s)),
    // d/dt g s (1 - s) = g (1 - 2 s) s (1 - s) dx
    curvature: ([dx], g) => [new Tensor(Float32Array.from(out, (s, i) => g.data[i]! * (1 - 2 * s) * s * (1 - s) * dx!.data[i]!), x.shape)],
  });
}

export function tanh(x: Tensor): Tensor {
  const xd = x.data;
  const n = xd.length;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.tanh(xd[i]!);
  return record('tanh', new Tensor(out, x.shape), [x], (g) => {
    const gd = g.data;
    const gi = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const t = out[i]!;
      gi[i] = gd[i]! * (1 - t * t);
    }
    return [new Tensor(gi, x.shape)];
  }, {
    tangent: ([dx]) => slopeTangent(dx!, new Tensor(out, x.shape), (t) => 1 - t * t),
    // d/dt g (1 - t^2) = -2 g t (1 - t^2) dx
    curvature: ([dx], g) => [new Tensor(Float32Array.from(out, (t, i) => -2 * g.data[i]! * t * (1 - t * t) * dx!.data[i]!), x.shape)],
  });
}

/** log(1 + exp(beta x)) / beta, linear above `threshold` (PyTorch: where beta * x > threshold). */
export function softplus(x: Tensor, options: { beta?: number; threshold?: number } = {}): Tensor {
  const beta = options.beta ?? 1;
  const threshold = options.threshold ?? 20;
  requireNumber('softplus', 'beta', beta);
  requireNumber('softplus', 'threshold', threshold);
  if (beta === 0) throw new ArgumentError('softplus: beta must be non-zero (it divides the result)');
  const xd = x.data;
  const n = xd.length;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const v = xd[i]!;
    const z = v * beta;
    // log1p(exp(z)) = max(z, 0) + log1p(exp(-|z|)) avoids overflow for large z
    out[i] = z > threshold ? v : (Math.max(z, 0) + Math.log1p(Math.exp(-Math.abs(z)))) / beta;
  }
  return record('softplus', new Tensor(out, x.shape), [x], (g) => {
    const gd = g.data;
    const gi = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const z = xd[i]! * beta;
      // d/dx = sigmoid(beta x)
      gi[i] = z > threshold ? gd[i]! : z >= 0 ? gd[i]! / (1 + Math.exp(-z)) : (gd[i]! * Math.exp(z)) / (1 + Math.exp(z));
    }
    return [new Tensor(gi, x.shape)];
  });
}

/**
 * max(0, min(1, alpha x + beta)); PyTorch's defaults alpha = 1/6, beta = 0.5
 * (ONNX's are 0.2, 0.5). The gradient is alpha strictly inside the linear
 * part and 0 elsewhere, including its ends (torch: -3 < x < 3).
 */
export function hardSigmoid(x: Tensor, options: { alpha?: number; beta?: number } = {}): Tensor {
  const alpha = options.alpha ?? 1 / 6;
  const beta = options.beta ?? 0.5;
  requireNumber('hardSigmoid', 'alpha', alpha);
  requireNumber('hardSigmoid', 'beta', beta);
  const xd = x.data;
  const n = xd.length;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const t = alpha * xd[i]! + beta;
    out[i] = t <= 0 ? 0 : t >= 1 ? 1 : t;
  }
  return record('hardSigmoid', new Tensor(out, x.shape), [x], (g) => {
    const gd = g.data;
    const gi = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const t = alpha * xd[i]! + beta;
      gi[i] = t > 0 && t < 1 ? gd[i]! * alpha : 0;
    }
    return [new Tensor(gi, x.shape)];
  }, { tangent: ([dx]) => slopeTangent(dx!, x, (v) => (alpha * v + beta > 0 && alpha * v + beta < 1 ? alpha : 0)) });
}

/**
 * x * relu6(x + 3) / 6. Gradient as PyTorch's hardswish_backward (CPU, CUDA,
 * MPS since 2.x): 0 for x <= -3, x / 3 + 1/2 for -3 < x < 3, 1 for x >= 3.
 */
export function hardSwish(x: Tensor): Tensor {
  const xd = x.data;
  const n = xd.length;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const v = xd[i]!;
    out[i] = v <= -3 ? 0 : v >= 3 ? v : (v * (v + 3)) / 6;
  }
  return record('hardSwish', new Tensor(out, x.shape), [x], (g) => {
    const gd = g.data;
    const gi = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const v = xd[i]!;
      gi[i] = v <= -3 ? 0 : v >= 3 ? gd[i]! : gd[i]! * (v / 3 + 0.5);
    }
    return [new Tensor(gi, x.shape)];
  });
}
