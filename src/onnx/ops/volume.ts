import { conv3d } from '../../tensor/ops/conv3d.js';
import { avgPool3d, maxPool3d } from '../../tensor/ops/pool3d.js';
import { pad } from '../../tensor/ops/shape.js';
import type { Tensor } from '../../tensor/tensor.js';
import { input, nodeError, type OpCall } from './types.js';
import { samePaddingTotal, splitPadding } from '../../tensor/ops/spatial.js';

/**
 * Conv, MaxPool and AveragePool on 5-D [N, C, D, H, W] input (3-D
 * convolution networks), by the engine's conv3d and 3-D pools. ONNX's pads
 * may differ at the two ends of an axis: convolution zero-pads the input
 * first then; a pool with such pads is left to nn.ts's 2-D fallback.
 */

interface Geometry3d {
  strides: [number, number, number];
  dilations: [number, number, number];
  begin: [number, number, number];
  end: [number, number, number];
}

function three(call: OpCall, name: string, fallback: number): [number, number, number] {
  const v = call.attrs.ints(name) ?? [fallback, fallback, fallback];
  if (v.length !== 3) throw nodeError(call, `attribute ${name} has ${v.length} entries; a 3-D op takes 3`);
  return [v[0]!, v[1]!, v[2]!];
}

function geometry3d(call: OpCall, x: Tensor, kernel: readonly number[]): Geometry3d {
  const strides = three(call, 'strides', 1);
  const dilations = three(call, 'dilations', 1);
  const autoPad = call.attrs.string('auto_pad', 'NOTSET');
  const begin: [number, number, number] = [0, 0, 0];
  const end: [number, number, number] = [0, 0, 0];
  if (autoPad === 'NOTSET') {
    const p = call.attrs.ints('pads') ?? [0, 0, 0, 0, 0, 0];
    if (p.length !== 6) throw nodeError(call, `attribute pads has ${p.length} entries; a 3-D op takes 6 ([d, h, w] begins, then ends)`);
    for (let a = 0; a < 3; a++) {
      begin[a] = p[a]!;
      end[a] = p[a + 3]!;
    }
  } else if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    for (let a = 0; a < 3; a++) {
      const total = samePaddingTotal(x.shape[2 + a]!, kernel[a]!, strides[a]!, dilations[a]!);
      [begin[a], end[a]] = splitPadding(total, autoPad === 'SAME_UPPER' ? 'end' : 'start');
    }
  } else if (autoPad !== 'VALID') {
    throw nodeError(call, `auto_pad '${autoPad}' is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID`);
  }
  return { strides, dilations, begin, end };
}

export function conv3dNode(call: OpCall): Tensor {
  let x = input(call, 0);
  const w = input(call, 1);
  if (w.ndim !== 5) throw nodeError(call, `weight of shape [${w.shape.join(', ')}] must be 5-D for a 5-D input`);
  const g = geometry3d(call, x, w.shape.slice(2));
  const symmetric = g.begin.every((b, a) => b === g.end[a]);
  if (!symmetric) x = pad(x, [g.begin[2], g.end[2], g.begin[1], g.end[1], g.begin[0], g.end[0]]);
  return conv3d(x, w, call.inputs[2] ?? null, {
    stride: g.strides,
    dilation: g.dilations,
    padding: symmetric ? g.begin : 0,
    groups: call.attrs.int('group', 1),
  });
}

/** A 3-D MaxPool / AveragePool with equal pads at both ends of each axis, or null for the fallback. */
export function pool3dNode(call: OpCall, kind: 'max' | 'avg'): Tensor | null {
  const x = input(call, 0);
  const kernel = call.attrs.ints('kernel_shape');
  if (!kernel || kernel.length !== 3) throw nodeError(call, 'attribute kernel_shape must list 3 sizes');
  const g = geometry3d(call, x, kernel);
  if (!g.begin.every((b, a) => b === g.end[a])) return null;
  const options = {
    kernelSize: [kernel[0]!, kernel[1]!, kernel[2]!] as const,
    stride: g.strides,
    padding: g.begin,
    ceilMode: call.attrs.int('ceil_mode', 0) !== 0,
  };
  if (kind === 'max') return maxPool3d(x, { ...options, dilation: g.dilations });
  if (g.dilations.some((d) => d !== 1)) throw nodeError(call, 'dilated AveragePool is not supported');
  // ONNX's default is 0, PyTorch's is true.
  return avgPool3d(x, { ...options, countIncludePad: call.attrs.int('count_include_pad', 0) !== 0 });
}
