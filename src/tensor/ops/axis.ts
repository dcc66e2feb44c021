import { ArgumentError } from '../errors.js';
import { shapeString, type Shape } from '../tensor.js';

/**
 * A possibly negative axis of `shape` (-ndim to ndim - 1), for the ops whose
 * errors name the input's shape (reductions, softmax). A scalar has no axis.
 */
export function axisOf(op: string, axis: number, shape: Shape): number {
  const nd = shape.length;
  const a = axis < 0 ? axis + nd : axis;
  if (!Number.isInteger(a) || a < 0 || a >= nd) {
    throw new ArgumentError(`${op}: axis ${axis} is out of range for a tensor of shape ${shapeString(shape)} (accepted: ${-nd} to ${nd - 1})`);
  }
  return a;
}
