import { linear } from '../tensor/ops/matmul.js';
import { flatten } from '../tensor/ops/shape.js';
import { ShapeError } from '../tensor/errors.js';
import { Parameter, Tensor, shapeString } from '../tensor/tensor.js';
import { fanInBound, initGenerator, positiveInteger, uniformParameter, type InitOptions } from './init.js';
import { Module } from './module.js';

/** torch.nn.Linear: y = x W^T + b, weight [out, in], bias [out]; PyTorch's init (U(±1/sqrt(in)) for both). */
export class Linear extends Module {
  static override readonly typeName: string = 'Linear';
  readonly inFeatures: number;
  readonly outFeatures: number;
  weight: Parameter;
  bias: Parameter | null;

  constructor(inFeatures: number, outFeatures: number, options: InitOptions & { bias?: boolean } = {}) {
    super();
    this.inFeatures = positiveInteger(inFeatures, 'inFeatures', 'Linear');
    this.outFeatures = positiveInteger(outFeatures, 'outFeatures', 'Linear');
    const rng = initGenerator(options);
    const bound = fanInBound(inFeatures);
    this.weight = uniformParameter([outFeatures, inFeatures], bound, rng);
    this.bias = options.bias ?? true ? uniformParameter([outFeatures], bound, rng) : null;
  }

  override forward(x: Tensor): Tensor {
    if (x.ndim < 1 || x.shape[x.ndim - 1] !== this.inFeatures) {
      throw new ShapeError(`Linear: expected input [..., ${this.inFeatures}]; got ${shapeString(x.shape)}`);
    }
    return linear(x, this.weight, this.bias);
  }

  override extraRepr(): string {
    return `in_features=${this.inFeatures}, out_features=${this.outFeatures}, bias=${this.bias ? 'True' : 'False'}`;
  }
}

/** Returns its input unchanged (a placeholder, e.g. for a removed classifier head). */
export class Identity extends Module {
  static override readonly typeName: string = 'Identity';
  override forward(x: Tensor): Tensor {
    return x;
  }
}

/** torch.nn.Flatten: merges axes startDim..endDim (defaults 1 and -1, keeping the batch axis). */
export class Flatten extends Module {
  static override readonly typeName: string = 'Flatten';
  constructor(
    readonly startDim = 1,
    readonly endDim = -1,
  ) {
    super();
  }

  override forward(x: Tensor): Tensor {
    return flatten(x, this.startDim, this.endDim);
  }

  override extraRepr(): string {
    return `start_dim=${this.startDim}, end_dim=${this.endDim}`;
  }
}
