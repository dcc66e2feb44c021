import { interpolate, type InterpolateOptions } from '../../tensor/ops/interpolate.js';
import type { Tensor } from '../../tensor/tensor.js';
import type { NodeProto } from '../proto.js';
import { attributesOf, input, intValues, nodeError, type OpCall, type OpImpl } from './types.js';

/*
 * Resize (opset 10+) and Upsample (7-9) on NCHW tensors, run by the engine's
 * interpolate (PyTorch's F.interpolate). Only the forms F.interpolate
 * computes are accepted:
 * - mode linear with coordinate_transformation_mode half_pixel or
 *   pytorch_half_pixel (bilinear, align_corners=False) or align_corners;
 * - mode nearest with asymmetric coordinates and nearest_mode floor
 *   (PyTorch's 'nearest'; also Upsample's and opset-10 Resize's rule).
 * Upsample's and opset-10 Resize's linear mode use asymmetric coordinates,
 * which F.interpolate has no form of: refused.
 */

/** Load-time check from the node alone: a short description of the unsupported form, or null. */
export function unsupportedResizeForm(node: NodeProto): string | null {
  const attrs = attributesOf(node);
  const mode = attrs.string('mode', 'nearest');
  if (mode !== 'nearest' && mode !== 'linear') return `mode '${mode}'`;
  if (node.opType === 'Upsample') return mode === 'linear' ? "mode 'linear' (asymmetric coordinates)" : null;
  const ctm = attrs.string('coordinate_transformation_mode');
  if (mode === 'linear' && ctm && !['half_pixel', 'pytorch_half_pixel', 'align_corners'].includes(ctm)) return `linear with coordinate_transformation_mode '${ctm}'`;
  if (mode === 'nearest' && ctm && ctm !== 'asymmetric') return `nearest with coordinate_transformation_mode '${ctm}'`;
  const nearestMode = attrs.string('nearest_mode');
  if (mode === 'nearest' && nearestMode && nearestMode !== 'floor') return `nearest_mode '${nearestMode}'`;
  if (attrs.int('exclude_outside', 0) !== 0) return 'exclude_outside';
  if (attrs.int('antialias', 0) !== 0) return 'antialias';
  if (attrs.has('axes')) return 'axes';
  return null;
}

/** Scales as [h, w] (N and C must be 1), or sizes as [h, w] (N and C unchanged). */
function target(call: OpCall, x: Tensor, scales: number[] | undefined, sizes: number[] | undefined): Pick<InterpolateOptions, 'size' | 'scaleFactor'> {
  if (x.ndim !== 4) throw nodeError(call, `input of shape [${x.shape.join(', ')}] is ${x.ndim}-D; tinycam resizes 4-D (NCHW) tensors`);
  if (sizes && sizes.length) {
    if (sizes.length !== 4 || sizes[0] !== x.shape[0] || sizes[1] !== x.shape[1]) throw nodeError(call, `sizes [${sizes.join(', ')}] must keep N and C of [${x.shape.join(', ')}]`);
    return { size: [sizes[2]!, sizes[3]!] };
  }
  if (!scales || scales.length !== 4 || scales[0] !== 1 || scales[1] !== 1) throw nodeError(call, `scales [${(scales ?? []).join(', ')}] must be 4 values with 1 for N and C`);
  // ONNX's output size is floor(in * scale) in float32: torch writes size 5 from 3 as scale 1.6666666f,
  // and 3 * 1.6666666f is 5 in float32 but 4.9999999 in float64. Then map by in/out, as torch did.
  const h = x.shape[2]!, w = x.shape[3]!;
  const outH = Math.floor(Math.fround(h * scales[2]!)), outW = Math.floor(Math.fround(w * scales[3]!));
  if (outH !== Math.floor(h * scales[2]!) || outW !== Math.floor(w * scales[3]!)) return { size: [outH, outW] };
  return { scaleFactor: [scales[2]!, scales[3]!] };
}

function run(call: OpCall, x: Tensor, where: Pick<InterpolateOptions, 'size' | 'scaleFactor'>, ctm: string): Tensor {
  const mode = call.attrs.string('mode', 'nearest');
  if (mode === 'nearest') {
    if (ctm !== 'asymmetric' || call.attrs.string('nearest_mode', 'round_prefer_floor') !== 'floor') {
      throw nodeError(call, `nearest with coordinate_transformation_mode '${ctm}' is not supported; accepted: asymmetric with nearest_mode floor (PyTorch's nearest)`);
    }
    return interpolate(x, { ...where, mode: 'nearest' });
  }
  if (ctm === 'asymmetric') throw nodeError(call, "linear with asymmetric coordinates is not supported; accepted: half_pixel, pytorch_half_pixel, align_corners");
  return interpolate(x, { ...where, mode: 'bilinear', alignCorners: ctm === 'align_corners' });
}

const resize: OpImpl = (call) => {
  const x = input(call, 0);
  if (call.opset < 11) {
    // Opset 10: inputs X, scales; asymmetric coordinates; nearest floors.
    const where = target(call, x, intOrFloat(call.inputs[1]), undefined);
    if (call.attrs.string('mode', 'nearest') === 'nearest') return interpolate(x, { ...where, mode: 'nearest' });
    return run(call, x, where, 'asymmetric');
  }
  const scales = call.inputs[2];
  const sizes = call.inputs[3];
  const where = target(call, x, scales && scales.size ? intOrFloat(scales) : undefined, sizes ? intValues(sizes) : undefined);
  return run(call, x, where, call.attrs.string('coordinate_transformation_mode', 'half_pixel'));
};

const upsample: OpImpl = (call) => {
  const x = input(call, 0);
  const scales = call.attrs.floats('scales') ?? intOrFloat(call.inputs[1]);
  const where = target(call, x, scales, undefined);
  if (call.attrs.string('mode', 'nearest') !== 'nearest') throw nodeError(call, "mode 'linear' (asymmetric coordinates) is not supported; accepted: nearest");
  return interpolate(x, { ...where, mode: 'nearest' });
};

function intOrFloat(t: Tensor | undefined): number[] | undefined {
  return t ? Array.from(t.data) : undefined;
}

export const resizeOps = { Resize: resize, Upsample: upsample } satisfies Record<string, OpImpl>;
