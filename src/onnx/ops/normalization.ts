import { groupNorm, layerNorm } from '../../tensor/ops/layerNorm.js';
import { add, mul, sqrt, sub, div } from '../../tensor/ops/elementwise.js';
import { mean } from '../../tensor/ops/reduce.js';
import { expand, reshape } from '../../tensor/ops/shape.js';
import type { Tensor } from '../../tensor/tensor.js';
import { input, nodeError, normalizeAxisFor, type OpCall, type OpImpl } from './types.js';

/*
 * LayerNormalization (opset 17), InstanceNormalization and
 * GroupNormalization (opsets 18 and 21). Older exports write layer and group
 * norm as ReduceMean / Sub / Pow / Sqrt / Div chains, which need nothing here.
 */

/** A parameter broadcast to `shape` (ONNX lets Scale and B broadcast), flattened. */
function paramFor(call: OpCall, t: Tensor | undefined, shape: readonly number[], what: string): Tensor | null {
  if (!t) return null;
  const size = shape.reduce((s, d) => s * d, 1);
  if (t.size === size) return t;
  try {
    return reshape(expand(t, shape), [size]);
  } catch {
    throw nodeError(call, `${what} of shape [${t.shape.join(', ')}] does not broadcast to the normalised shape [${shape.join(', ')}]`);
  }
}

/**
 * LayerNormalization: normalise over the axes from `axis` on. The optional
 * Mean and InvStdDev outputs (kept-dims shape) are computed when named.
 */
const layerNormalization: OpImpl = (call) => {
  const x = input(call, 0);
  const axis = normalizeAxisFor(call, call.attrs.int('axis', -1), x.ndim);
  const eps = call.attrs.float('epsilon', 1e-5);
  const normalized = x.shape.slice(axis);
  const y = layerNorm(x, axis, paramFor(call, call.inputs[1], normalized, 'Scale'), paramFor(call, call.inputs[2], normalized, 'B'), eps);
  if (!call.node.outputs[1] && !call.node.outputs[2]) return y;
  const axes = normalized.map((_, i) => axis + i);
  const m = mean(x, axes, true);
  const centred = sub(x, m);
  const invStd = div(1, sqrt(add(mean(mul(centred, centred), axes, true), eps)));
  return [y, m, invStd];
};

const instanceNormalization: OpImpl = (call) => {
  const x = input(call, 0);
  if (x.ndim < 3) throw nodeError(call, `input of shape [${x.shape.join(', ')}] needs at least 3 axes [N, C, ...]`);
  const c = x.shape[1]!;
  return groupNorm(x, c, paramFor(call, input(call, 1), [c], 'scale'), paramFor(call, input(call, 2), [c], 'B'), call.attrs.float('epsilon', 1e-5));
};

/**
 * GroupNormalization: opset 18 gives scale and bias per group ([G]), opset
 * 21 per channel ([C]); a [G] parameter is spread over each group's channels.
 */
const groupNormalization: OpImpl = (call) => {
  const x = input(call, 0);
  if (x.ndim < 2) throw nodeError(call, `input of shape [${x.shape.join(', ')}] needs at least 2 axes [N, C, ...]`);
  const groups = call.attrs.int('num_groups', 0);
  const c = x.shape[1]!;
  if (groups < 1 || c % groups !== 0) throw nodeError(call, `num_groups ${groups} does not divide the ${c} channels`);
  const perChannel = (t: Tensor | undefined, what: string): Tensor | null => {
    if (!t) return null;
    if (t.size === c) return reshape(t, [c]);
    if (t.size === groups) return reshape(expand(reshape(t, [groups, 1]), [groups, c / groups]), [c]);
    throw nodeError(call, `${what} has ${t.size} values; expected ${groups} (one per group, opset 18) or ${c} (one per channel, opset 21)`);
  };
  return groupNorm(x, groups, perChannel(input(call, 1), 'scale'), perChannel(input(call, 2), 'bias'), call.attrs.float('epsilon', 1e-5));
};

export const normalizationOps = {
  LayerNormalization: layerNormalization,
  InstanceNormalization: instanceNormalization,
  GroupNormalization: groupNormalization,
} satisfies Record<string, OpImpl>;
