import type { ChannelAffine } from '../../tensor/kernels/kernels.js';
import { conv2d, conv2dThen, convTranspose2d } from '../../tensor/ops/conv.js';
import type { Parameter, Tensor } from '../../tensor/tensor.js';
import type { Config } from '../json.js';
import { KerasLayer, type LayerClass, type LayerContext } from './layer.js';
import {
  channelsLastOf, imageInput, imageShape, outSize, pads2d, pairOf, paddingOf, parameter, permutedParameter, type PaddingKind,
} from './spatial.js';

/**
 * Conv2D, DepthwiseConv2D, SeparableConv2D and Conv2DTranspose. Keras keeps
 * kernels as [kh, kw, in, out] (transposed convolution: [kh, kw, out, in]);
 * they are permuted once at load into the engine's [out, in, kh, kw]
 * ([in, out, kh, kw]), and TensorFlow's 'same' padding is computed per call
 * from the input's size.
 */

interface ConvGeometry {
  kernel: [number, number];
  strides: [number, number];
  dilation: [number, number];
  padding: PaddingKind;
  channelsLast: boolean;
}

function geometryOf(config: Config): ConvGeometry {
  return {
    kernel: pairOf(config, 'kernel_size'),
    strides: pairOf(config, 'strides', [1, 1]),
    dilation: pairOf(config, 'dilation_rate', [1, 1]),
    padding: paddingOf(config),
    channelsLast: channelsLastOf(config),
  };
}

function paddingForm(config: Config): string | null {
  const p = config.get('padding');
  return p === undefined || p === 'same' || p === 'valid' ? null : `padding ${JSON.stringify(p)} (accepted: 'same', 'valid')`;
}

/** Output shape of a convolution in the layer's data_format. */
function convOutput(context: LayerContext, g: ConvGeometry, channels: number) {
  const { n, h, w } = imageInput(context, g.channelsLast);
  return imageShape(
    n,
    outSize(g.padding, h, g.kernel[0], g.strides[0], g.dilation[0]),
    outSize(g.padding, w, g.kernel[1], g.strides[1], g.dilation[1]),
    channels,
    g.channelsLast,
  );
}

/** A convolution of any kind: the input in the layer's NCHW, TensorFlow's pads, then the op. */
abstract class KerasConv extends KerasLayer {
  readonly geometry: ConvGeometry;

  constructor(context: LayerContext, geometry: ConvGeometry) {
    super(context, context.config.string('activation', 'linear'));
    this.geometry = geometry;
  }

  /** The op on [N, C, H, W]; `then` (Conv2D and DepthwiseConv2D only) goes to conv2dThen. */
  protected abstract convolve(x: Tensor, pads: ReturnType<typeof pads2d>, then?: ChannelAffine): Tensor;

  forward(x: Tensor): Tensor {
    return this.activate(this.convolveStored(x));
  }

  /**
   * The convolution of a stored input, in storage, before the layer's
   * activation. `then`, a batch norm's per-channel affine (and ReLU) that the
   * kernels apply to the output, is given by src/tfjs/keras/fusion.ts, and
   * only to Conv2D and DepthwiseConv2D.
   */
  convolveStored(x: Tensor, then?: ChannelAffine): Tensor {
    const g = this.geometry;
    const v = this.layout.toNCHW(x, g.channelsLast);
    const pads = pads2d(g.padding, v.shape[2]!, v.shape[3]!, g.kernel, g.strides, g.dilation);
    return this.layout.fromNCHW(this.convolve(v, pads, then), g.channelsLast);
  }
}

export class KerasConv2D extends KerasConv {
  weight: Parameter;
  bias: Parameter | null;
  readonly groups: number;

