import { conv2dThen, convTranspose2d, type Padding2d } from '../../tensor/ops/conv.js';
import { samePaddingTotal, splitPadding } from '../../tensor/ops/spatial.js';
import { add, div, mul, sqrt, sub } from '../../tensor/ops/elementwise.js';
import { linear, matmul } from '../../tensor/ops/matmul.js';
import { batchNorm, localResponseNorm } from '../../tensor/ops/norm.js';
import { avgPool2d, globalAvgPool2d, globalMaxPool2d, maxPool2d } from '../../tensor/ops/pool.js';
import { max, mean } from '../../tensor/ops/reduce.js';
import { reshape, transpose } from '../../tensor/ops/shape.js';
import { logSoftmax, softmax } from '../../tensor/ops/softmax.js';
import { Tensor, sizeOf } from '../../tensor/tensor.js';
import { input, nodeError, normalizeAxisFor, type OpCall, type OpImpl } from './types.js';
import { conv3dNode, pool3dNode } from './volume.js';

/*
 * Convolution, pooling, normalisation, dense layers and softmax.
 *
 * The engine's conv and pooling kernels are 2-D. A 1-D op ([N, C, L]) runs
 * as 2-D on [N, C, 1, L]: its attributes gain a leading entry for the
 * height-1 axis (see `pair` and `explicitPads`) and the result loses it.
 * 5-D (3-D spatial) Conv and pools go to volume.ts.
 */

function as4d(call: OpCall, x: Tensor): Tensor {
  if (x.ndim === 4) return x;
  if (x.ndim === 3) return reshape(x, [x.shape[0]!, x.shape[1]!, 1, x.shape[2]!]);
  throw nodeError(call, `input of shape [${x.shape.join(', ')}] is ${x.ndim}-D; tinycam runs ${call.node.opType} on 3-D (1-D spatial) and 4-D (NCHW) tensors`);
}

function from4d(y: Tensor, oneD: boolean): Tensor {
  return oneD ? reshape(y, [y.shape[0]!, y.shape[1]!, y.shape[3]!]) : y;
}

/** A per-spatial-axis attribute as [h, w]; a 1-D op's single entry becomes [heightValue, v]. */
function pair(call: OpCall, name: string, fallback: number, heightValue = fallback): [number, number] {
  const v = call.attrs.ints(name);
  if (!v) return [fallback, fallback];
  if (v.length === 1) return [heightValue, v[0]!];
  if (v.length !== 2) throw nodeError(call, `attribute ${name} has ${v.length} entries; 1-D and 2-D ops take 1 or 2`);
  return [v[0]!, v[1]!];
}

/** Explicit pads: [top, left, bottom, right] for 2-D, [begin, end] for 1-D. */
function explicitPads(call: OpCall): Padding2d {
  const p = call.attrs.ints('pads') ?? [0, 0, 0, 0];
  if (p.length === 2) return { top: 0, bottom: 0, left: p[0]!, right: p[1]! };
  if (p.length !== 4) throw nodeError(call, `attribute pads has ${p.length} entries; 2-D ops take 4 ([top, left, bottom, right])`);
  return { top: p[0]!, left: p[1]!, bottom: p[2]!, right: p[3]! };
}

/**
 * Explicit pads ([top, left, bottom, right]) or auto_pad: SAME_UPPER and
 * SAME_LOWER keep ceil(in / stride) outputs, putting the odd padding cell at
 * the end (UPPER) or the start (LOWER); VALID pads nothing.
 */
function spatialPadding(call: OpCall, x: Tensor, kernel: [number, number], strides: [number, number], dilations: [number, number]): Padding2d {
  const autoPad = call.attrs.string('auto_pad', 'NOTSET');
  if (autoPad === 'NOTSET') return explicitPads(call);
  if (autoPad === 'VALID') return 0;
  if (autoPad !== 'SAME_UPPER' && autoPad !== 'SAME_LOWER') {
    throw nodeError(call, `auto_pad '${autoPad}' is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID`);
  }
  const oddCell = autoPad === 'SAME_UPPER' ? 'end' : 'start';
  const [top, bottom] = splitPadding(samePaddingTotal(x.shape[2]!, kernel[0], strides[0], dilations[0]), oddCell);
  const [left, right] = splitPadding(samePaddingTotal(x.shape[3]!, kernel[1], strides[1], dilations[1]), oddCell);
  return { top, bottom, left, right };
}

