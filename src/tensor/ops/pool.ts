import { Tensor } from '../tensor.js';
import { notImplemented } from '../todo.js';
import type { Pair, Padding2d } from './conv.js';

export interface MaxPool2dOptions {
  kernelSize: Pair;
  /** Defaults to kernelSize. */
  stride?: Pair;
  padding?: Padding2d;
  dilation?: Pair;
  ceilMode?: boolean;
}
/** Max pooling; the gradient goes to the first maximum of each window (PyTorch), not split on ties. */
export function maxPool2d(x: Tensor, options: MaxPool2dOptions): Tensor { return notImplemented('maxPool2d', x, options); }

export interface AvgPool2dOptions {
  kernelSize: Pair;
  stride?: Pair;
  padding?: Padding2d;
  ceilMode?: boolean;
  /** Count padded cells in the divisor (PyTorch default true). Ceil-mode overhang cells never count. */
  countIncludePad?: boolean;
}
export function avgPool2d(x: Tensor, options: AvgPool2dOptions): Tensor { return notImplemented('avgPool2d', x, options); }
/** Adaptive average pooling to an output size (PyTorch's start/end index rule). */
export function adaptiveAvgPool2d(x: Tensor, outputSize: Pair): Tensor { return notImplemented('adaptiveAvgPool2d', x, outputSize); }
/** Mean over H and W, keeping them: [N,C,H,W] -> [N,C,1,1]. */
export function globalAvgPool2d(x: Tensor): Tensor { return notImplemented('globalAvgPool2d', x); }
/** Max over H and W, keeping them: [N,C,H,W] -> [N,C,1,1]. */
export function globalMaxPool2d(x: Tensor): Tensor { return notImplemented('globalMaxPool2d', x); }
