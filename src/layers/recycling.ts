import { recycleBuffer } from '../tensor/buffer-pool.js';
import type { Tensor } from '../tensor/tensor.js';
import type { Module } from './module.js';

/**
 * Giving activations that a forward pass is done with back to the buffer
 * pool (tensor/buffer-pool.ts), so the next convolution of the same size
 * reuses them instead of allocating: an arena for the forward passes that
 * keep no graph (a CAM's frozen pass up to its layer, anything under noGrad).
 *
 * A buffer may go back only when nothing else can ever read it. Containers
 * that know their own data flow (Sequential, ResNet and its blocks) call
 * `recycleSpent(spent, result)` for a tensor one module made and the next
 * consumed, and only when both modules are `sealed`:
 *
 * - no hook on them or anything inside them (a hook could keep the tensor:
 *   that is how CAMs capture activations), and
 * - their forward is stock (`Module.isolatedForward`): it returns a buffer
 *   no one else holds and keeps no reference to its input, so the producer
 *   did not hand out a view and the consumer did not stash its input.
 *
 * `recycleSpent` itself refuses when a gradient graph may hold the tensor
 * (it or the result records a gradient) and when the result shares its
 * buffer (an in-place step). A container's own input is never spent: its
 * caller still holds it.
 */

/** No hook in `m` (itself or below) and a stock forward. */
export function sealed(m: Module | null | undefined): boolean {
  return m !== null && m !== undefined && m.hookCount() === 0 && m.isolatedForward();
}

/** Every child of `m` sealed (and at least one). */
export function childrenSealed(m: Module): boolean {
  const children = m.children();
  return children.length > 0 && children.every(sealed);
}

/**
 * `spent` was made and consumed inside the caller's sealed modules, and
 * `result` is what it was consumed into: give its buffer back, unless a
 * gradient graph may still read it or `result` lives in it.
 */
export function recycleSpent(spent: Tensor, result: Tensor): void {
  if (spent.requiresGrad || result.requiresGrad || spent.data.buffer === result.data.buffer) return;
  recycleBuffer(spent.data);
}
