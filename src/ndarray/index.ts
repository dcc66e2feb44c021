import ndarray, { type NdArray } from 'ndarray';
import { assign } from 'ndarray-ops';
import { ArgumentError, ShapeError } from '../tensor/errors.js';
import { Tensor, sizeOf } from '../tensor/tensor.js';

/**
 * Interop with scijs `ndarray` (entry point `tinycam/ndarray`).
 *
 * ndarray and ndarray-ops compile their kernels with `new Function`, which
 * edge runtimes and strict-CSP pages forbid, so they live behind this entry
 * and never in the core.
 */

export interface FromNdarrayOptions {
  /**
   * Let the tensor share the ndarray's memory when that is possible (float32
   * data in row-major order); writes through either then show in both.
   * Default false: the tensor gets its own copy.
   */
  share?: boolean;
  requiresGrad?: boolean;
}

/** Whether a view's strides walk its elements in row-major (C) order without gaps. */
function isRowMajor(shape: readonly number[], stride: readonly number[]): boolean {
  let expected = 1;
  for (let axis = shape.length - 1; axis >= 0; axis--) {
    // The stride of an axis of size 1 never matters.
    if (shape[axis] !== 1 && stride[axis] !== expected) return false;
    expected *= shape[axis]!;
  }
  return true;
}

function isNdarray(nd: unknown): nd is NdArray {
  const v = nd as Partial<NdArray> | null;
  return !!v && typeof v === 'object' && Array.isArray(v.shape) && Array.isArray(v.stride) && typeof v.offset === 'number' && v.data != null;
}

/**
 * A float32 Tensor with the values of any ndarray view (transposed, stepped,
 * sliced, any numeric dtype), in the view's index order.
 */
export function fromNdarray(nd: NdArray, options: FromNdarrayOptions = {}): Tensor {
  if (!isNdarray(nd)) {
    throw new ArgumentError('fromNdarray: expected an ndarray (an object with data, shape, stride and offset, as made by the ndarray package)');
  }
  const shape = [...nd.shape];
  if (!shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new ShapeError(`fromNdarray: ndarray shape [${shape.join(', ')}] is not a list of non-negative integers`);
  }
  const size = sizeOf(shape);
  const requiresGrad = options.requiresGrad ?? false;
  if (shape.length === 0) return new Tensor(Float32Array.of(Number(nd.get())), [], requiresGrad);
  if (nd.data instanceof Float32Array && isRowMajor(shape, nd.stride)) {
    const view = nd.data.subarray(nd.offset, nd.offset + size);
    return new Tensor(options.share ? view : view.slice(), shape, requiresGrad);
  }
  // Any other layout or dtype: let ndarray-ops walk the view's strides into a
  // contiguous float32 buffer.
  const data = new Float32Array(size);
  if (size > 0) assign(ndarray(data, shape), nd);
  return new Tensor(data, shape, requiresGrad);
}

/** A row-major ndarray view of the tensor's data: no copy, writes go through to the tensor. */
export function toNdarray(t: Tensor): NdArray<Float32Array> {
  return ndarray(t.data, [...t.shape]);
}
