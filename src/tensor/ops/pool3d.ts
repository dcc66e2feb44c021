import { ArgumentError, ShapeError } from '../errors.js';
import { Tensor, shapeString } from '../tensor.js';
import { avgPool2d, maxPool2d } from './pool.js';
import { reshape } from './shape.js';

/**
 * 1-D and 3-D pooling on the engine's 2-D pools. A 1-D pool is a 2-D pool
 * of height 1. A 3-D max or average pool is separable: pooling H and W of
 * every depth slice, then D of every (h, w) column, gives the same windows,
 * the same divisors (products of the per-axis counts, with or without the
 * padding, as PyTorch) and, for max, the same first maximum in (d, h, w)
 * order, so the gradient lands where PyTorch puts it.
 */

export interface Pool1dOptions {
  kernelSize: number;
  /** Defaults to kernelSize. */
  stride?: number;
  padding?: number;
  dilation?: number;
  ceilMode?: boolean;
  /** Average pools: count padded cells in the divisor (PyTorch default true). */
  countIncludePad?: boolean;
}

export type Triple = number | readonly [number, number, number];

export interface Pool3dOptions {
  kernelSize: Triple;
  /** Defaults to kernelSize. */
  stride?: Triple;
  padding?: Triple;
  dilation?: Triple;
  ceilMode?: boolean;
  countIncludePad?: boolean;
}

function triple(op: string, v: Triple | undefined, fallback: Triple, name: string, min: number): [number, number, number] {
  const src = v ?? fallback;
  const t = typeof src === 'number' ? [src, src, src] : [...src];
  if (t.length !== 3 || !t.every((d) => Number.isInteger(d) && d >= min)) {
    throw new ArgumentError(`${op}: ${name} must be an integer >= ${min} or [d, h, w] of them, got ${JSON.stringify(v)}`);
  }
  return t as [number, number, number];
}

function expectRank(x: Tensor, rank: number, layout: string, op: string): void {
  if (x.ndim !== rank) throw new ShapeError(`${op}: expected a ${rank}-D ${layout} input, got shape ${shapeString(x.shape)}`);
}

function pool1d(op: string, x: Tensor, o: Pool1dOptions, kind: 'max' | 'avg'): Tensor {
  expectRank(x, 3, '[N, C, L]', op);
  if (!o || o.kernelSize === undefined) throw new ArgumentError(`${op}: options.kernelSize is required`);
  const [n, c, l] = x.shape as [number, number, number];
  const x4 = reshape(x, [n, c, 1, l]);
  const common = { kernelSize: [1, o.kernelSize] as const, stride: [1, o.stride ?? o.kernelSize] as const, padding: [0, o.padding ?? 0] as const, ceilMode: o.ceilMode ?? false };
  const y = kind === 'max'
    ? maxPool2d(x4, { ...common, dilation: [1, o.dilation ?? 1] })
    : avgPool2d(x4, { ...common, countIncludePad: o.countIncludePad ?? true });
  return reshape(y, [n, c, y.shape[3]!]);
}

/** F.max_pool1d on [N, C, L]. */
export function maxPool1d(x: Tensor, options: Pool1dOptions): Tensor {
  return pool1d('maxPool1d', x, options, 'max');
}

/** F.avg_pool1d on [N, C, L]. */
export function avgPool1d(x: Tensor, options: Pool1dOptions): Tensor {
  if (options?.dilation !== undefined && options.dilation !== 1) throw new ArgumentError('avgPool1d: dilation is not an option of average pooling');
  return pool1d('avgPool1d', x, options, 'avg');
}

function pool3d(op: string, x: Tensor, o: Pool3dOptions, kind: 'max' | 'avg'): Tensor {
  expectRank(x, 5, '[N, C, D, H, W]', op);
  if (!o || o.kernelSize === undefined) throw new ArgumentError(`${op}: options.kernelSize is required`);
  const [kd, kh, kw] = triple(op, o.kernelSize, 1, 'kernelSize', 1);
  const [sd, sh, sw] = triple(op, o.stride, o.kernelSize, 'stride', 1);
  const [pd, ph, pw] = triple(op, o.padding, 0, 'padding', 0);
  const [dd, dh, dw] = triple(op, o.dilation, 1, 'dilation', 1);
  const ceilMode = o.ceilMode ?? false;
  const countIncludePad = o.countIncludePad ?? true;
  const [n, c, d, h, w] = x.shape as [number, number, number, number, number];
  const run = (t: Tensor, k: [number, number], s: [number, number], p: [number, number], dil: [number, number]): Tensor =>
    kind === 'max'
      ? maxPool2d(t, { kernelSize: k, stride: s, padding: p, dilation: dil, ceilMode })
      : avgPool2d(t, { kernelSize: k, stride: s, padding: p, ceilMode, countIncludePad });
  // H and W of every depth slice, then D of every column.
  const planes = run(reshape(x, [n, c * d, h, w]), [kh, kw], [sh, sw], [ph, pw], [dh, dw]);
  const [oh, ow] = [planes.shape[2]!, planes.shape[3]!];
  const columns = run(reshape(planes, [n, c, d, oh * ow]), [kd, 1], [sd, 1], [pd, 0], [dd, 1]);
  return reshape(columns, [n, c, columns.shape[2]!, oh, ow]);
}

/** F.max_pool3d on [N, C, D, H, W]; the gradient goes to the first maximum of each window. */
export function maxPool3d(x: Tensor, options: Pool3dOptions): Tensor {
  return pool3d('maxPool3d', x, options, 'max');
}

/** F.avg_pool3d on [N, C, D, H, W] (PyTorch's divisors; no dilation, as PyTorch). */
export function avgPool3d(x: Tensor, options: Pool3dOptions): Tensor {
  if (options?.dilation !== undefined && triple('avgPool3d', options.dilation, 1, 'dilation', 1).some((v) => v !== 1)) {
    throw new ArgumentError('avgPool3d: dilation is not an option of average pooling');
  }
  return pool3d('avgPool3d', x, options, 'avg');
}
