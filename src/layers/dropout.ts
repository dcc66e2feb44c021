import { dropout } from '../tensor/ops/dropout.js';
import { ArgumentError } from '../tensor/errors.js';
import { Rng } from '../tensor/random.js';
import { Tensor } from '../tensor/tensor.js';
import { Module } from './module.js';

/**
 * torch.nn.Dropout(p = 0.5): in training mode zeroes each element with
 * probability p and scales the rest by 1/(1-p); identity in eval mode.
 * Masks come from `rng`, from a generator seeded once with `seed` (so
 * successive calls differ but a run is reproducible), or from the global one.
 */
export class Dropout extends Module {
  static override readonly typeName: string = 'Dropout';
  readonly p: number;
  readonly #rng: Rng | undefined;

  constructor(p = 0.5, options: { rng?: Rng; seed?: number } = {}) {
    super();
    if (!(p >= 0 && p <= 1)) throw new ArgumentError(`Dropout: p must be a probability in [0, 1]; got ${p}`);
    this.p = p;
    this.#rng = options.rng ?? (options.seed !== undefined ? new Rng(options.seed) : undefined);
  }

  override forward(x: Tensor): Tensor {
    if (!this.training || this.p === 0) return x;
    return dropout(x, this.p, true, this.#rng ? { rng: this.#rng } : {});
  }

  override extraRepr(): string {
    return `p=${this.p}`;
  }
}
