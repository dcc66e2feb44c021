import { add, div, maximum, minimum, mul, sqrt, sub } from '../../../tensor/ops/elementwise.js';
import { max, mean, sum } from '../../../tensor/ops/reduce.js';
import type { Tensor } from '../../../tensor/tensor.js';
import { aligned, axisFor, canonical, input, ints, type OpCall, type TfOp, type TfValue } from '../types.js';

/**
 * Elementwise arithmetic with TensorFlow's broadcasting (operands aligned to
 * the stored layout, see `aligned`), Rsqrt / Sqrt / Square, and the Mean,
 * Max and Sum reductions.
 */

const binary = (f: (a: Tensor, b: Tensor) => Tensor): TfOp => (call) => {
  const a = input(call, 0);
  const { tensors, permuted } = aligned([a, input(call, 1)]);
  return { tensor: f(tensors[0]!, tensors[1]!), type: { dtype: a.type.dtype, permuted } };
};

const unary = (f: (x: Tensor) => Tensor): TfOp => (call) => {
  const x = input(call, 0);
  return { tensor: f(x.tensor), type: x.type };
};

/**
 * Mean / Max / Sum over the axes input 1 gives. A stored channels-first 4-D
 * input reduced over its image axes (global pooling) stays as it is, with the
 * axes mapped; with keep_dims the result keeps the storage; other reductions
 * run on the TensorFlow layout.
 */
const reduction = (f: (x: Tensor, axes: number[], keep: boolean) => Tensor): TfOp => (call: OpCall): TfValue => {
  const x = input(call, 0);
  const rank = x.tensor.ndim;
  const axes = [...new Set(ints(call, 1).map((a) => axisFor(call, a, rank)))].sort((p, q) => p - q);
  const keep = call.node.attrs.bool('keep_dims', false);
  const type = { dtype: x.type.dtype, permuted: false };
  if (axes.length === 0) return x;
  if (x.type.permuted) {
    const mapped = axes.map((a) => call.layout.axis(a, 4));
    if (keep) return { tensor: f(x.tensor, mapped, true), type: x.type };
    // [N, C, H, W] over H and W is [N, C] in either layout.
    if (axes.join() === '1,2') return { tensor: f(x.tensor, mapped, false), type };
  }
  return { tensor: f(canonical(x), axes, keep), type };
};

export const mathOps: Record<string, TfOp> = {
  Add: binary(add),
  AddV2: binary(add),
  Sub: binary(sub),
  Mul: binary(mul),
  RealDiv: binary(div),
  Maximum: binary(maximum),
  Minimum: binary(minimum),
  Sqrt: unary(sqrt),
  Rsqrt: unary((x) => div(1, sqrt(x))),
  Square: unary((x) => mul(x, x)),
  Mean: reduction((x, axes, keep) => mean(x, axes, keep)),
  Sum: reduction((x, axes, keep) => sum(x, axes, keep)),
  Max: reduction((x, axes, keep) => max(x, axes, keep)),
};
