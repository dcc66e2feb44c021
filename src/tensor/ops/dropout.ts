import { record } from '../autograd.js';
import { ArgumentError } from '../errors.js';
import { Tensor } from '../tensor.js';
import { rand, type RandomOptions } from '../random.js';

/**
 * Zero each element with probability p and scale the rest by 1/(1-p) when
 * training ("inverted" dropout, as PyTorch); identity otherwise, returning x
 * itself. The mask comes from `random` (a seed or a generator) or from the
 * default generator that `manualSeed` sets, so runs are reproducible.
 */
export function dropout(x: Tensor, p = 0.5, training = true, random: RandomOptions = {}): Tensor {
  if (!(p >= 0 && p <= 1)) {
    throw new ArgumentError(`dropout: probability p must be in [0, 1], got ${p}`);
  }
  if (!training || p === 0) return x;
  const n = x.size;
  // keep[i] is the factor element i is multiplied by: 0 or 1/(1-p)
  const keep = new Float32Array(n);
  if (p < 1) {
    const u = rand(x.shape, random).data;
    const scale = 1 / (1 - p);
    for (let i = 0; i < n; i++) keep[i] = u[i]! < p ? 0 : scale;
  }
  const xd = x.data;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = xd[i]! * keep[i]!;
  return record('dropout', new Tensor(out, x.shape), [x], (g) => {
    const gd = g.data;
    const gi = new Float32Array(n);
    for (let i = 0; i < n; i++) gi[i] = gd[i]! * keep[i]!;
    return [new Tensor(gi, x.shape)];
  }, { tangent: ([dx]) => new Tensor(Float32Array.from(dx!.data, (v, i) => v * keep[i]!), x.shape) });
}
