import { Tensor } from '../tensor.js';
import type { RandomOptions } from '../random.js';
import { notImplemented } from '../todo.js';

/** Zero each element with probability p and scale the rest by 1/(1-p) when training; identity otherwise. */
export function dropout(x: Tensor, p = 0.5, training = true, random: RandomOptions = {}): Tensor { return notImplemented('dropout', x, p, training, random); }