const conv: OpImpl = (call) => {
  if (input(call, 0).ndim === 5) return conv3dNode(call);
  const oneD = input(call, 0).ndim === 3;
  const x = as4d(call, input(call, 0));
  const w = as4d(call, input(call, 1));
  const strides = pair(call, 'strides', 1);
  const dilations = pair(call, 'dilations', 1);
  const kernel: [number, number] = [w.shape[2]!, w.shape[3]!];
  return from4d(conv2dThen(x, w, call.inputs[2] ?? null, {
    stride: strides,
    dilation: dilations,
    groups: call.attrs.int('group', 1),
    padding: spatialPadding(call, x, kernel, strides, dilations),
  }, call.then), oneD);
};

/**
 * ConvTranspose: pads, or output_shape (the padding that yields it, the odd
 * cell at the start unless auto_pad is SAME_UPPER), or auto_pad SAME (output
 * = input * stride).
 */
const convTranspose: OpImpl = (call) => {
  const oneD = input(call, 0).ndim === 3;
  const x = as4d(call, input(call, 0));
  const w = as4d(call, input(call, 1));
  const strides = pair(call, 'strides', 1);
  const dilations = pair(call, 'dilations', 1);
  const outputPadding = pair(call, 'output_padding', 0, 0);
  const autoPad = call.attrs.string('auto_pad', 'NOTSET');
  const outputShape = call.attrs.ints('output_shape');
  let padding: Padding2d;
  if (outputShape || autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    const sides: number[][] = [];
    for (let axis = 0; axis < 2; axis++) {
      const size = x.shape[2 + axis]!;
      const full = strides[axis]! * (size - 1) + outputPadding[axis]! + (w.shape[2 + axis]! - 1) * dilations[axis]! + 1;
      const wanted = outputShape
        ? (oneD && axis === 0 ? 1 : outputShape[outputShape.length - (oneD ? 1 : 2) + (oneD ? 0 : axis)]!)
        : size * strides[axis]!;
      const total = full - wanted;
      if (total < 0) throw nodeError(call, `output_shape ${wanted} on axis ${2 + axis} is larger than the ${full} the kernel produces`);
      sides.push(splitPadding(total, autoPad === 'SAME_UPPER' ? 'end' : 'start'));
    }
    padding = { top: sides[0]![0]!, bottom: sides[0]![1]!, left: sides[1]![0]!, right: sides[1]![1]! };
  } else if (autoPad === 'VALID') {
    padding = 0;
  } else {
    padding = explicitPads(call);
  }
  return from4d(convTranspose2d(x, w, call.inputs[2] ?? null, {
    stride: strides,
    dilation: dilations,
    groups: call.attrs.int('group', 1),
    padding,
    outputPadding,
  }), oneD);
};

/** Gemm: alpha * A' B' + beta * C, A' and B' optionally transposed, C broadcast to [M, N]. */
const gemm: OpImpl = (call) => {
  const a = input(call, 0);
  const b = input(call, 1);
  const c = call.inputs[2];
  const alpha = call.attrs.float('alpha', 1);
  const beta = call.attrs.float('beta', 1);
  const transA = call.attrs.int('transA', 0) !== 0;
  const transB = call.attrs.int('transB', 0) !== 0;
  if (a.ndim !== 2 || b.ndim !== 2) throw nodeError(call, `A and B must be 2-D; got [${a.shape.join(', ')}] and [${b.shape.join(', ')}]`);
  const left = transA ? transpose(a, 0, 1) : a;
  // The PyTorch Linear pattern (transB = 1, 1-D bias) runs as one linear().
  if (transB && alpha === 1 && (!c || (c.ndim === 1 && beta === 1))) return linear(left, b, c ?? null);
  let y = matmul(left, transB ? transpose(b, 0, 1) : b);
  if (alpha !== 1) y = mul(y, alpha);
  if (c) y = add(y, beta === 1 ? c : mul(c, beta));
  return y;
};

/** Pooling's kernel, strides (ONNX default 1, not the kernel size) and padding. */
function poolGeometry(call: OpCall, x: Tensor): { kernel: [number, number]; strides: [number, number]; dilations: [number, number]; padding: Padding2d } {
  const kernelShape = call.attrs.ints('kernel_shape');
  if (!kernelShape || kernelShape.length !== x.ndim - 2) throw nodeError(call, `attribute kernel_shape must list ${x.ndim - 2} sizes`);
  const x4 = as4d(call, x);
  const kernel = pair(call, 'kernel_shape', 1);
  const strides = pair(call, 'strides', 1);
  const dilations = pair(call, 'dilations', 1);
  return { kernel, strides, dilations, padding: spatialPadding(call, x4, kernel, strides, dilations) };
}

