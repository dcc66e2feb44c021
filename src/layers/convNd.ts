import { conv1d } from '../tensor/ops/conv1d.js';
import { conv3d } from '../tensor/ops/conv3d.js';
import { ArgumentError, ShapeError } from '../tensor/errors.js';
import { Parameter, Tensor, shapeString } from '../tensor/tensor.js';
import { fanInBound, initGenerator, positiveInteger, tupleRepr, uniformParameter, type InitOptions } from './init.js';
import { Module } from './module.js';

/**
 * torch.nn.Conv1d and torch.nn.Conv3d (zero padding), with PyTorch's
 * initialisation: kaiming_uniform(a = sqrt(5)) weights and U(±1/sqrt(fan_in))
 * biases, fan_in = in/groups * kernel volume.
 */

export interface ConvNdLayerOptions<P> extends InitOptions {
  stride?: P;
  padding?: P;
  dilation?: P;
  groups?: number;
  bias?: boolean;
}

type Sizes = readonly number[];

function sizes(v: number | Sizes | undefined, rank: number, fallback: number, name: string, layer: string, min: number): number[] {
  const t = v === undefined ? new Array<number>(rank).fill(fallback) : typeof v === 'number' ? new Array<number>(rank).fill(v) : [...v];
  if (t.length !== rank || !t.every((d) => Number.isInteger(d) && d >= min)) {
    throw new ArgumentError(`${layer}: ${name} must be an integer >= ${min}${rank > 1 ? ` or ${rank} of them` : ''}, got ${JSON.stringify(v)}`);
  }
  return t;
}

abstract class ConvNd extends Module {
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernelSize: number[];
  readonly stride: number[];
  readonly padding: number[];
  readonly dilation: number[];
  readonly groups: number;
  weight: Parameter;
  bias: Parameter | null;

  protected constructor(layer: string, rank: number, inChannels: number, outChannels: number, kernelSize: number | Sizes, options: ConvNdLayerOptions<number | Sizes>) {
    super();
    this.inChannels = positiveInteger(inChannels, 'inChannels', layer);
    this.outChannels = positiveInteger(outChannels, 'outChannels', layer);
    this.kernelSize = sizes(kernelSize, rank, 1, 'kernelSize', layer, 1);
    this.stride = sizes(options.stride, rank, 1, 'stride', layer, 1);
    this.padding = sizes(options.padding, rank, 0, 'padding', layer, 0);
    this.dilation = sizes(options.dilation, rank, 1, 'dilation', layer, 1);
    this.groups = positiveInteger(options.groups ?? 1, 'groups', layer);
    if (inChannels % this.groups || outChannels % this.groups) {
      throw new ArgumentError(`${layer}: inChannels (${inChannels}) and outChannels (${outChannels}) must both be divisible by groups (${this.groups})`);
    }
    const fanIn = (inChannels / this.groups) * this.kernelSize.reduce((s, k) => s * k, 1);
    const rng = initGenerator(options);
    this.weight = uniformParameter([outChannels, inChannels / this.groups, ...this.kernelSize], fanInBound(fanIn), rng);
    this.bias = options.bias ?? true ? uniformParameter([outChannels], fanInBound(fanIn), rng) : null;
  }

  protected check(x: Tensor, layout: string): void {
    if (x.ndim !== this.kernelSize.length + 2 || x.shape[1] !== this.inChannels) {
      throw new ShapeError(`${this.typeName}: expected input [N, ${this.inChannels}, ${layout}]; got ${shapeString(x.shape)}`);
    }
  }

  override extraRepr(): string {
    const r = (v: number[]): string => tupleRepr(v) .replace(/^\((\d+)\)$/, '($1,)');
    const parts = [`${this.inChannels}, ${this.outChannels}, kernel_size=${r(this.kernelSize)}, stride=${r(this.stride)}`];
    if (this.padding.some((p) => p)) parts.push(`padding=${r(this.padding)}`);
    if (this.dilation.some((d) => d !== 1)) parts.push(`dilation=${r(this.dilation)}`);
    if (this.groups !== 1) parts.push(`groups=${this.groups}`);
    if (!this.bias) parts.push('bias=False');
    return parts.join(', ');
  }
}

/** torch.nn.Conv1d: input [N, C, L], weight [out, in/groups, k]. */
export class Conv1d extends ConvNd {
  constructor(inChannels: number, outChannels: number, kernelSize: number, options: ConvNdLayerOptions<number> = {}) {
    super('Conv1d', 1, inChannels, outChannels, kernelSize, options);
  }

  override forward(x: Tensor): Tensor {
    this.check(x, 'L');
    return conv1d(x, this.weight, this.bias, { stride: this.stride[0]!, padding: this.padding[0]!, dilation: this.dilation[0]!, groups: this.groups });
  }
}

type Triple = number | readonly [number, number, number];

/** torch.nn.Conv3d: input [N, C, D, H, W], weight [out, in/groups, kd, kh, kw]. */
export class Conv3d extends ConvNd {
  constructor(inChannels: number, outChannels: number, kernelSize: Triple, options: ConvNdLayerOptions<Triple> = {}) {
    super('Conv3d', 3, inChannels, outChannels, kernelSize, options);
  }

  override forward(x: Tensor): Tensor {
    this.check(x, 'D, H, W');
    const t = (v: number[]): [number, number, number] => [v[0]!, v[1]!, v[2]!];
    return conv3d(x, this.weight, this.bias, { stride: t(this.stride), padding: t(this.padding), dilation: t(this.dilation), groups: this.groups });
  }
}
