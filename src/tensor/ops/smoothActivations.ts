import { record } from '../autograd.js';
import { ArgumentError } from '../errors.js';
import { Tensor } from '../tensor.js';

/**
 * The smooth activations of transformer-era networks: erf (what GELU exports
 * to before ONNX opset 20), GELU (exact and tanh-approximated, as
 * F.gelu(approximate=...)) and Mish. Forward loops in float64, backward next
 * to each.
 */

const TWO_OVER_SQRT_PI = 1.1283791670955126;
const SQRT_HALF = 0.7071067811865476;
const INV_SQRT_2PI = 0.3989422804014327;

/**
 * erf(x) in float64, to about 1e-7 relative (finer than float32): the Taylor
 * series near 0, where 1 - erfc would lose the digits, and Numerical
 * Recipes' Chebyshev fit of erfc (fractional error < 1.2e-7) elsewhere.
 */
export function erfScalar(x: number): number {
  const z = Math.abs(x);
  if (z < 0.5) {
    // erf(x) = 2/sqrt(pi) * sum (-1)^n x^(2n+1) / (n! (2n+1))
    const x2 = x * x;
    let term = x;
    let sum = x;
    for (let n = 1; n < 12; n++) {
      term *= -x2 / n;
      sum += term / (2 * n + 1);
    }
    return TWO_OVER_SQRT_PI * sum;
  }
  if (z > 6) return x > 0 ? 1 : -1;
  const t = 1 / (1 + 0.5 * z);
  const erfc =
    t *
    Math.exp(
      -z * z - 1.26551223 +
        t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 +
          t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x > 0 ? 1 - erfc : erfc - 1;
}

/** The Gauss error function, elementwise; d/dx = 2/sqrt(pi) exp(-x^2). */
export function erf(x: Tensor): Tensor {
  const xd = x.data;
  const n = xd.length;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = erfScalar(xd[i]!);
  return record('erf', new Tensor(out, x.shape), [x], (g) => {
    const gd = g.data;
    const gi = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const v = xd[i]!;
      gi[i] = gd[i]! * TWO_OVER_SQRT_PI * Math.exp(-v * v);
    }
    return [new Tensor(gi, x.shape)];
  });
}

export type GeluApproximation = 'none' | 'tanh';

const TANH_C = 0.7978845608028654; // sqrt(2 / pi)
const TANH_K = 0.044715;

/**
 * GELU, as F.gelu: 'none' is x * Phi(x) = x/2 (1 + erf(x / sqrt 2));
 * 'tanh' is x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).
 */
export function gelu(x: Tensor, approximate: GeluApproximation = 'none'): Tensor {
  if (approximate !== 'none' && approximate !== 'tanh') {
    throw new ArgumentError(`gelu: approximate '${String(approximate)}' is not supported (accepted: 'none', 'tanh')`);
  }
  const xd = x.data;
  const n = xd.length;
  const out = new Float32Array(n);
  if (approximate === 'none') {
    for (let i = 0; i < n; i++) {
      const v = xd[i]!;
      out[i] = 0.5 * v * (1 + erfScalar(v * SQRT_HALF));
    }
  } else {
    for (let i = 0; i < n; i++) {
      const v = xd[i]!;
      out[i] = 0.5 * v * (1 + Math.tanh(TANH_C * (v + TANH_K * v * v * v)));
    }
  }
  return record('gelu', new Tensor(out, x.shape), [x], (g) => {
    const gd = g.data;
    const gi = new Float32Array(n);
    if (approximate === 'none') {
      // d/dx x Phi(x) = Phi(x) + x phi(x)
      for (let i = 0; i < n; i++) {
        const v = xd[i]!;
        const cdf = 0.5 * (1 + erfScalar(v * SQRT_HALF));
        gi[i] = gd[i]! * (cdf + v * INV_SQRT_2PI * Math.exp(-0.5 * v * v));
      }
    } else {
      for (let i = 0; i < n; i++) {
        const v = xd[i]!;
        const inner = TANH_C * (v + TANH_K * v * v * v);
        const t = Math.tanh(inner);
        const dInner = TANH_C * (1 + 3 * TANH_K * v * v);
        gi[i] = gd[i]! * (0.5 * (1 + t) + 0.5 * v * (1 - t * t) * dInner);
      }
    }
    return [new Tensor(gi, x.shape)];
  });
}

/** softplus(v) = log(1 + e^v) without overflow. */
function softplusScalar(v: number): number {
  return Math.max(v, 0) + Math.log1p(Math.exp(-Math.abs(v)));
}

/**
 * Mish (Misra, 2019): x tanh(softplus(x)), as F.mish;
 * d/dx = tanh(sp) + x sigmoid(x) (1 - tanh(sp)^2).
 */
export function mish(x: Tensor): Tensor {
  const xd = x.data;
  const n = xd.length;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const v = xd[i]!;
    out[i] = v * Math.tanh(softplusScalar(v));
  }
  return record('mish', new Tensor(out, x.shape), [x], (g) => {
    const gd = g.data;
    const gi = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const v = xd[i]!;
      const t = Math.tanh(softplusScalar(v));
      const s = v >= 0 ? 1 / (1 + Math.exp(-v)) : Math.exp(v) / (1 + Math.exp(v));
      gi[i] = gd[i]! * (t + v * s * (1 - t * t));
    }
    return [new Tensor(gi, x.shape)];
  });
}