  constructor(context: LayerContext) {
    const { config } = context;
    const g = geometryOf(config);
    super(context, g);
    const filters = config.integer('filters', undefined, 1);
    this.groups = config.integer('groups', 1, 1);
    const { c } = imageInput(context, g.channelsLast);
    const kernel = context.weight('kernel', [g.kernel[0], g.kernel[1], c === null ? null : c / this.groups, filters]);
    this.weight = permutedParameter(kernel, [3, 2, 0, 1]);
    this.bias = config.boolean('use_bias', true) ? parameter(context.weight('bias', [filters])) : null;
  }

  protected convolve(x: Tensor, pads: ReturnType<typeof pads2d>, then?: ChannelAffine): Tensor {
    const g = this.geometry;
    return conv2dThen(x, this.weight, this.bias, { stride: g.strides, dilation: g.dilation, padding: pads, groups: this.groups }, then);
  }
}

const conv2dClass: LayerClass = {
  unsupported: paddingForm,
  build: (context) => {
    const module = new KerasConv2D(context);
    return { module, outputShape: convOutput(context, module.geometry, context.config.integer('filters', undefined, 1)) };
  },
};

/** The depthwise kernel [kh, kw, C, M] as a grouped conv weight [C*M, 1, kh, kw] (output channel c*M + m, as TensorFlow). */
function depthwiseWeight(context: LayerContext, g: ConvGeometry, multiplier: number): { weight: Parameter; channels: number } {
  const { c } = imageInput(context, g.channelsLast);
  const kernel = context.weight('depthwise_kernel', [g.kernel[0], g.kernel[1], c, multiplier]);
  const channels = kernel.shape[2]!;
  const p = permutedParameter(kernel, [2, 3, 0, 1]);
  return { weight: parameter(p, [channels * multiplier, 1, g.kernel[0], g.kernel[1]]), channels };
}

export class KerasDepthwiseConv2D extends KerasConv {
  weight: Parameter;
  bias: Parameter | null;
  readonly channels: number;

  constructor(context: LayerContext) {
    const { config } = context;
    const g = geometryOf(config);
    super(context, g);
    const multiplier = config.integer('depth_multiplier', 1, 1);
    const { weight, channels } = depthwiseWeight(context, g, multiplier);
    this.weight = weight;
    this.channels = channels;
    this.bias = config.boolean('use_bias', true) ? parameter(context.weight('bias', [channels * multiplier])) : null;
  }

  protected convolve(x: Tensor, pads: ReturnType<typeof pads2d>, then?: ChannelAffine): Tensor {
    const g = this.geometry;
    return conv2dThen(x, this.weight, this.bias, { stride: g.strides, dilation: g.dilation, padding: pads, groups: this.channels }, then);
  }
}

const depthwiseClass: LayerClass = {
  unsupported: paddingForm,
  build: (context) => {
    const module = new KerasDepthwiseConv2D(context);
    return { module, outputShape: convOutput(context, module.geometry, module.weight.shape[0]!) };
  },
};

/** Depthwise (with the layer's stride, padding, dilation), then a 1x1 pointwise conv and the bias. */
export class KerasSeparableConv2D extends KerasConv {
  depthwiseWeight: Parameter;
  pointwiseWeight: Parameter;
  bias: Parameter | null;
  readonly channels: number;

  constructor(context: LayerContext) {
    const { config } = context;
    const g = geometryOf(config);
    super(context, g);
    const filters = config.integer('filters', undefined, 1);
    const multiplier = config.integer('depth_multiplier', 1, 1);
    const { weight, channels } = depthwiseWeight(context, g, multiplier);
    this.depthwiseWeight = weight;
    this.channels = channels;
    this.pointwiseWeight = permutedParameter(context.weight('pointwise_kernel', [1, 1, channels * multiplier, filters]), [3, 2, 0, 1]);
    this.bias = config.boolean('use_bias', true) ? parameter(context.weight('bias', [filters])) : null;
  }

  protected convolve(x: Tensor, pads: ReturnType<typeof pads2d>): Tensor {
    const g = this.geometry;
    const depthwise = conv2d(x, this.depthwiseWeight, null, { stride: g.strides, dilation: g.dilation, padding: pads, groups: this.channels });
    return conv2d(depthwise, this.pointwiseWeight, this.bias);
  }
}

