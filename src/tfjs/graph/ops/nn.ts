import { noGrad } from '../../../tensor/autograd.js';
import { elu, leakyRelu, relu, relu6, selu, sigmoid, tanh } from '../../../tensor/ops/activations.js';
import { add, maximum, minimum, mul } from '../../../tensor/ops/elementwise.js';
import { conv2d } from '../../../tensor/ops/conv.js';
import { interpolate } from '../../../tensor/ops/interpolate.js';
import { matmul } from '../../../tensor/ops/matmul.js';
import { batchNorm } from '../../../tensor/ops/norm.js';
import { avgPool2d, maxPool2d } from '../../../tensor/ops/pool.js';
import { permute, reshape } from '../../../tensor/ops/shape.js';
import { softmax } from '../../../tensor/ops/softmax.js';
import type { Pads } from '../../../tensor/ops/spatial.js';
import { shapeString, type Tensor } from '../../../tensor/tensor.js';
import { padsOf, type PaddingKind } from '../../keras/spatial.js';
import { aligned, canonical, float, fromNchw, input, ints, nchw, opError, type OpCall, type TfOp } from '../types.js';

/**
 * Convolutions (plain, depthwise, fused with a bias or batch norm and an
 * activation), MatMul, BiasAdd, FusedBatchNorm, pooling, softmax, resizing
 * and the activations, with TensorFlow's attributes. Kernels (HWIO) are
 * turned into the engine's OIHW once per weight tensor and kept.
 */

const formatOf = (call: OpCall): string => call.node.attrs.string('data_format', 'NHWC');

/** [top, bottom, left, right] for SAME / VALID / EXPLICIT padding of an [N, C, H, W] input. */
function convPads(call: OpCall, x: Tensor, kernel: [number, number], strides: [number, number], dilations: [number, number]): Pads {
  const padding = call.node.attrs.string('padding', 'VALID');
  if (padding === 'EXPLICIT') {
    const p = call.node.attrs.ints('explicit_paddings') ?? [];
    // [[0, 0], [top, bottom], [left, right], [0, 0]] in the data_format's order
    const [h, w] = formatOf(call) === 'NCHW' ? [2, 3] : [1, 2];
    return { top: p[2 * h] ?? 0, bottom: p[2 * h + 1] ?? 0, left: p[2 * w] ?? 0, right: p[2 * w + 1] ?? 0 };
  }
  const kind: PaddingKind = padding === 'SAME' ? 'same' : 'valid';
  const [top, bottom] = padsOf(kind, x.shape[2]!, kernel[0], strides[0], dilations[0]);
  const [left, right] = padsOf(kind, x.shape[3]!, kernel[1], strides[1], dilations[1]);
  return { top, bottom, left, right };
}

/** The spatial entries of a 4-long attribute (strides, dilations, ksize) by data_format. */
function spatialPair(call: OpCall, name: string): [number, number] {
  const v = call.node.attrs.ints(name) ?? [1, 1, 1, 1];
  return formatOf(call) === 'NCHW' ? [v[2] ?? 1, v[3] ?? 1] : [v[1] ?? 1, v[2] ?? 1];
}

// Engine-layout kernels, made once per weight tensor (weights are constants, folded once).
const oihw = new WeakMap<Tensor, Tensor>();
const depthwiseKernels = new WeakMap<Tensor, Tensor>();

function convKernel(filter: Tensor): Tensor {
  let k = oihw.get(filter);
  if (!k) {
    // [kh, kw, in, out] -> [out, in, kh, kw]
    k = noGrad(() => permute(filter, [3, 2, 0, 1]));
    if (!filter.requiresGrad) oihw.set(filter, k);
  }
  return filter.requiresGrad ? permute(filter, [3, 2, 0, 1]) : k;
}

function depthwiseKernel(filter: Tensor): Tensor {
  const [kh, kw, c, m] = filter.shape as [number, number, number, number];
  const make = () => reshape(permute(filter, [2, 3, 0, 1]), [c * m, 1, kh, kw]);
  if (filter.requiresGrad) return make();
  let k = depthwiseKernels.get(filter);
  if (!k) {
    k = noGrad(make);
    depthwiseKernels.set(filter, k);
  }
  return k;
}

function convolve(call: OpCall, depthwise: boolean, bias: Tensor | null = null): Tensor {
  const x = nchw(call, input(call, 0), formatOf(call));
  const filter = input(call, 1).tensor;
  if (filter.ndim !== 4) throw opError(call, `filter must be 4-D [kh, kw, in, out]; got ${shapeString(filter.shape)}`);
  const strides = spatialPair(call, 'strides');
  const dilations = spatialPair(call, 'dilations');
  const kernel: [number, number] = [filter.shape[0]!, filter.shape[1]!];
  const padding = convPads(call, x, kernel, strides, dilations);
  if (depthwise) return conv2d(x, depthwiseKernel(filter), bias, { stride: strides, dilation: dilations, padding, groups: filter.shape[2]! });
  return conv2d(x, convKernel(filter), bias, { stride: strides, dilation: dilations, padding });
}

