import { cubicTaps, linearTaps, nearestTaps, resample, type AxisTaps } from '../../tensor/ops/resample.js';
import type { Tensor } from '../../tensor/tensor.js';
import type { NodeProto } from '../proto.js';
import { attributesOf, input, intValues, nodeError, normalizeAxisFor, type OpCall, type OpImpl } from './types.js';
import { checkElements } from '../../tensor/limits.js';

/*
 * Resize (opset 10+) and Upsample (7-9) on tensors of any rank, as the
 * engine's separable `resample`: per resized axis, the taps ONNX's
 * coordinate_transformation_mode, mode (nearest with its four rounding
 * rules, linear, cubic with cubic_coeff_a and exclude_outside) and
 * nearest_mode define. Linear on a 3-D, 4-D or 5-D tensor is linear,
 * bilinear or trilinear interpolation.
 *
 * One special case keeps PyTorch's numbers: nearest with asymmetric
 * coordinates and floor rounding is what torch.onnx writes for
 * F.interpolate(mode='nearest') (and what Upsample and opset-10 Resize
 * mean), and it is computed with PyTorch's own index rule (float32 scale,
 * exact halving when doubling), which differs from ONNX's i / scale at a few
 * exact multiples.
 */

const COORDINATE_MODES = ['half_pixel', 'half_pixel_symmetric', 'pytorch_half_pixel', 'align_corners', 'asymmetric', 'tf_half_pixel_for_nn'];
const NEAREST_MODES = ['round_prefer_floor', 'round_prefer_ceil', 'floor', 'ceil'];

/** Load-time check from the node alone: a short description of the unsupported form, or null. */
export function unsupportedResizeForm(node: NodeProto): string | null {
  const attrs = attributesOf(node);
  const mode = attrs.string('mode', 'nearest');
  const accepted = node.opType === 'Upsample' ? ['nearest', 'linear', 'bilinear'] : ['nearest', 'linear', 'cubic'];
  if (!accepted.includes(mode)) return `mode '${mode}'`;
  const ctm = attrs.string('coordinate_transformation_mode');
  if (ctm && !COORDINATE_MODES.includes(ctm)) return `coordinate_transformation_mode '${ctm}'`;
  const nearestMode = attrs.string('nearest_mode');
  if (nearestMode && !NEAREST_MODES.includes(nearestMode)) return `nearest_mode '${nearestMode}'`;
  if (attrs.int('antialias', 0) !== 0) return 'antialias';
  const policy = attrs.string('keep_aspect_ratio_policy');
  if (policy && policy !== 'stretch') return `keep_aspect_ratio_policy '${policy}'`;
  return null;
}

interface AxisPlan {
  axis: number;
  inSize: number;
  outSize: number;
  /** The scale coordinates are mapped with (output / input, or as given). */
  scale: number;
  /** The scale given, when the output size came from it (PyTorch's nearest maps with 1 / given). */
  given: number | undefined;
}

/** Output sizes and scales of the resized axes, from scales or sizes (one per listed axis). */
function plan(call: OpCall, x: Tensor, axes: number[], scales: number[] | undefined, sizes: number[] | undefined): AxisPlan[] {
  if (sizes && sizes.length) {
    if (sizes.length !== axes.length) throw nodeError(call, `sizes has ${sizes.length} entries for ${axes.length} axes of input [${x.shape.join(', ')}]`);
    return axes.map((axis, i) => {
      const inSize = x.shape[axis]!;
      const outSize = sizes[i]!;
      if (!Number.isInteger(outSize) || outSize < 1) throw nodeError(call, `sizes [${sizes.join(', ')}] must be positive`);
      return { axis, inSize, outSize, scale: outSize / inSize, given: undefined };
    });
  }
  if (!scales || scales.length !== axes.length) {
    throw nodeError(call, `scales [${(scales ?? []).join(', ')}] must have one entry per resized axis (${axes.length}) of input [${x.shape.join(', ')}]; or give sizes`);
  }
  return axes.map((axis, i) => {
    const inSize = x.shape[axis]!;
    const s = scales[i]!;
    if (!(s > 0) || !Number.isFinite(s)) throw nodeError(call, `scales [${scales.join(', ')}] must be positive`);
    // ONNX's output size is floor(in * scale) in float32: torch writes size 5 from 3 as scale 1.6666666f,
    // and 3 * 1.6666666f is 5 in float32 but 4.9999999 in float64. Then map by in/out, as torch did.
    const outSize = Math.floor(Math.fround(inSize * s));
    if (outSize < 1) throw nodeError(call, `scale ${s} turns axis ${axis} of size ${inSize} into an empty one`);
    const exact = outSize === Math.floor(inSize * s);
    return { axis, inSize, outSize, scale: exact ? s : outSize / inSize, given: exact ? s : undefined };
  });
}

