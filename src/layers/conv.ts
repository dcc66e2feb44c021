import { conv2dThen, convTranspose2d } from '../tensor/ops/conv.js';
import type { ChannelAffine } from '../tensor/kernels/kernels.js';
import { pad } from '../tensor/ops/shape.js';
import { pair, splitPadding, type Pads, type Pair } from '../tensor/ops/spatial.js';
import { ArgumentError, ShapeError } from '../tensor/errors.js';
import { Parameter, Tensor, shapeString } from '../tensor/tensor.js';
import { fanInBound, initGenerator, positiveInteger, tupleRepr, uniformParameter, type InitOptions } from './init.js';
import { Module } from './module.js';

/** How the border is filled before convolving (PyTorch's padding_mode; 'circular' is not supported). */
export type PaddingMode = 'zeros' | 'reflect' | 'replicate';

export interface Conv2dLayerOptions extends InitOptions {
  stride?: Pair;
  /** A size per side ([h, w] or one number), or 'valid' (none) or 'same' (output as large as the input; stride 1 only). */
  padding?: Pair | 'same' | 'valid';
  dilation?: Pair;
  groups?: number;
  bias?: boolean;
  paddingMode?: PaddingMode;
}

/**
 * torch.nn.Conv2d: weight [out, in/groups, kh, kw], bias [out]; weights from
 * kaiming_uniform(a = sqrt(5)) and the bias from U(±1/sqrt(fan_in)), as PyTorch.
 */
export class Conv2d extends Module {
  static override readonly typeName: string = 'Conv2d';
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  readonly padding: [number, number] | 'same' | 'valid';
  readonly dilation: [number, number];
  readonly groups: number;
  readonly paddingMode: PaddingMode;
  weight: Parameter;
  bias: Parameter | null;

  constructor(inChannels: number, outChannels: number, kernelSize: Pair, options: Conv2dLayerOptions = {}) {
    super();
    const name = 'Conv2d';
    this.inChannels = positiveInteger(inChannels, 'inChannels', name);
    this.outChannels = positiveInteger(outChannels, 'outChannels', name);
    this.kernelSize = pair(kernelSize, 'kernelSize', name);
    this.stride = pair(options.stride ?? 1, 'stride', name);
    this.dilation = pair(options.dilation ?? 1, 'dilation', name);
    this.groups = positiveInteger(options.groups ?? 1, 'groups', name);
    const padding = options.padding ?? 0;
    this.padding = padding === 'same' || padding === 'valid' ? padding : pair(padding, 'padding', name, 0);
    this.paddingMode = options.paddingMode ?? 'zeros';
    if (!['zeros', 'reflect', 'replicate'].includes(this.paddingMode)) {
      throw new ArgumentError(`Conv2d: paddingMode '${this.paddingMode}' is not supported; accepted: 'zeros', 'reflect', 'replicate'`);
    }
    if (inChannels % this.groups || outChannels % this.groups) {
      throw new ArgumentError(`Conv2d: inChannels (${inChannels}) and outChannels (${outChannels}) must both be divisible by groups (${this.groups})`);
    }
    if (this.padding === 'same' && (this.stride[0] !== 1 || this.stride[1] !== 1)) {
      throw new ArgumentError(`Conv2d: padding 'same' needs stride 1 (got stride ${tupleRepr(this.stride)}), as in PyTorch`);
    }
    const [kh, kw] = this.kernelSize;
    const fanIn = (inChannels / this.groups) * kh * kw;
    const rng = initGenerator(options);
    this.weight = uniformParameter([outChannels, inChannels / this.groups, kh, kw], fanInBound(fanIn), rng);
    this.bias = options.bias ?? true ? uniformParameter([outChannels], fanInBound(fanIn), rng) : null;
  }

  /** Padding per side: PyTorch's 'same' puts the odd pixel at the bottom/right. */
  private sides(): Pads {
    if (this.padding === 'valid') return { top: 0, bottom: 0, left: 0, right: 0 };
    if (this.padding === 'same') {
      const [top, bottom] = splitPadding(this.dilation[0] * (this.kernelSize[0] - 1), 'end');
      const [left, right] = splitPadding(this.dilation[1] * (this.kernelSize[1] - 1), 'end');
      return { top, bottom, left, right };
    }
    const [ph, pw] = this.padding;
    return { top: ph, bottom: ph, left: pw, right: pw };
  }

  override forward(x: Tensor): Tensor {
    return this.convolve(x);
  }

  /**
   * forward(x), then (with `then`) its output scaled and shifted per
   * channel inside the kernels (conv2dThen): layers/fusion.ts's batch norm,
   * for a call that records no gradient. No hook runs: the caller has
   * checked there are none.
   */
  convolve(x: Tensor, then?: ChannelAffine): Tensor {
    if (x.ndim !== 4 || x.shape[1] !== this.inChannels) {
      throw new ShapeError(
        `Conv2d: expected input [N, ${this.inChannels}, H, W]; got ${shapeString(x.shape)}`,
      );
    }
    const sides = this.sides();
    const common = { stride: this.stride, dilation: this.dilation, groups: this.groups };
    if (this.paddingMode !== 'zeros') {
      const padded = pad(x, [sides.left, sides.right, sides.top, sides.bottom], { mode: this.paddingMode });
      return conv2dThen(padded, this.weight, this.bias, { ...common, padding: 0 }, then);
    }
    return conv2dThen(x, this.weight, this.bias, { ...common, padding: sides }, then);
  }

