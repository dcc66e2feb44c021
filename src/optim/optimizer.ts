import { noGrad } from '../tensor/autograd.js';
import { ArgumentError } from '../tensor/errors.js';
import type { Tensor } from '../tensor/tensor.js';

/**
 * The base of the optimisers: holds the parameters, clears their gradients
 * and, in `step()`, updates each parameter that has a gradient, in place and
 * outside the graph. Hyper-parameters are public fields, so a schedule can
 * change `lr` between steps.
 */
export abstract class Optimizer {
  readonly params: readonly Tensor[];

  constructor(params: Iterable<Tensor>, name: string) {
    // A parameter listed twice would be updated twice per step.
    this.params = [...new Set(params)];
    if (this.params.length === 0) {
      throw new ArgumentError(`${name}: got an empty parameter list; pass model.parameters() or a list of tensors`);
    }
  }

  /** Forget accumulated gradients (sets `grad` to null, PyTorch's default set_to_none). */
  zeroGrad(): void {
    for (const p of this.params) p.grad = null;
  }

  /** Update every parameter that has a gradient, using its `.grad`. */
  step(): void {
    noGrad(() => {
      this.params.forEach((p, i) => {
        if (p.grad) this.update(p, p.grad.data, i);
      });
    });
  }

  /** Update `param.data` in place from its gradient; `index` identifies the parameter's state. */
  protected abstract update(param: Tensor, grad: Float32Array, index: number): void;
}

export function checkNonNegative(value: number, what: string, optimizer: string): number {
  if (!(value >= 0) || !Number.isFinite(value)) {
    throw new ArgumentError(`${optimizer}: ${what} must be a finite number >= 0; got ${value}`);
  }
  return value;
}
