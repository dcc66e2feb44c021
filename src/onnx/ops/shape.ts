import {
  concat, indexSelect, pad, permute, reshape, slice, squeeze, unsqueeze, type PadMode,
} from '../../tensor/ops/shape.js';
import { allocate } from '../../tensor/limits.js';
import { Tensor, sizeOf } from '../../tensor/tensor.js';
import { DataType } from '../tensorData.js';
import { identity } from './elementwise.js';
import { axesFrom, input, intValues, nodeError, normalizeAxisFor, type OpImpl } from './types.js';

/** Shape manipulation, constants and indexing (reductions: reduce.ts). */

const concatOp: OpImpl = (call) => {
  const parts = call.inputs.filter((t): t is Tensor => t !== undefined);
  if (parts.length === 0) throw nodeError(call, 'has no inputs; Concat takes one or more');
  const rank = parts[0]!.ndim;
  // Concat-1 defaulted to axis 1; from opset 4 the axis is required.
  return concat(parts, normalizeAxisFor(call, call.attrs.int('axis', call.opset < 4 ? 1 : 0), rank));
};

/** Flatten: [prod(shape[:axis]), prod(shape[axis:])]; axis 0 gives [1, n]. */
const flattenOp: OpImpl = (call) => {
  const x = input(call, 0);
  let axis = call.attrs.int('axis', 1);
  if (axis < 0) axis += x.ndim;
  if (axis < 0 || axis > x.ndim) throw nodeError(call, `axis ${call.attrs.int('axis', 1)} is out of range for rank ${x.ndim}`);
  const rows = sizeOf(x.shape.slice(0, axis));
  return reshape(x, [rows, sizeOf(x.shape.slice(axis))]);
};

/** Reshape: 0 copies the input's size on that axis (unless allowzero), -1 is inferred. */
const reshapeOp: OpImpl = (call) => {
  const x = input(call, 0);
  const requested = call.attrs.ints('shape') ?? intValues(input(call, 1));
  const allowZero = call.attrs.int('allowzero', 0) !== 0;
  const shape = requested.map((d, i) => {
    if (d === 0 && !allowZero) {
      if (i >= x.ndim) throw nodeError(call, `shape entry ${i} is 0 (copy) but the input has rank ${x.ndim}`);
      return x.shape[i]!;
    }
    return d;
  });
  const known = shape.filter((d) => d !== -1);
  if (shape.length - known.length > 1) throw nodeError(call, `shape [${requested.join(', ')}] has more than one -1`);
  if (known.length < shape.length) {
    const rest = sizeOf(known);
    const inferred = rest === 0 ? 0 : x.size / rest;
    if (!Number.isInteger(inferred)) {
      throw nodeError(call, `cannot reshape [${x.shape.join(', ')}] (${x.size} elements) to [${requested.join(', ')}]`);
    }
    shape[shape.indexOf(-1)] = inferred;
  }
  if (sizeOf(shape) !== x.size) {
    throw nodeError(call, `cannot reshape [${x.shape.join(', ')}] (${x.size} elements) to [${shape.join(', ')}]`);
  }
  return reshape(x, shape);
};

const transposeOp: OpImpl = (call) => {
  const x = input(call, 0);
  const perm = call.attrs.ints('perm') ?? x.shape.map((_, i) => x.ndim - 1 - i);
  return permute(x, perm);
};

/** Squeeze: axes attribute before opset 13, input from 13; none given removes every size-1 axis. */
const squeezeOp: OpImpl = (call) => {
  const x = input(call, 0);
  const axes = axesFrom(call, 1);
  if (!axes) return squeeze(x);
  const normalized = axes.map((a) => normalizeAxisFor(call, a, x.ndim));
  for (const a of normalized) {
    if (x.shape[a] !== 1) throw nodeError(call, `cannot squeeze axis ${a} of size ${x.shape[a]} (shape [${x.shape.join(', ')}])`);
  }
  return squeeze(x, normalized);
};

/** Unsqueeze: axes (positions in the output) as attribute before opset 13, input from 13. */
const unsqueezeOp: OpImpl = (call) => {
  const x = input(call, 0);
  const axes = axesFrom(call, 1);
  if (!axes) throw nodeError(call, 'axes are required (attribute before opset 13, input from 13)');
  const rank = x.ndim + axes.length;
  const normalized = axes.map((a) => normalizeAxisFor(call, a, rank)).sort((p, q) => p - q);
  return unsqueeze(x, normalized);
};

/**
 * Pad: pads as ONNX lists them ([x1_begin, x2_begin, ..., x1_end, x2_end])
 * from the attribute (opset < 11, also 'paddings' of opset 1) or the input
 * (11+, with optional constant_value and axes inputs); converted to F.pad's
 * order (last axis first).
 */
const padOp: OpImpl = (call) => {
  const x = input(call, 0);
  const modeName = call.attrs.string('mode', 'constant');
  const modes: Record<string, PadMode> = { constant: 'constant', reflect: 'reflect', edge: 'replicate' };
  const mode = modes[modeName];
  if (!mode) throw nodeError(call, `mode '${modeName}' is not supported (accepted: constant, reflect, edge)`);
  let pads = call.attrs.ints('pads') ?? call.attrs.ints('paddings');
  let value = call.attrs.float('value', 0);
  let axes = x.shape.map((_, i) => i);
  if (!pads) {
    pads = intValues(input(call, 1));
    const constant = call.inputs[2];
    if (constant && constant.size > 0) value = constant.data[0]!;
    const axesInput = call.inputs[3];
    if (axesInput) axes = intValues(axesInput).map((a) => normalizeAxisFor(call, a, x.ndim));
  }
  if (pads.length !== 2 * axes.length) {
    throw nodeError(call, `pads has ${pads.length} entries; a pad over ${axes.length} axes needs ${2 * axes.length}`);
  }
  const begin = new Array<number>(x.ndim).fill(0);
  const end = new Array<number>(x.ndim).fill(0);
  axes.forEach((a, i) => {
    begin[a] = pads![i]!;
    end[a] = pads![i + axes.length]!;
  });
  // F.pad order: [last_begin, last_end, second_last_begin, ...] down to the first padded axis.
  let first = 0;
  while (first < x.ndim && begin[first] === 0 && end[first] === 0) first++;
  const torchPads: number[] = [];
  for (let a = x.ndim - 1; a >= first; a--) torchPads.push(begin[a]!, end[a]!);
  if (torchPads.length === 0) return identity(x);
  return pad(x, torchPads, { mode, value });
};

