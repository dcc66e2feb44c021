import { concat, pad, permute, reshape, slice, squeeze, unsqueeze } from '../../../tensor/ops/shape.js';
import { Tensor } from '../../../tensor/tensor.js';
import { axisFor, canonical, constant, input, int, ints, opError, type OpCall, type TfOp, type TfValue } from '../types.js';

/**
 * Identity, Reshape, Squeeze, ExpandDims, ConcatV2, Pack, Shape,
 * StridedSlice, Transpose and Pad / PadV2 / MirrorPad. They work on the
 * TensorFlow layout (`canonical`), except ConcatV2 and the pads, which map
 * their axes when every input is stored channels-first.
 */

const same = (v: TfValue, tensor: Tensor): TfValue => ({ tensor, type: { dtype: v.type.dtype, permuted: false } });

const identity: TfOp = (call) => input(call, 0);

const reshapeOp: TfOp = (call) => {
  const x = input(call, 0);
  return same(x, reshape(canonical(x), ints(call, 1)));
};

const squeezeOp: TfOp = (call) => {
  const x = input(call, 0);
  const axes = call.node.attrs.ints('squeeze_dims') ?? call.node.attrs.ints('axis') ?? [];
  const t = canonical(x);
  return same(x, axes.length ? squeeze(t, axes) : squeeze(t));
};

const expandDims: TfOp = (call) => {
  const x = input(call, 0);
  return same(x, unsqueeze(canonical(x), ints(call, 1)[0]!));
};

/** ConcatV2(values..., axis). */
const concatV2: TfOp = (call) => {
  const values = call.inputs.slice(0, -1);
  const axis = Math.round(call.inputs[call.inputs.length - 1]!.tensor.data[0]!);
  const first = values[0];
  if (!first) throw opError(call, 'has nothing to concatenate');
  const rank = first.tensor.ndim;
  const a = axisFor(call, axis, rank);
  if (values.every((v) => v.type.permuted)) {
    return { tensor: concat(values.map((v) => v.tensor), call.layout.axis(a, rank)), type: first.type };
  }
  return same(first, concat(values.map(canonical), a));
};

/** Pack (tf.stack) along `axis`. */
const pack: TfOp = (call) => {
  const axis = call.node.attrs.int('axis', 0);
  const first = input(call, 0);
  const rank = first.tensor.ndim + 1;
  const a = axisFor(call, axis, rank);
  return same(first, concat(call.inputs.map((v) => unsqueeze(canonical(v), a)), a));
};

/** Shape: the TensorFlow shape (NHWC for a stored channels-first activation), int32. */
const shapeOp: TfOp = (call) => {
  const x = input(call, 0);
  const shape = x.type.permuted ? call.layout.modelShape(x.tensor.shape) : [...x.tensor.shape];
  return int(constant(shape));
};

const transpose: TfOp = (call) => {
  const x = input(call, 0);
  return same(x, permute(canonical(x), ints(call, 1)));
};

/**
 * StridedSlice with begin_mask, end_mask and shrink_axis_mask (ellipsis and
 * new-axis masks are refused at load), positive or negative strides.
 */
const stridedSlice: TfOp = (call) => {
  const x = input(call, 0);
  let t = canonical(x);
  const [begin, end, strides] = [ints(call, 1), ints(call, 2), ints(call, 3)];
  const attrs = call.node.attrs;
  const beginMask = attrs.int('begin_mask', 0);
  const endMask = attrs.int('end_mask', 0);
  const shrinkMask = attrs.int('shrink_axis_mask', 0);
  const shrink: number[] = [];
  for (let axis = 0; axis < begin.length; axis++) {
    if (axis >= t.ndim) throw opError(call, `slices ${begin.length} axes of a rank-${t.ndim} tensor`);
    const size = t.shape[axis]!;
    const step = strides[axis] ?? 1;
    if (step === 0) throw opError(call, 'has a stride of 0');
    const norm = (v: number) => (v < 0 ? v + size : v);
    if (shrinkMask & (1 << axis)) {
      const at = norm(begin[axis]!);
      if (at < 0 || at >= size) throw opError(call, `index ${begin[axis]} is outside axis ${axis} of size ${size}`);
      t = slice(t, axis, at, at + 1);
      shrink.push(axis);
      continue;
    }
    const clamp = (v: number) => (step > 0 ? Math.min(Math.max(v, 0), size) : Math.min(Math.max(v, -1), size - 1));
    const start = beginMask & (1 << axis) ? (step > 0 ? 0 : size - 1) : clamp(norm(begin[axis]!));
    const stop = endMask & (1 << axis) ? (step > 0 ? size : -1) : clamp(norm(end[axis]!));
    const count = Math.max(0, Math.ceil((stop - start) / step));
    if (step > 0) t = slice(t, axis, start, start + count * step, step);
    else t = reverseSlice(t, axis, start, count, step);
  }
  if (shrink.length) t = reshape(t, t.shape.filter((_, i) => !shrink.includes(i)));
  return same(x, t);
};

/** Elements start, start + step, ... (step < 0) along an axis, one by one. */
function reverseSlice(t: Tensor, axis: number, start: number, count: number, step: number): Tensor {
  const parts: Tensor[] = [];
  for (let k = 0; k < count; k++) parts.push(slice(t, axis, start + k * step, start + k * step + 1));
  return parts.length ? concat(parts, axis) : slice(t, axis, 0, 0);
}

/** Pad / PadV2 (constant) and MirrorPad (REFLECT); paddings [[before, after], ...] per axis. */
const padOp = (kind: 'constant' | 'mirror'): TfOp => (call: OpCall) => {
  const x = input(call, 0);
  const paddings = ints(call, 1);
  const rank = x.tensor.ndim;
  // Per stored axis: the TensorFlow axis it holds.
  const source = x.type.permuted ? [0, 3, 1, 2] : Array.from({ length: rank }, (_, i) => i);
  const pads: number[] = [];
  for (let a = rank - 1; a >= 0; a--) pads.push(paddings[2 * source[a]!] ?? 0, paddings[2 * source[a]! + 1] ?? 0);
  const value = kind === 'constant' && call.inputs[2] ? call.inputs[2].tensor.data[0]! : 0;
  const tensor = kind === 'mirror' ? pad(x.tensor, pads, { mode: 'reflect' }) : pad(x.tensor, pads, { value });
  return { tensor, type: x.type };
};

export const shapeOps: Record<string, TfOp> = {
  Identity: identity,
  Reshape: reshapeOp,
  Squeeze: squeezeOp,
  ExpandDims: expandDims,
  ConcatV2: concatV2,
  Pack: pack,
  Shape: shapeOp,
  StridedSlice: stridedSlice,
  Transpose: transpose,
  Pad: padOp('constant'),
  PadV2: padOp('constant'),
  MirrorPad: padOp('mirror'),
};