/**
 * An activation by TensorFlow op name (Relu, Relu6, Elu, Selu, LeakyRelu,
 * Sigmoid, Tanh, PRelu), matched without case: tfjs-converter writes fused
 * ops lower-case ('relu6', 'prelu').
 */
function activate(call: OpCall, name: string, x: Tensor, alpha?: Tensor): Tensor {
  switch (name.toLowerCase()) {
    case 'relu':
      return relu(x);
    case 'relu6':
      return relu6(x);
    case 'elu':
      return elu(x);
    case 'selu':
      return selu(x);
    case 'sigmoid':
      return sigmoid(x);
    case 'tanh':
      return tanh(x);
    case 'leakyrelu':
      return leakyRelu(x, call.node.attrs.float('leakyrelu_alpha', call.node.attrs.float('alpha', 0.2)));
    case 'prelu':
      if (!alpha) throw opError(call, 'PRelu needs its alpha argument');
      return add(maximum(x, 0), mul(alpha, minimum(x, 0)));
    default:
      throw opError(call, `fused activation '${name}' is not supported`);
  }
}

/** The fused ops a _Fused* node may carry: BiasAdd or FusedBatchNorm, then an activation. */
export const FUSED_ACTIVATIONS = ['Relu', 'Relu6', 'Elu', 'Selu', 'LeakyRelu', 'Sigmoid', 'Tanh', 'PRelu'];

export function unsupportedFusion(fusedOps: readonly string[]): string | null {
  const [first, second, ...rest] = fusedOps.map((op) => op.toLowerCase());
  const okFirst = first === 'biasadd' || first === 'fusedbatchnorm';
  const okSecond = second === undefined || FUSED_ACTIVATIONS.some((a) => a.toLowerCase() === second);
  return okFirst && okSecond && rest.length === 0 ? null : `fused_ops [${fusedOps.join(', ')}] (accepted: BiasAdd or FusedBatchNorm, then one of ${FUSED_ACTIVATIONS.join(', ')})`;
}

/**
 * A per-channel vector for a stored [N, C, H, W] result (or the last axis of a
 * canonical one): shaped to broadcast along the channels.
 */
function alongChannels(v: Tensor, y: Tensor, channelsAxis: number): Tensor {
  if (y.ndim < 2 || channelsAxis === y.ndim - 1) return v;
  const shape = y.shape.map((d, i) => (i === channelsAxis ? d : 1));
  return reshape(v, shape);
}

/**
 * A fused convolution's bias, when the convolution can add it itself (a 1-D
 * vector, one value per output channel): conv2d starts its output from the
 * bias, instead of a broadcast add over the result afterwards, which built a
 * per-element index table and called a function per element (half of a
 * MobileNetV2 graph model's time).
 */
function convBias(call: OpCall, depthwise: boolean): Tensor | null {
  const fusedOps = call.node.attrs.strings('fused_ops') ?? [];
  const bias = call.inputs[2]?.tensor;
  if (fusedOps[0]?.toLowerCase() !== 'biasadd' || !bias || bias.ndim !== 1) return null;
  const filter = call.inputs[1]!.tensor;
  const outChannels = depthwise ? filter.shape[2]! * filter.shape[3]! : filter.shape[3]!;
  return bias.size === outChannels ? bias : null;
}

/**
 * BiasAdd or FusedBatchNorm, then the activation, on a conv's or matmul's
 * result (`biasAdded`: the convolution already added the BiasAdd's bias).
 */
function fused(call: OpCall, y: Tensor, channelsAxis: number, biasAdded = false): Tensor {
  const fusedOps = call.node.attrs.strings('fused_ops') ?? [];
  const args = call.inputs.slice(2).map((v) => v.tensor);
  let out = y;
  let next = 0;
  const first = fusedOps[0]?.toLowerCase();
  if (first === 'biasadd') {
    if (biasAdded) next++;
    else out = add(out, alongChannels(args[next++]!, out, channelsAxis));
  } else if (first === 'fusedbatchnorm') {
    const [scale, offset, mean, variance] = args;
    next = 4;
    // Convolutions and matmuls put their channels on axis 1, where batchNorm works.
    out = batchNorm(out, mean!, variance!, scale, offset, { eps: call.node.attrs.float('epsilon', 1e-4) });
  }
  if (fusedOps[1]) out = activate(call, fusedOps[1], out, args[next] ? alongChannels(args[next]!, out, channelsAxis) : undefined);
  return out;
}

const conv2dOp = (depthwise: boolean, withFusion: boolean): TfOp => (call) => {
  const bias = withFusion ? convBias(call, depthwise) : null;
  const y = convolve(call, depthwise, bias);
  return fromNchw(withFusion ? fused(call, y, 1, bias !== null) : y, formatOf(call));
};