const separableClass: LayerClass = {
  unsupported: paddingForm,
  build: (context) => {
    const module = new KerasSeparableConv2D(context);
    return { module, outputShape: convOutput(context, module.geometry, context.config.integer('filters', undefined, 1)) };
  },
};

/** TensorFlow's transposed-convolution output size (tfjs-layers deconvLength). */
function deconvSize(kind: PaddingKind, size: number, kernel: number, stride: number): number {
  return kind === 'valid' ? size * stride + Math.max(kernel - stride, 0) : size * stride;
}

/**
 * Conv2DTranspose: the input gradient of the conv2d that maps the output
 * size back to the input size with TensorFlow's padding. That conv's pads
 * (before, after) crop the full transposed result; when the kernel is
 * smaller than the stride, zeros fill the end (output padding).
 */
export class KerasConv2DTranspose extends KerasConv {
  weight: Parameter;
  bias: Parameter | null;

  constructor(context: LayerContext) {
    const { config } = context;
    const g = geometryOf(config);
    super(context, g);
    const filters = config.integer('filters', undefined, 1);
    const { c } = imageInput(context, g.channelsLast);
    // [kh, kw, out, in] -> [in, out, kh, kw]
    this.weight = permutedParameter(context.weight('kernel', [g.kernel[0], g.kernel[1], filters, c]), [3, 2, 0, 1]);
    this.bias = config.boolean('use_bias', true) ? parameter(context.weight('bias', [filters])) : null;
  }

  protected convolve(x: Tensor): Tensor {
    const g = this.geometry;
    const [inH, inW] = [x.shape[2]!, x.shape[3]!];
    const outH = deconvSize(g.padding, inH, g.kernel[0], g.strides[0]);
    const outW = deconvSize(g.padding, inW, g.kernel[1], g.strides[1]);
    const pads = pads2d(g.padding, outH, outW, g.kernel, g.strides);
    const fullH = (inH - 1) * g.strides[0] + g.kernel[0] - pads.top - pads.bottom;
    const fullW = (inW - 1) * g.strides[1] + g.kernel[1] - pads.left - pads.right;
    // fullH never exceeds outH: the pads crop exactly k - s when k >= s, else nothing.
    return convTranspose2d(x, this.weight, this.bias, {
      stride: g.strides,
      padding: pads,
      outputPadding: [outH - fullH, outW - fullW],
    });
  }
}

const transposeClass: LayerClass = {
  unsupported: (config) => {
    const dilation = config.get('dilation_rate');
    if (dilation !== undefined && dilation !== null && JSON.stringify(dilation) !== '[1,1]' && dilation !== 1) {
      return `dilation_rate ${JSON.stringify(dilation)} (accepted: 1, as TensorFlow.js)`;
    }
    const outputPadding = config.get('output_padding');
    if (outputPadding !== undefined && outputPadding !== null) return `output_padding ${JSON.stringify(outputPadding)} (accepted: none)`;
    return paddingForm(config);
  },
  build: (context) => {
    const module = new KerasConv2DTranspose(context);
    const g = module.geometry;
    const { n, h, w } = imageInput(context, g.channelsLast);
    const filters = context.config.integer('filters', undefined, 1);
    const outputShape = imageShape(
      n,
      h === null ? null : deconvSize(g.padding, h, g.kernel[0], g.strides[0]),
      w === null ? null : deconvSize(g.padding, w, g.kernel[1], g.strides[1]),
      filters,
      g.channelsLast,
    );
    return { module, outputShape };
  },
};

export const convClasses: Record<string, LayerClass> = {
  Conv2D: conv2dClass,
  Convolution2D: conv2dClass,
  DepthwiseConv2D: depthwiseClass,
  SeparableConv2D: separableClass,
  SeparableConvolution2D: separableClass,
  Conv2DTranspose: transposeClass,
  Convolution2DTranspose: transposeClass,
};