  /** A fresh output (conv2d's, or a recycled buffer it overwrote); its input is kept only by a recorded graph. */
  override isolatedForward(): boolean {
    return this.constructor === Conv2d;
  }

  override extraRepr(): string {
    const parts = [`${this.inChannels}, ${this.outChannels}, kernel_size=${tupleRepr(this.kernelSize)}, stride=${tupleRepr(this.stride)}`];
    if (typeof this.padding === 'string') parts.push(`padding=${this.padding}`);
    else if (this.padding[0] || this.padding[1]) parts.push(`padding=${tupleRepr(this.padding)}`);
    if (this.dilation[0] !== 1 || this.dilation[1] !== 1) parts.push(`dilation=${tupleRepr(this.dilation)}`);
    if (this.groups !== 1) parts.push(`groups=${this.groups}`);
    if (!this.bias) parts.push('bias=False');
    if (this.paddingMode !== 'zeros') parts.push(`padding_mode=${this.paddingMode}`);
    return parts.join(', ');
  }
}

export interface ConvTranspose2dLayerOptions extends InitOptions {
  stride?: Pair;
  padding?: Pair;
  outputPadding?: Pair;
  dilation?: Pair;
  groups?: number;
  bias?: boolean;
}

/**
 * torch.nn.ConvTranspose2d: weight [in, out/groups, kh, kw], bias [out].
 * PyTorch computes the init fan-in from weight.size(1), i.e. out/groups * kh * kw.
 */
export class ConvTranspose2d extends Module {
  static override readonly typeName: string = 'ConvTranspose2d';
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  readonly padding: [number, number];
  readonly outputPadding: [number, number];
  readonly dilation: [number, number];
  readonly groups: number;
  weight: Parameter;
  bias: Parameter | null;

  constructor(inChannels: number, outChannels: number, kernelSize: Pair, options: ConvTranspose2dLayerOptions = {}) {
    super();
    const name = 'ConvTranspose2d';
    this.inChannels = positiveInteger(inChannels, 'inChannels', name);
    this.outChannels = positiveInteger(outChannels, 'outChannels', name);
    this.kernelSize = pair(kernelSize, 'kernelSize', name);
    this.stride = pair(options.stride ?? 1, 'stride', name);
    this.padding = pair(options.padding ?? 0, 'padding', name, 0);
    this.outputPadding = pair(options.outputPadding ?? 0, 'outputPadding', name, 0);
    this.dilation = pair(options.dilation ?? 1, 'dilation', name);
    this.groups = positiveInteger(options.groups ?? 1, 'groups', name);
    if (inChannels % this.groups || outChannels % this.groups) {
      throw new ArgumentError(`ConvTranspose2d: inChannels (${inChannels}) and outChannels (${outChannels}) must both be divisible by groups (${this.groups})`);
    }
    if (this.outputPadding[0] >= Math.max(this.stride[0], this.dilation[0]) || this.outputPadding[1] >= Math.max(this.stride[1], this.dilation[1])) {
      throw new ArgumentError(
        `ConvTranspose2d: outputPadding ${tupleRepr(this.outputPadding)} must be smaller than stride ${tupleRepr(this.stride)} or dilation ${tupleRepr(this.dilation)}`,
      );
    }
    const [kh, kw] = this.kernelSize;
    const fanIn = (outChannels / this.groups) * kh * kw;
    const rng = initGenerator(options);
    this.weight = uniformParameter([inChannels, outChannels / this.groups, kh, kw], fanInBound(fanIn), rng);
    this.bias = options.bias ?? true ? uniformParameter([outChannels], fanInBound(fanIn), rng) : null;
  }

  override forward(x: Tensor): Tensor {
    if (x.ndim !== 4 || x.shape[1] !== this.inChannels) {
      throw new ShapeError(`ConvTranspose2d: expected input [N, ${this.inChannels}, H, W]; got ${shapeString(x.shape)}`);
    }
    return convTranspose2d(x, this.weight, this.bias, {
      stride: this.stride,
      padding: this.padding,
      outputPadding: this.outputPadding,
      dilation: this.dilation,
      groups: this.groups,
    });
  }

  override extraRepr(): string {
    const parts = [`${this.inChannels}, ${this.outChannels}, kernel_size=${tupleRepr(this.kernelSize)}, stride=${tupleRepr(this.stride)}`];
    if (this.padding[0] || this.padding[1]) parts.push(`padding=${tupleRepr(this.padding)}`);
    if (this.outputPadding[0] || this.outputPadding[1]) parts.push(`output_padding=${tupleRepr(this.outputPadding)}`);
    if (this.dilation[0] !== 1 || this.dilation[1] !== 1) parts.push(`dilation=${tupleRepr(this.dilation)}`);
    if (this.groups !== 1) parts.push(`groups=${this.groups}`);
    if (!this.bias) parts.push('bias=False');
    return parts.join(', ');
  }
}