/** x_original(i) for one axis, by coordinate_transformation_mode. */
function coordinate(ctm: string, p: AxisPlan): (i: number) => number {
  const { inSize, outSize, scale } = p;
  switch (ctm) {
    case 'half_pixel': return (i) => (i + 0.5) / scale - 0.5;
    case 'pytorch_half_pixel': return (i) => (outSize > 1 ? (i + 0.5) / scale - 0.5 : 0);
    case 'align_corners': return (i) => (outSize === 1 ? 0 : (i * (inSize - 1)) / (outSize - 1));
    case 'asymmetric': return (i) => i / scale;
    case 'tf_half_pixel_for_nn': return (i) => (i + 0.5) / scale;
    case 'half_pixel_symmetric': {
      const adjustment = outSize / (scale * inSize);
      const offset = (inSize / 2) * (1 - adjustment);
      return (i) => offset + (i + 0.5) / scale - 0.5;
    }
    default: throw new Error(`unreachable coordinate mode ${ctm}`);
  }
}

/** ONNX's nearest_mode rounding of a coordinate (computed in float32, as runtimes do). */
function rounding(mode: string): (x: number) => number {
  switch (mode) {
    case 'floor': return Math.floor;
    case 'ceil': return Math.ceil;
    case 'round_prefer_ceil': return Math.round;
    default: return (x) => (x - Math.floor(x) === 0.5 ? Math.floor(x) : Math.round(x));
  }
}

/** PyTorch's nearest index rule (interpolate.ts nearestIndex), for its asymmetric-floor exports. */
function torchNearest(p: AxisPlan): AxisTaps {
  const { inSize: n, outSize: m } = p;
  const scale = Math.fround(p.given !== undefined ? 1 / p.given : n / m);
  return nearestTaps(n, m, (o) => o, (o) => (m === n ? o : m === 2 * n ? o >> 1 : Math.floor(Math.fround(o * scale))));
}

function run(call: OpCall, x: Tensor, plans: AxisPlan[], ctm: string, nearestMode: string): Tensor {
  const mode = call.attrs.string('mode', 'nearest');
  // The result's size, and each axis's (the tap tables have one row per output position), before anything is made.
  let total = x.size;
  for (const p of plans) {
    checkElements(p.outSize, 'interpolate', `axis ${p.axis} of its result`);
    total = (total / p.inSize) * p.outSize;
  }
  checkElements(total, 'interpolate');
  const taps = new Map<number, AxisTaps>();
  for (const p of plans) {
    // Same size at scale 1 (or corners aligned): every coordinate is its own index.
    if (p.inSize === p.outSize && (p.scale === 1 || ctm === 'align_corners') && ctm !== 'tf_half_pixel_for_nn') continue;
    if (mode === 'nearest') {
      if (ctm === 'asymmetric' && nearestMode === 'floor') taps.set(p.axis, torchNearest(p));
      else {
        const source = coordinate(ctm, p);
        taps.set(p.axis, nearestTaps(p.inSize, p.outSize, (i) => Math.fround(source(i)), rounding(nearestMode)));
      }
    } else if (mode === 'cubic') {
      taps.set(p.axis, cubicTaps(p.inSize, p.outSize, coordinate(ctm, p), call.attrs.float('cubic_coeff_a', -0.75), call.attrs.int('exclude_outside', 0) !== 0));
    } else {
      taps.set(p.axis, linearTaps(p.inSize, p.outSize, coordinate(ctm, p)));
    }
  }
  return resample(x, taps);
}

function values(t: Tensor | undefined): number[] | undefined {
  return t && t.size ? Array.from(t.data) : undefined;
}

const resize: OpImpl = (call) => {
  const x = input(call, 0);
  if (call.opset < 11) {
    // Opset 10: inputs X, scales; asymmetric coordinates; nearest floors.
    const plans = plan(call, x, x.shape.map((_, i) => i), values(call.inputs[1]), undefined);
    return run(call, x, plans, 'asymmetric', 'floor');
  }
  const axesAttr = call.attrs.ints('axes');
  const axes = axesAttr ? axesAttr.map((a) => normalizeAxisFor(call, a, x.ndim)) : x.shape.map((_, i) => i);
  const sizes = call.inputs[3] && call.inputs[3].size ? intValues(call.inputs[3]) : undefined;
  const plans = plan(call, x, axes, values(call.inputs[2]), sizes);
  return run(call, x, plans, call.attrs.string('coordinate_transformation_mode', 'half_pixel'), call.attrs.string('nearest_mode', 'round_prefer_floor'));
};

/** Upsample (opsets 7-9): scales as attribute (7-8) or input (9); asymmetric coordinates, nearest floors. */
const upsample: OpImpl = (call) => {
  const x = input(call, 0);
  const plans = plan(call, x, x.shape.map((_, i) => i), call.attrs.floats('scales') ?? values(call.inputs[1]), undefined);
  return run(call, x, plans, 'asymmetric', 'floor');
};

export const resizeOps = { Resize: resize, Upsample: upsample } satisfies Record<string, OpImpl>;
