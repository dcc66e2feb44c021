import { Tensor } from '../tensor.js';
import { notImplemented } from '../todo.js';

export interface InterpolateOptions {
  /** Output [height, width]. */
  size?: readonly [number, number];
  scaleFactor?: number | readonly [number, number];
  mode?: 'bilinear' | 'nearest';
  /** false: half-pixel centres (PyTorch default, OpenCV INTER_LINEAR); true: corners aligned. */
  alignCorners?: boolean;
}
/** Resize [N,C,H,W] (or [N,H,W]... no: 4-D only) spatially, as F.interpolate; differentiable. */
export function interpolate(x: Tensor, options: InterpolateOptions): Tensor { return notImplemented('interpolate', x, options); }
