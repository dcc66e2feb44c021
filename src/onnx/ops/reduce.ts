import { abs, add, exp, log, mul, sqrt, sub } from '../../tensor/ops/elementwise.js';
import { prod } from '../../tensor/ops/prod.js';
import { max, mean, min, sum } from '../../tensor/ops/reduce.js';
import type { Tensor } from '../../tensor/tensor.js';
import { identity } from './elementwise.js';
import { axesFrom, input, normalizeAxisFor, type OpImpl } from './types.js';

/**
 * The Reduce* ops: axes as an attribute (before opset 13 for ReduceSum, 18
 * for the others) or as an input; no axes reduces everything unless
 * noop_with_empty_axes is set; keepdims defaults to 1. ReduceMax / ReduceMin
 * send the gradient to the first extremum (PyTorch's max(dim)).
 */
const reduce = (f: (x: Tensor, axes: number[], keepdim: boolean) => Tensor): OpImpl => (call) => {
  const x = input(call, 0);
  const keepdims = call.attrs.int('keepdims', 1) !== 0;
  const axes = axesFrom(call, 1);
  if (!axes || axes.length === 0) {
    if (call.attrs.int('noop_with_empty_axes', 0) !== 0) return identity(x);
    return f(x, x.shape.map((_, i) => i), keepdims);
  }
  return f(x, axes.map((a) => normalizeAxisFor(call, a, x.ndim)), keepdims);
};

/** log(sum(exp(x))) shifted by the (constant) maximum so exp never overflows. */
function logSumExp(x: Tensor, axes: number[], keep: boolean): Tensor {
  const m = max(x, axes, true).detach();
  const s = log(sum(exp(sub(x, m)), axes, true));
  const y = add(s, m);
  return keep ? y : sum(y, axes, false);
}

export const reduceOps = {
  ReduceMean: reduce((x, axes, keep) => mean(x, axes, keep)),
  ReduceSum: reduce((x, axes, keep) => sum(x, axes, keep)),
  ReduceMax: reduce((x, axes, keep) => max(x, axes, keep)),
  ReduceMin: reduce((x, axes, keep) => min(x, axes, keep)),
  ReduceProd: reduce((x, axes, keep) => prod(x, axes, keep)),
  ReduceL1: reduce((x, axes, keep) => sum(abs(x), axes, keep)),
  ReduceL2: reduce((x, axes, keep) => sqrt(sum(mul(x, x), axes, keep))),
  ReduceSumSquare: reduce((x, axes, keep) => sum(mul(x, x), axes, keep)),
  ReduceLogSum: reduce((x, axes, keep) => log(sum(x, axes, keep))),
  ReduceLogSumExp: reduce(logSumExp),
} satisfies Record<string, OpImpl>;
