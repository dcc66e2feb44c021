import { Tensor, type Shape } from '../tensor.js';
import { notImplemented } from '../todo.js';

/** Same data, new shape; one entry may be -1. Shares the data buffer (tensors are contiguous). */
export function reshape(x: Tensor, shape: Shape): Tensor { return notImplemented('reshape', x, shape); }
/** Merge axes startDim..endDim into one (torch.flatten). */
export function flatten(x: Tensor, startDim = 0, endDim = -1): Tensor { return notImplemented('flatten', x, startDim, endDim); }
/** Remove size-1 axes (all of them, or the ones given). */
export function squeeze(x: Tensor, axes?: number | readonly number[]): Tensor { return notImplemented('squeeze', x, axes); }
/** Insert size-1 axes at the given positions of the result. */
export function unsqueeze(x: Tensor, axes: number | readonly number[]): Tensor { return notImplemented('unsqueeze', x, axes); }
/** Reorder axes: result axis i is input axis dims[i]. */
export function permute(x: Tensor, dims: readonly number[]): Tensor { return notImplemented('permute', x, dims); }
/** Swap two axes. */
export function transpose(x: Tensor, dim0: number, dim1: number): Tensor { return notImplemented('transpose', x, dim0, dim1); }
/** Join tensors along an axis (torch.cat). */
export function concat(tensors: readonly Tensor[], axis = 0): Tensor { return notImplemented('concat', tensors, axis); }
/** Python-style slice of one axis: start and end clamp, negatives count from the end, step > 0 or < 0. */
export function slice(x: Tensor, axis: number, start?: number, end?: number, step = 1): Tensor { return notImplemented('slice', x, axis, start, end, step); }
/** Pick entries along an axis by index (torch.index_select / ONNX Gather with 1-D indices). */
export function indexSelect(x: Tensor, axis: number, indices: readonly number[]): Tensor { return notImplemented('indexSelect', x, axis, indices); }
/** Broadcast to a larger shape (torch.expand; copies). */
export function expand(x: Tensor, shape: Shape): Tensor { return notImplemented('expand', x, shape); }

export type PadMode = 'constant' | 'reflect' | 'replicate';
/**
 * Pad the last axes, PyTorch's F.pad order: [left, right] pads the last axis,
 * [left, right, top, bottom] the last two, and so on. Negative pads crop.
 */
export function pad(x: Tensor, pads: readonly number[], options: { mode?: PadMode; value?: number } = {}): Tensor { return notImplemented('pad', x, pads, options); }