/** Constant: value (a tensor) or, from opset 12, value_float(s) / value_int(s). */
const constantOp: OpImpl = (call) => {
  const t = call.attrs.tensor('value');
  if (t) {
    call.outputTypes = [t.dataType];
    return t.tensor;
  }
  if (call.attrs.has('value_float')) return new Tensor(Float32Array.of(call.attrs.float('value_float', 0)), []);
  const floats = call.attrs.floats('value_floats');
  if (floats) return new Tensor(Float32Array.from(floats), [floats.length]);
  call.outputTypes = [DataType.INT64];
  if (call.attrs.has('value_int')) return new Tensor(Float32Array.of(call.attrs.int('value_int', 0)), []);
  const ints = call.attrs.ints('value_ints');
  if (ints) return new Tensor(Float32Array.from(ints), [ints.length]);
  throw nodeError(call, 'needs a value, value_float(s) or value_int(s) attribute (sparse and string constants are not supported)');
};

const constantOfShapeOp: OpImpl = (call) => {
  const shape = intValues(input(call, 0));
  const value = call.attrs.tensor('value');
  call.outputTypes = [value?.dataType ?? DataType.FLOAT];
  if (shape.some((d) => d < 0)) throw nodeError(call, `shape [${shape.join(', ')}] has a negative size`);
  // A hostile shape must not become a multi-gigabyte allocation: the element limit is checked first.
  const data = allocate(sizeOf(shape), `ConstantOfShape node ${call.label}`, `shape [${shape.join(', ')}]`);
  return new Tensor(data.fill(value ? value.tensor.data[0] ?? 0 : 0), shape);
};

/** Shape (int64, carried as float32), with opset 15's start and end. */
const shapeOp: OpImpl = (call) => {
  const x = input(call, 0);
  call.outputTypes = [DataType.INT64];
  const clampAxis = (a: number): number => Math.min(Math.max(a < 0 ? a + x.ndim : a, 0), x.ndim);
  const start = clampAxis(call.attrs.int('start', 0));
  const end = clampAxis(call.attrs.int('end', x.ndim));
  const dims = x.shape.slice(start, Math.max(start, end));
  return new Tensor(Float32Array.from(dims), [dims.length]);
};

/** Gather along an axis with indices of any shape; negative indices count from the end. */
const gatherOp: OpImpl = (call) => {
  const x = input(call, 0);
  const indices = input(call, 1);
  const axis = normalizeAxisFor(call, call.attrs.int('axis', 0), x.ndim);
  const size = x.shape[axis]!;
  const picked = intValues(indices).map((i) => {
    const j = i < 0 ? i + size : i;
    if (j < 0 || j >= size) throw nodeError(call, `index ${i} is out of range for axis ${axis} of size ${size}`);
    return j;
  });
  const selected = indexSelect(x, axis, picked);
  return reshape(selected, [...x.shape.slice(0, axis), ...indices.shape, ...x.shape.slice(axis + 1)]);
};

/** Slice: starts/ends/axes attributes before opset 10; inputs (with steps) from 10. */
const sliceOp: OpImpl = (call) => {
  const x = input(call, 0);
  let starts = call.attrs.ints('starts');
  let ends = call.attrs.ints('ends');
  let axes = call.attrs.ints('axes');
  let steps: number[] | undefined;
  if (!starts || !ends) {
    starts = intValues(input(call, 1));
    ends = intValues(input(call, 2));
    axes = call.inputs[3] ? intValues(call.inputs[3]) : undefined;
    steps = call.inputs[4] ? intValues(call.inputs[4]) : undefined;
  }
  axes ??= starts.map((_, i) => i);
  if (ends.length !== starts.length || axes.length !== starts.length || (steps && steps.length !== starts.length)) {
    throw nodeError(call, 'starts, ends, axes and steps must have the same length');
  }
  let y = x;
  for (let i = 0; i < starts.length; i++) {
    const axis = normalizeAxisFor(call, axes[i]!, x.ndim);
    const step = steps ? steps[i]! : 1;
    if (step === 0) throw nodeError(call, 'steps must not be 0');
    // INT64 sentinels arrive as about ±9.2e18: clamp them to the axis so the
    // engine's Python-style clamping sees ordinary numbers.
    const n = x.shape[axis]!;
    const clampBound = (v: number): number => Math.max(-n - 1, Math.min(n + 1, v));
    y = slice(y, axis, clampBound(starts[i]!), clampBound(ends[i]!), step);
  }
  return y === x ? identity(x) : y;
};

export const shapeOps: Record<string, OpImpl> = {
  Concat: concatOp,
  Flatten: flattenOp,
  Reshape: reshapeOp,
  Transpose: transposeOp,
  Squeeze: squeezeOp,
  Unsqueeze: unsqueezeOp,
  Pad: padOp,
  Constant: constantOp,
  ConstantOfShape: constantOfShapeOp,
  Shape: shapeOp,
  Gather: gatherOp,
  Slice: sliceOp,
};