/**
 * A 3-D pool (5-D input [N, C, D, H, W]) that is really 2-D: the engine has
 * 2-D kernels only, so one spatial axis must be trivial (kernel 1, stride 1,
 * dilation 1, no padding). Trivial H and W: [N, C, D, H*W] pooled with
 * kernel [kD, 1] is the same windows (torch.onnx's LocalResponseNorm
 * writes kernel [size, 1, 1] on [N, 1, C + pad, H, W]). Trivial D: D joins
 * the channels, [N, C*D, H, W]. Returns the pooled 5-D tensor.
 */
function pool5d(call: OpCall, x: Tensor, pool2d: (x4: Tensor, g: { kernel: [number, number]; strides: [number, number]; dilations: [number, number]; padding: Padding2d }) => Tensor): Tensor {
  const autoPad = call.attrs.string('auto_pad', 'NOTSET');
  if (autoPad !== 'NOTSET' && autoPad !== 'VALID') throw nodeError(call, `auto_pad '${autoPad}' on 5-D input is not supported; write explicit pads`);
  const kernel = call.attrs.ints('kernel_shape');
  if (!kernel || kernel.length !== 3) throw nodeError(call, 'attribute kernel_shape must list 3 sizes');
  const strides = call.attrs.ints('strides') ?? [1, 1, 1];
  const dilations = call.attrs.ints('dilations') ?? [1, 1, 1];
  const pads = autoPad === 'VALID' ? [0, 0, 0, 0, 0, 0] : (call.attrs.ints('pads') ?? [0, 0, 0, 0, 0, 0]);
  if (strides.length !== 3 || dilations.length !== 3 || pads.length !== 6) throw nodeError(call, 'strides and dilations take 3 entries and pads 6 on 5-D input');
  const trivial = (a: number) => kernel[a] === 1 && strides[a] === 1 && dilations[a] === 1 && pads[a] === 0 && pads[a + 3] === 0;
  const [n, c, d, h, w] = x.shape as [number, number, number, number, number];
  if (trivial(1) && trivial(2)) {
    const y = pool2d(reshape(x, [n, c, d, h * w]), {
      kernel: [kernel[0]!, 1], strides: [strides[0]!, 1], dilations: [dilations[0]!, 1],
      padding: { top: pads[0]!, bottom: pads[3]!, left: 0, right: 0 },
    });
    return reshape(y, [n, c, y.shape[2]!, h, w]);
  }
  if (trivial(0)) {
    const y = pool2d(reshape(x, [n, c * d, h, w]), {
      kernel: [kernel[1]!, kernel[2]!], strides: [strides[1]!, strides[2]!], dilations: [dilations[1]!, dilations[2]!],
      padding: { top: pads[1]!, bottom: pads[4]!, left: pads[2]!, right: pads[5]! },
    });
    return reshape(y, [n, c, d, y.shape[2]!, y.shape[3]!]);
  }
  throw nodeError(call, `a 5-D pool needs a trivial (kernel 1, stride 1, no padding) D axis or H and W axes; got kernel [${kernel.join(', ')}]`);
}

const maxPool: OpImpl = (call) => {
  if (call.node.outputs.length > 1 && call.node.outputs[1]) {
    throw nodeError(call, "the Indices output is not supported (only the pooled values)");
  }
  const x = input(call, 0);
  const ceilMode = call.attrs.int('ceil_mode', 0) !== 0;
  if (x.ndim === 5) {
    return pool3dNode(call, 'max') ?? pool5d(call, x, (x4, g) => maxPool2d(x4, { kernelSize: g.kernel, stride: g.strides, dilation: g.dilations, padding: g.padding, ceilMode }));
  }
  const g = poolGeometry(call, x);
  return from4d(maxPool2d(as4d(call, x), {
    kernelSize: g.kernel, stride: g.strides, dilation: g.dilations, padding: g.padding, ceilMode,
  }), x.ndim === 3);
};

