import {
  elu,
  hardSigmoid,
  hardSwish,
  leakyRelu,
  prelu,
  relu,
  relu6,
  selu,
  sigmoid,
  softplus,
  tanh,
  type ReluBackwardRule,
} from '../tensor/ops/activations.js';
import { logSoftmax, softmax } from '../tensor/ops/softmax.js';
import { ShapeError } from '../tensor/errors.js';
import { Parameter, Tensor, shapeString } from '../tensor/tensor.js';
import { constantParameter, positiveInteger } from './init.js';
import { Module } from './module.js';
import { RELU_MODULE, type ReluModule } from './reluModule.js';
export { RELU_MODULE, isReluModule, type ReluModule } from './reluModule.js';

/**
 * torch.nn.ReLU. `backwardRule` chooses how its backward treats the gradient:
 * 'standard' (PyTorch), 'guided' (guided backprop) or 'deconvnet'. Guided
 * backprop and deconvnet set it for the duration of one call on ReLU
 * modules only (see ReluModule; ReLU6 and functional relus keep PyTorch's rule).
 */
export class ReLU extends Module implements ReluModule {
  static override readonly typeName: string = 'ReLU';
  get [RELU_MODULE](): true {
    return true;
  }
  backwardRule: ReluBackwardRule = 'standard';

  override forward(x: Tensor): Tensor {
    return relu(x, { backwardRule: this.backwardRule });
  }

  override isolatedForward(): boolean {
    return this.constructor === ReLU;
  }
}

/** min(max(x, 0), 6) (MobileNetV2's activation). */
export class ReLU6 extends Module {
  static override readonly typeName: string = 'ReLU6';
  override forward(x: Tensor): Tensor {
    return relu6(x);
  }

  override isolatedForward(): boolean {
    return this.constructor === ReLU6;
  }
}

export class LeakyReLU extends Module {
  static override readonly typeName: string = 'LeakyReLU';
  constructor(readonly negativeSlope = 0.01) {
    super();
  }
  override forward(x: Tensor): Tensor {
    return leakyRelu(x, this.negativeSlope);
  }
  override extraRepr(): string {
    return `negative_slope=${this.negativeSlope}`;
  }
}

/** torch.nn.PReLU(numParameters = 1, init = 0.25): a learnt slope per channel (axis 1) or one shared. */
export class PReLU extends Module {
  static override readonly typeName: string = 'PReLU';
  readonly numParameters: number;
  weight: Parameter;

  constructor(numParameters = 1, init = 0.25) {
    super();
    this.numParameters = positiveInteger(numParameters, 'numParameters', 'PReLU');
    this.weight = constantParameter([numParameters], init);
  }

  override forward(x: Tensor): Tensor {
    if (this.numParameters !== 1 && (x.ndim < 2 || x.shape[1] !== this.numParameters)) {
      throw new ShapeError(`PReLU: ${this.numParameters} slopes need an input with ${this.numParameters} channels on axis 1; got ${shapeString(x.shape)}`);
    }
    return prelu(x, this.weight);
  }

  override extraRepr(): string {
    return `num_parameters=${this.numParameters}`;
  }
}

export class ELU extends Module {
  static override readonly typeName: string = 'ELU';
  constructor(readonly alpha = 1) {
    super();
  }
  override forward(x: Tensor): Tensor {
    return elu(x, this.alpha);
  }
  override extraRepr(): string {
    return `alpha=${this.alpha}`;
  }
}

export class SELU extends Module {
  static override readonly typeName: string = 'SELU';
  override forward(x: Tensor): Tensor {
    return selu(x);
  }
}

export class Sigmoid extends Module {
  static override readonly typeName: string = 'Sigmoid';
  override forward(x: Tensor): Tensor {
    return sigmoid(x);
  }
}

export class Tanh extends Module {
  static override readonly typeName: string = 'Tanh';
  override forward(x: Tensor): Tensor {
    return tanh(x);
  }
}

/** x * relu6(x + 3) / 6. */
export class Hardswish extends Module {
  static override readonly typeName: string = 'Hardswish';
  override forward(x: Tensor): Tensor {
    return hardSwish(x);
  }
}

/** relu6(x + 3) / 6, i.e. PyTorch's alpha 1/6 and beta 1/2 (not ONNX's 0.2). */
export class Hardsigmoid extends Module {
  static override readonly typeName: string = 'Hardsigmoid';
  override forward(x: Tensor): Tensor {
    return hardSigmoid(x, { alpha: 1 / 6, beta: 0.5 });
  }
}

/** torch.nn.Softplus(beta = 1, threshold = 20): linear where beta x > threshold. */
export class Softplus extends Module {
  static override readonly typeName: string = 'Softplus';
  constructor(
    readonly beta = 1,
    readonly threshold = 20,
  ) {
    super();
  }
  override forward(x: Tensor): Tensor {
    return softplus(x, { beta: this.beta, threshold: this.threshold });
  }
  override extraRepr(): string {
    return `beta=${this.beta}, threshold=${this.threshold}`;
  }
}

/**
 * PyTorch's implicit softmax axis when none is given (legacy
 * `_get_softmax_dim`): 0 for 0-, 1- and 3-D inputs, else 1.
 */
function implicitAxis(ndim: number): number {
  return ndim === 0 || ndim === 1 || ndim === 3 ? 0 : 1;
}

/** torch.nn.Softmax(dim). Pass `dim`: without it PyTorch's legacy implicit axis is used. */
export class Softmax extends Module {
  static override readonly typeName: string = 'Softmax';
  constructor(readonly dim?: number) {
    super();
  }
  override forward(x: Tensor): Tensor {
    return softmax(x, this.dim ?? implicitAxis(x.ndim));
  }
  override extraRepr(): string {
    return `dim=${this.dim ?? 'None'}`;
  }
}

/** torch.nn.LogSoftmax(dim); see Softmax for the default axis. */
export class LogSoftmax extends Module {
  static override readonly typeName: string = 'LogSoftmax';
  constructor(readonly dim?: number) {
    super();
  }
  override forward(x: Tensor): Tensor {
    return logSoftmax(x, this.dim ?? implicitAxis(x.ndim));
  }
  override extraRepr(): string {
    return `dim=${this.dim ?? 'None'}`;
  }
}
