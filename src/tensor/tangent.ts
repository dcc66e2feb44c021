import { enableGrad } from './autograd.js';
import { broadcastIndex } from './broadcast.js';
import { GradError } from './errors.js';
import { Tensor, sizeOf, type Shape } from './tensor.js';

/**
 * Helpers for the ops' forward-mode tangent rules (GradNode.tangent): the
 * derivative of an op's output along its inputs' tangents, for linear and
 * piecewise-linear ops.
 */

/** The sum of tangent terms, each broadcast to `shape`; missing terms are zero. */
export function tangentSum(shape: Shape, ...terms: (Tensor | null | undefined)[]): Tensor {
  const out = new Float32Array(sizeOf(shape));
  for (const t of terms) {
    if (!t) continue;
    const index = broadcastIndex(t.shape, shape);
    const d = t.data;
    if (index) for (let i = 0; i < out.length; i++) out[i] = out[i]! + d[index[i]!]!;
    else for (let i = 0; i < out.length; i++) out[i] = out[i]! + d[i]!;
  }
  return new Tensor(out, shape);
}

/** dx * slope(x) elementwise (the tangent of an elementwise piecewise-linear op). */
export function slopeTangent(dx: Tensor, x: Tensor, slope: (v: number) => number): Tensor {
  const out = new Float32Array(dx.size);
  const xd = x.data;
  const dd = dx.data;
  for (let i = 0; i < out.length; i++) out[i] = dd[i]! * slope(xd[i]!);
  return new Tensor(out, dx.shape);
}

/**
 * For a curvature rule asked for second derivatives tinycam does not have
 * (a convolution's or Linear's in its weight): hessianVectorProduct's
 * callers can fall back on finite differences.
 */
export function noCurvature(op: string, what: string): never {
  throw new GradError(`hessianVectorProduct: ${op} has no second derivatives ${what}`);
}

/** A curvature rule for ops that are linear in input 0 and whose other inputs are weights: zero, unless weights vary. */
export function weightCurvature(op: string) {
  return (tangents: readonly (Tensor | null)[], _g: Tensor, needs: readonly boolean[]): (Tensor | null)[] => {
    if (tangents.slice(1).some((t) => t !== null) || (tangents[0] && needs.slice(1).some(Boolean))) {
      noCurvature(op, 'in its weight');
    }
    return [];
  };
}

/** A zero tangent for an input with no tangent of its own. */
export function zeroTangent(like: Tensor): Tensor {
  return new Tensor(new Float32Array(like.size), like.shape);
}

/** A leaf copy of `t` that requires grad (sharing its data), for backwardOf. */
export function leafOf(t: Tensor): Tensor {
  return new Tensor(t.data, t.shape, true);
}

/**
 * Input k's gradient, for gradOutput g, of the op that `build` records:
 * bilinear ops' curvature rules are their own backward rule with one input
 * replaced by its tangent (input k must be a leafOf copy).
 */
export function backwardOf(build: () => Tensor, g: Tensor, k: number): Tensor {
  const out = enableGrad(build);
  const node = out.gradFn!;
  return node.backward(g, node.inputs.map((_, i) => i === k))[k]!;
}
