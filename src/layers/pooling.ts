import { adaptiveAvgPool2d, avgPool2d, maxPool2d } from '../tensor/ops/pool.js';
import { pair, type Pair } from '../tensor/ops/spatial.js';
import { ArgumentError, ShapeError } from '../tensor/errors.js';
import { Tensor, shapeString } from '../tensor/tensor.js';
import { tupleRepr } from './init.js';
import { Module } from './module.js';

function expect4d(x: Tensor, layer: string): void {
  if (x.ndim !== 4) throw new ShapeError(`${layer}: expected input [N, C, H, W]; got ${shapeString(x.shape)}`);
}

function checkPadding(padding: [number, number], kernel: [number, number], layer: string): void {
  if (padding[0] > kernel[0] / 2 || padding[1] > kernel[1] / 2) {
    throw new ArgumentError(`${layer}: padding ${tupleRepr(padding)} must be at most half the kernel size ${tupleRepr(kernel)}`);
  }
}

export interface MaxPool2dLayerOptions {
  /** Defaults to kernelSize, as in PyTorch. */
  stride?: Pair;
  padding?: Pair;
  dilation?: Pair;
  ceilMode?: boolean;
}

/** torch.nn.MaxPool2d; the gradient goes to the first maximum of each window. */
export class MaxPool2d extends Module {
  static override readonly typeName: string = 'MaxPool2d';
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  readonly padding: [number, number];
  readonly dilation: [number, number];
  readonly ceilMode: boolean;

  constructor(kernelSize: Pair, options: MaxPool2dLayerOptions = {}) {
    super();
    this.kernelSize = pair(kernelSize, 'kernelSize', 'MaxPool2d');
    this.stride = pair(options.stride ?? kernelSize, 'stride', 'MaxPool2d');
    this.padding = pair(options.padding ?? 0, 'padding', 'MaxPool2d', 0);
    this.dilation = pair(options.dilation ?? 1, 'dilation', 'MaxPool2d');
    this.ceilMode = options.ceilMode ?? false;
    checkPadding(this.padding, this.kernelSize, 'MaxPool2d');
  }

  override forward(x: Tensor): Tensor {
    expect4d(x, 'MaxPool2d');
    return maxPool2d(x, {
      kernelSize: this.kernelSize,
      stride: this.stride,
      padding: this.padding,
      dilation: this.dilation,
      ceilMode: this.ceilMode,
    });
  }

  override isolatedForward(): boolean {
    return this.constructor === MaxPool2d;
  }

  override extraRepr(): string {
    const [k, s, p, d] = [this.kernelSize, this.stride, this.padding, this.dilation].map((v) => (v[0] === v[1] ? `${v[0]}` : tupleRepr(v)));
    return `kernel_size=${k}, stride=${s}, padding=${p}, dilation=${d}, ceil_mode=${this.ceilMode ? 'True' : 'False'}`;
  }
}

export interface AvgPool2dLayerOptions {
  /** Defaults to kernelSize, as in PyTorch. */
  stride?: Pair;
  padding?: Pair;
  ceilMode?: boolean;
  /** Count zero padding in the divisor (default true, as PyTorch). */
  countIncludePad?: boolean;
}

/** torch.nn.AvgPool2d. */
export class AvgPool2d extends Module {
  static override readonly typeName: string = 'AvgPool2d';
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  readonly padding: [number, number];
  readonly ceilMode: boolean;
  readonly countIncludePad: boolean;

  constructor(kernelSize: Pair, options: AvgPool2dLayerOptions = {}) {
    super();
    this.kernelSize = pair(kernelSize, 'kernelSize', 'AvgPool2d');
    this.stride = pair(options.stride ?? kernelSize, 'stride', 'AvgPool2d');
    this.padding = pair(options.padding ?? 0, 'padding', 'AvgPool2d', 0);
    this.ceilMode = options.ceilMode ?? false;
    this.countIncludePad = options.countIncludePad ?? true;
    checkPadding(this.padding, this.kernelSize, 'AvgPool2d');
  }

  override forward(x: Tensor): Tensor {
    expect4d(x, 'AvgPool2d');
    return avgPool2d(x, {
      kernelSize: this.kernelSize,
      stride: this.stride,
      padding: this.padding,
      ceilMode: this.ceilMode,
      countIncludePad: this.countIncludePad,
    });
  }

  override extraRepr(): string {
    const [k, s, p] = [this.kernelSize, this.stride, this.padding].map((v) => (v[0] === v[1] ? `${v[0]}` : tupleRepr(v)));
    return `kernel_size=${k}, stride=${s}, padding=${p}`;
  }
}

/**
 * torch.nn.AdaptiveAvgPool2d(outputSize): one number for a square output, or
 * [h, w] where null keeps that axis of the input (PyTorch's None).
 */
export class AdaptiveAvgPool2d extends Module {
  static override readonly typeName: string = 'AdaptiveAvgPool2d';
  readonly outputSize: number | readonly [number | null, number | null];

  constructor(outputSize: number | readonly [number | null, number | null]) {
    super();
    const sizes = typeof outputSize === 'number' ? [outputSize] : outputSize;
    if (!sizes.every((s) => s === null || (Number.isInteger(s) && s >= 1))) {
      throw new ArgumentError(
        `AdaptiveAvgPool2d: outputSize must be a positive integer or a pair of positive integers or nulls; got ${JSON.stringify(outputSize)}`,
      );
    }
    this.outputSize = outputSize;
  }

  override forward(x: Tensor): Tensor {
    expect4d(x, 'AdaptiveAvgPool2d');
    const size = this.outputSize;
    const [h, w] = typeof size === 'number' ? [size, size] : [size[0] ?? x.shape[2]!, size[1] ?? x.shape[3]!];
    return adaptiveAvgPool2d(x, [h, w]);
  }

  override extraRepr(): string {
    const size = this.outputSize;
    return `output_size=${typeof size === 'number' ? size : `(${size.map((s) => (s === null ? 'None' : s)).join(', ')})`}`;
  }
}
