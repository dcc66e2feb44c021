import { Tensor } from '../tensor.js';
import { notImplemented } from '../todo.js';

export function softmax(x: Tensor, axis = -1): Tensor { return notImplemented('softmax', x, axis); }
export function logSoftmax(x: Tensor, axis = -1): Tensor { return notImplemented('logSoftmax', x, axis); }
/** Cross-entropy of logits [N, K] against class indices, as F.cross_entropy. */
export function crossEntropy(
  logits: Tensor,
  target: readonly number[] | Tensor,
  options: { reduction?: 'mean' | 'sum' | 'none'; labelSmoothing?: number } = {},
): Tensor { return notImplemented('crossEntropy', logits, target, options); }
