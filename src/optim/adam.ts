import { ArgumentError } from '../tensor/errors.js';
import type { Tensor } from '../tensor/tensor.js';
import { Optimizer, checkNonNegative } from './optimizer.js';

export interface AdamOptions {
  lr?: number;
  betas?: readonly [number, number];
  eps?: number;
  weightDecay?: number;
  /** Use the maximum of past second moments (Reddi et al.). */
  amsgrad?: boolean;
  maximize?: boolean;
}

interface AdamState {
  step: number;
  expAvg: Float32Array;
  expAvgSq: Float32Array;
  maxExpAvgSq: Float32Array | null;
}

/**
 * Adam's update, shared by Adam and AdamW (t counts this parameter's steps):
 *   g = grad + weightDecay * p                  (Adam; AdamW decays p instead)
 *   m = beta1 m + (1 - beta1) g,  v = beta2 v + (1 - beta2) g^2
 *   p = p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
 */
abstract class AdamBase extends Optimizer {
  lr: number;
  betas: [number, number];
  eps: number;
  weightDecay: number;
  amsgrad: boolean;
  maximize: boolean;
  /** AdamW: decay p by lr * weightDecay before the step instead of adding weightDecay * p to the gradient. */
  protected readonly decoupledWeightDecay: boolean;
  readonly #state = new Map<number, AdamState>();

  constructor(params: Iterable<Tensor>, options: AdamOptions, name: string, defaultWeightDecay: number, decoupled: boolean) {
    super(params, name);
    this.lr = checkNonNegative(options.lr ?? 1e-3, 'lr', name);
    const [b1, b2] = options.betas ?? [0.9, 0.999];
    if (!(b1 >= 0 && b1 < 1 && b2 >= 0 && b2 < 1)) {
      throw new ArgumentError(`${name}: betas must both be in [0, 1); got [${b1}, ${b2}]`);
    }
    this.betas = [b1, b2];
    this.eps = checkNonNegative(options.eps ?? 1e-8, 'eps', name);
    this.weightDecay = checkNonNegative(options.weightDecay ?? defaultWeightDecay, 'weightDecay', name);
    this.amsgrad = options.amsgrad ?? false;
    this.maximize = options.maximize ?? false;
    this.decoupledWeightDecay = decoupled;
  }

  protected override update(param: Tensor, grad: Float32Array, index: number): void {
    const p = param.data;
    let state = this.#state.get(index);
    if (!state) {
      state = {
        step: 0,
        expAvg: new Float32Array(p.length),
        expAvgSq: new Float32Array(p.length),
        maxExpAvgSq: this.amsgrad ? new Float32Array(p.length) : null,
      };
      this.#state.set(index, state);
    }
    state.step++;
    const { lr, eps, weightDecay } = this;
    const [beta1, beta2] = this.betas;
    const stepSize = lr / (1 - beta1 ** state.step);
    const sqrtCorrection2 = Math.sqrt(1 - beta2 ** state.step);
    const decay = this.decoupledWeightDecay ? 1 - lr * weightDecay : 1;
    const coupledDecay = this.decoupledWeightDecay ? 0 : weightDecay;
    const sign = this.maximize ? -1 : 1;
    const { expAvg, expAvgSq, maxExpAvgSq } = state;
    for (let i = 0; i < p.length; i++) {
      if (decay !== 1) p[i] = p[i]! * decay;
      let g = sign * grad[i]!;
      if (coupledDecay !== 0) g += coupledDecay * p[i]!;
      expAvg[i] = beta1 * expAvg[i]! + (1 - beta1) * g;
      expAvgSq[i] = beta2 * expAvgSq[i]! + (1 - beta2) * g * g;
      let second = expAvgSq[i]!;
      if (maxExpAvgSq) {
        if (second > maxExpAvgSq[i]!) maxExpAvgSq[i] = second;
        second = maxExpAvgSq[i]!;
      }
      const denom = Math.sqrt(second) / sqrtCorrection2 + eps;
      p[i] = p[i]! - (stepSize * expAvg[i]!) / denom;
    }
  }
}

/** torch.optim.Adam (Kingma & Ba), PyTorch's formulas; weightDecay (default 0) is added to the gradient. */
export class Adam extends AdamBase {
  constructor(params: Iterable<Tensor>, options: AdamOptions = {}) {
    super(params, options, 'Adam', 0, false);
  }
}

/**
 * torch.optim.AdamW (Loshchilov & Hutter): Adam with decoupled weight decay,
 * p = p * (1 - lr * weightDecay) before the Adam step; weightDecay defaults to 1e-2.
 */
export class AdamW extends AdamBase {
  constructor(params: Iterable<Tensor>, options: AdamOptions = {}) {
    super(params, options, 'AdamW', 1e-2, true);
  }
}