/** MatMul (2-D, transpose_a / transpose_b), and _FusedMatMul with its bias and activation. */
const matMulOp = (withFusion: boolean): TfOp => (call) => {
  let a = canonical(input(call, 0));
  let b = canonical(input(call, 1));
  if (a.ndim !== 2 || b.ndim !== 2) throw opError(call, `multiplies 2-D matrices; got ${shapeString(a.shape)} and ${shapeString(b.shape)}`);
  if (call.node.attrs.bool('transpose_a', false)) a = permute(a, [1, 0]);
  if (call.node.attrs.bool('transpose_b', false)) b = permute(b, [1, 0]);
  const y = matmul(a, b);
  return float(withFusion ? fused(call, y, 1) : y);
};

const biasAdd: TfOp = (call) => {
  const x = input(call, 0);
  const bias = input(call, 1).tensor;
  // Channels: axis 1 of a stored [N, C, H, W] or of an NCHW tensor, else the last.
  const axis = x.type.permuted || (formatOf(call) === 'NCHW' && x.tensor.ndim >= 3) ? 1 : x.tensor.ndim - 1;
  return { tensor: add(x.tensor, alongChannels(bias, x.tensor, axis)), type: x.type };
};

const fusedBatchNorm: TfOp = (call) => {
  const format = formatOf(call);
  const x = nchw(call, input(call, 0), format);
  const [scale, offset, mean, variance] = [1, 2, 3, 4].map((i) => input(call, i).tensor);
  const y = batchNorm(x, mean!, variance!, scale, offset, { eps: call.node.attrs.float('epsilon', 1e-4) });
  return fromNchw(y, format);
};

const pool = (kind: 'max' | 'avg'): TfOp => (call) => {
  const format = formatOf(call);
  const x = nchw(call, input(call, 0), format);
  const kernel = spatialPair(call, 'ksize');
  const stride = spatialPair(call, 'strides');
  const padding = convPads(call, x, kernel, stride, [1, 1]);
  const y = kind === 'max'
    ? maxPool2d(x, { kernelSize: kernel, stride, padding })
    : avgPool2d(x, { kernelSize: kernel, stride, padding, countIncludePad: false });
  return fromNchw(y, format);
};

const softmaxOp: TfOp = (call) => {
  const x = input(call, 0);
  return { tensor: softmax(x.tensor, x.type.permuted ? 1 : -1), type: x.type };
};

/** ResizeBilinear / ResizeNearestNeighbor of NHWC images to `size`, with TensorFlow's align_corners and half_pixel_centers. */
const resize = (mode: 'bilinear' | 'nearest'): TfOp => (call) => {
  const x = nchw(call, input(call, 0), 'NHWC');
  const [h, w] = ints(call, 1);
  const alignCorners = call.node.attrs.bool('align_corners', false);
  const halfPixel = call.node.attrs.bool('half_pixel_centers', false);
  const size: [number, number] = [h!, w!];
  const y = mode === 'bilinear'
    ? alignCorners
      ? interpolate(x, { size, alignCorners: true })
      : interpolate(x, { size, coordinates: halfPixel ? 'half_pixel' : 'asymmetric' })
    : interpolate(x, { size, mode: 'nearest', coordinates: halfPixel ? 'half_pixel' : 'asymmetric' });
  return fromNchw(y, 'NHWC');
};

const unary = (f: (x: Tensor) => Tensor): TfOp => (call) => {
  const x = input(call, 0);
  return { tensor: f(x.tensor), type: x.type };
};

const leakyReluOp: TfOp = (call) => {
  const x = input(call, 0);
  return { tensor: leakyRelu(x.tensor, call.node.attrs.float('alpha', 0.2)), type: x.type };
};

const preluOp: TfOp = (call) => {
  const { tensors, permuted } = aligned([input(call, 0), input(call, 1)]);
  const [x, alpha] = tensors as [Tensor, Tensor];
  return float(add(maximum(x, 0), mul(alpha, minimum(x, 0))), permuted);
};

export const nnOps: Record<string, TfOp> = {
  Conv2D: conv2dOp(false, false),
  DepthwiseConv2dNative: conv2dOp(true, false),
  _FusedConv2D: conv2dOp(false, true),
  FusedDepthwiseConv2dNative: conv2dOp(true, true),
  MatMul: matMulOp(false),
  _FusedMatMul: matMulOp(true),
  BiasAdd: biasAdd,
  FusedBatchNorm: fusedBatchNorm,
  FusedBatchNormV2: fusedBatchNorm,
  FusedBatchNormV3: fusedBatchNorm,
  MaxPool: pool('max'),
  AvgPool: pool('avg'),
  Softmax: softmaxOp,
  ResizeBilinear: resize('bilinear'),
  ResizeNearestNeighbor: resize('nearest'),
  Relu: unary((x) => relu(x)),
  Relu6: unary(relu6),
  Elu: unary((x) => elu(x)),
  Selu: unary(selu),
  Sigmoid: unary(sigmoid),
  Tanh: unary(tanh),
  LeakyRelu: leakyReluOp,
  Prelu: preluOp,
};