const averagePool: OpImpl = (call) => {
  const x = input(call, 0);
  const ceilMode = call.attrs.int('ceil_mode', 0) !== 0;
  // ONNX's default is 0, PyTorch's is true.
  const countIncludePad = call.attrs.int('count_include_pad', 0) !== 0;
  if (x.ndim === 5) {
    return pool3dNode(call, 'avg') ?? pool5d(call, x, (x4, g) => {
      if (g.dilations[0] !== 1 || g.dilations[1] !== 1) throw nodeError(call, 'dilated AveragePool is not supported');
      return avgPool2d(x4, { kernelSize: g.kernel, stride: g.strides, padding: g.padding, ceilMode, countIncludePad });
    });
  }
  const g = poolGeometry(call, x);
  if (g.dilations[0] !== 1 || g.dilations[1] !== 1) throw nodeError(call, 'dilated AveragePool is not supported');
  return from4d(avgPool2d(as4d(call, x), {
    kernelSize: g.kernel, stride: g.strides, padding: g.padding, ceilMode, countIncludePad,
  }), x.ndim === 3);
};

function spatialAxes(x: Tensor): number[] {
  const axes: number[] = [];
  for (let i = 2; i < x.ndim; i++) axes.push(i);
  return axes;
}

const globalAveragePool: OpImpl = (call) => {
  const x = input(call, 0);
  return x.ndim === 4 ? globalAvgPool2d(x) : mean(x, spatialAxes(x), true);
};

const globalMaxPool: OpImpl = (call) => {
  const x = input(call, 0);
  return x.ndim === 4 ? globalMaxPool2d(x) : max(x, spatialAxes(x), true);
};

/**
 * BatchNormalization: running statistics in eval mode, batch statistics in
 * training mode (running ones updated with PyTorch momentum = 1 - ONNX
 * momentum). Old attributes: is_test and consumed_inputs are ignored
 * (the module's train/eval decides); spatial = 0 (opset < 9) normalises each
 * activation with [C, H, W]-shaped statistics.
 */
const batchNormalization: OpImpl = (call) => {
  const x = input(call, 0);
  const scale = input(call, 1);
  const bias = input(call, 2);
  const runningMean = input(call, 3);
  const runningVar = input(call, 4);
  const eps = call.attrs.float('epsilon', 1e-5);
  const training = call.attrs.has('training_mode') ? call.attrs.int('training_mode', 0) !== 0 : call.training;
  if (call.attrs.int('spatial', 1) === 0 && scale.ndim > 1) {
    if (training) throw nodeError(call, 'spatial = 0 is supported in eval mode only');
    return add(mul(div(sub(x, runningMean), sqrt(add(runningVar, eps))), scale), bias);
  }
  const flat = (t: Tensor): Tensor => (t.ndim === 1 ? t : reshape(t, [t.size]));
  const y = batchNorm(x, flat(runningMean), flat(runningVar), flat(scale), flat(bias), {
    training,
    eps,
    momentum: 1 - call.attrs.float('momentum', 0.9),
  });
  const extra = call.node.outputs.length - 1;
  return extra > 0 ? [y, runningMean, runningVar, runningMean, runningVar].slice(0, extra + 1) : y;
};

/**
 * Softmax and LogSoftmax. Before opset 13 the input is coerced to 2-D
 * [prod(shape[:axis]), prod(shape[axis:])] and normalised over the second
 * axis (axis default 1); from 13 on, over the single axis (default -1).
 */
const softmaxLike = (f: (x: Tensor, axis: number) => Tensor): OpImpl => (call) => {
  const x = input(call, 0);
  if (call.opset >= 13) return f(x, normalizeAxisFor(call, call.attrs.int('axis', -1), x.ndim));
  const axis = x.ndim === 0 ? 0 : normalizeAxisFor(call, call.attrs.int('axis', 1), x.ndim);
  const rows = sizeOf(x.shape.slice(0, axis));
  const flat = reshape(x, [rows, x.size / Math.max(rows, 1)]);
  return reshape(f(flat, 1), x.shape);
};

export const nnOps: Record<string, OpImpl> = {
  Conv: conv,
  ConvTranspose: convTranspose,
  Gemm: gemm,
  MatMul: (call) => matmul(input(call, 0), input(call, 1)),
  MaxPool: maxPool,
  AveragePool: averagePool,
  GlobalAveragePool: globalAveragePool,
  GlobalMaxPool: globalMaxPool,
  BatchNormalization: batchNormalization,
  LRN: (call) =>
    localResponseNorm(input(call, 0), call.attrs.int('size', 1), {
      alpha: call.attrs.float('alpha', 1e-4),
      beta: call.attrs.float('beta', 0.75),
      k: call.attrs.float('bias', 1),
      // ONNX's window differs from PyTorch's for even sizes.
      window: 'onnx',
    }),
  Softmax: softmaxLike(softmax),
  LogSoftmax: softmaxLike(logSoftmax),
};
