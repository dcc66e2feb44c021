import { ArgumentError } from '../tensor/errors.js';
import type { Tensor } from '../tensor/tensor.js';
import { Optimizer, checkNonNegative } from './optimizer.js';

export interface SgdOptions {
  lr: number;
  momentum?: number;
  dampening?: number;
  weightDecay?: number;
  nesterov?: boolean;
  /** Ascend instead of descend. */
  maximize?: boolean;
}

/**
 * torch.optim.SGD, the same formulas:
 *   g = grad + weightDecay * p
 *   buf = g on the first step, then momentum * buf + (1 - dampening) * g
 *   g = nesterov ? g + momentum * buf : buf          (when momentum != 0)
 *   p = p - lr * g
 */
export class SGD extends Optimizer {
  lr: number;
  momentum: number;
  dampening: number;
  weightDecay: number;
  nesterov: boolean;
  maximize: boolean;
  readonly #momentumBuffers = new Map<number, Float32Array>();

  constructor(params: Iterable<Tensor>, options: SgdOptions) {
    super(params, 'SGD');
    this.lr = checkNonNegative(options.lr, 'lr', 'SGD');
    this.momentum = checkNonNegative(options.momentum ?? 0, 'momentum', 'SGD');
    this.dampening = options.dampening ?? 0;
    this.weightDecay = checkNonNegative(options.weightDecay ?? 0, 'weightDecay', 'SGD');
    this.nesterov = options.nesterov ?? false;
    this.maximize = options.maximize ?? false;
    if (this.nesterov && (this.momentum <= 0 || this.dampening !== 0)) {
      throw new ArgumentError(`SGD: nesterov needs momentum > 0 and dampening 0; got momentum ${this.momentum}, dampening ${this.dampening}`);
    }
  }

  protected override update(param: Tensor, grad: Float32Array, index: number): void {
    const p = param.data;
    const { lr, momentum, dampening, weightDecay, nesterov } = this;
    const sign = this.maximize ? -1 : 1;
    let buf = this.#momentumBuffers.get(index);
    const first = !buf;
    if (momentum !== 0 && !buf) {
      buf = new Float32Array(p.length);
      this.#momentumBuffers.set(index, buf);
    }
    for (let i = 0; i < p.length; i++) {
      let g = sign * grad[i]!;
      if (weightDecay !== 0) g += weightDecay * p[i]!;
      if (momentum !== 0) {
        const b = first ? g : momentum * buf![i]! + (1 - dampening) * g;
        buf![i] = b;
        g = nesterov ? g + momentum * buf![i]! : buf![i]!;
      }
      p[i] = p[i]! - lr * g;
    }
  }
}
