import { ArgumentError, ShapeError } from '../errors.js';
import { shapeString, type Tensor } from '../tensor.js';

/**
 * The per-spatial-axis arguments of the 2-D ops and layers (conv, pool):
 * PyTorch's int-or-tuple sizes and padding, checked and resolved to
 * [height, width] or per-side pads, and the image-batch shape they take,
 * in one place for all of them.
 */

/** A size per spatial axis: one number for both, or [height, width]. */
export type Pair = number | readonly [number, number];

/** Padding per side, resolved. */
export interface Pads {
  top: number;
  bottom: number;
  left: number;
  right: number;
}

/** Symmetric padding (number or [h, w]) or asymmetric per side (ONNX-style pads). */
export type Padding2d = Pair | Pads;

/** [h, w] from one number or a pair, each an integer >= min; `fn` names the caller in the error. */
export function pair(value: Pair, name: string, fn: string, min = 1): [number, number] {
  const p: readonly number[] = typeof value === 'number' ? [value, value] : Array.isArray(value) ? value : [];
  if (p.length !== 2 || !p.every((v) => Number.isInteger(v) && v >= min)) {
    throw new ArgumentError(
      `${fn}: ${name} must be an integer >= ${min} or a pair [height, width] of them, got ${JSON.stringify(value)}`,
    );
  }
  return [p[0]!, p[1]!];
}

/** Per-side pads from a number, [h, w] (the same on both sides of an axis) or {top, bottom, left, right}. */
export function pads(value: Padding2d, fn: string): Pads {
  if (typeof value === 'number' || Array.isArray(value)) {
    const [h, w] = pair(value as Pair, 'padding', fn, 0);
    return { top: h, bottom: h, left: w, right: w };
  }
  const p = value as Pads;
  for (const side of ['top', 'bottom', 'left', 'right'] as const) {
    if (!Number.isInteger(p[side]) || p[side] < 0) {
      throw new ArgumentError(
        `${fn}: padding.${side} must be an integer >= 0, got ${JSON.stringify(p[side])} (padding is a number, [h, w] or {top, bottom, left, right})`,
      );
    }
  }
  return { top: p.top, bottom: p.bottom, left: p.left, right: p.right };
}

/** [N, C, H, W] of a batch of images: 4-D, with at least one row and one column. */
export function imageShape(x: Tensor, fn: string): [number, number, number, number] {
  if (x.ndim !== 4) throw new ShapeError(`${fn}: expected a 4-D [N, C, H, W] input, got shape ${shapeString(x.shape)}`);
  const [N, C, H, W] = x.shape as [number, number, number, number];
  if (H < 1 || W < 1) throw new ShapeError(`${fn}: input ${shapeString(x.shape)} has an empty spatial axis`);
  return [N, C, H, W];
}

/**
 * Split a total padding between the two sides of an axis: the odd cell goes
 * at the end ('end': ONNX's SAME_UPPER, TensorFlow's SAME, PyTorch's
 * padding='same') or at the start ('start': ONNX's SAME_LOWER).
 */
export function splitPadding(total: number, oddCell: 'end' | 'start'): [number, number] {
  const small = Math.floor(total / 2);
  return oddCell === 'end' ? [small, total - small] : [total - small, small];
}

/** The total padding of one axis that keeps ceil(size / stride) outputs ('SAME'). */
export function samePaddingTotal(size: number, kernel: number, stride: number, dilation: number): number {
  const out = Math.ceil(size / stride);
  return Math.max(0, (out - 1) * stride + (kernel - 1) * dilation + 1 - size);
}
