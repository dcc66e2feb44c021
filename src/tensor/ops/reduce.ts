import { Tensor } from '../tensor.js';
import { notImplemented } from '../todo.js';

/** Axes to reduce: one axis, several, or all when omitted. Negative axes count from the end. */
export type Axes = number | readonly number[];

/** Sum over `axis` (all axes when omitted), as torch.sum(x, dim, keepdim). */
export function sum(x: Tensor, axis?: Axes, keepdim = false): Tensor { return notImplemented('sum', x, axis, keepdim); }
export function mean(x: Tensor, axis?: Axes, keepdim = false): Tensor { return notImplemented('mean', x, axis, keepdim); }
/** Maximum values over `axis`; the gradient goes to the first maximum (PyTorch's max(dim)). */
export function max(x: Tensor, axis?: Axes, keepdim = false): Tensor { return notImplemented('max', x, axis, keepdim); }
export function min(x: Tensor, axis?: Axes, keepdim = false): Tensor { return notImplemented('min', x, axis, keepdim); }
/** Index of the first maximum along one axis (flat index when omitted), as float32 values; no gradient. */
export function argmax(x: Tensor, axis?: number, keepdim = false): Tensor { return notImplemented('argmax', x, axis, keepdim); }
export function argmin(x: Tensor, axis?: number, keepdim = false): Tensor { return notImplemented('argmin', x, axis, keepdim); }
