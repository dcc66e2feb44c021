import { record } from '../autograd.js';
import { ArgumentError, ShapeError } from '../errors.js';
import { Tensor, normalizeAxis, shapeString } from '../tensor.js';

/**
 * Normalisation over groups of elements that lie next to each other in
 * memory: layer norm (the trailing axes), group norm (channel groups with
 * their spatial extent) and instance norm (one channel's spatial extent).
 * All three read the input as [rows, inner], normalise each row with its own
 * mean and biased variance, then apply a per-element scale and shift whose
 * index repeats every `period` rows. One kernel and one backward rule serve
 * them:
 *
 *   xhat = (x - mean) / sqrt(var + eps),  y = xhat * w + b
 *   dx   = invStd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)),  dxhat = g * w
 */

interface RowLayout {
  rows: number;
  inner: number;
  /** Parameter index of element j of row r: paramIndex[(r % period) * inner + j]. */
  period: number;
  paramIndex: Int32Array | null;
}

function normalizeRows(op: string, x: Tensor, layout: RowLayout, weight: Tensor | null, bias: Tensor | null, eps: number): Tensor {
  if (!(eps >= 0)) throw new ArgumentError(`${op}: eps ${eps} is not valid; accepted: a non-negative number`);
  const { rows, inner, period, paramIndex } = layout;
  const src = x.data;
  const mean = new Float64Array(rows);
  const invStd = new Float64Array(rows);
  const out = new Float32Array(x.size);
  const w = weight?.data;
  const b = bias?.data;
  for (let r = 0; r < rows; r++) {
    const base = r * inner;
    let s = 0;
    for (let j = 0; j < inner; j++) s += src[base + j]!;
    const m = s / inner;
    let sq = 0;
    for (let j = 0; j < inner; j++) {
      const d = src[base + j]! - m;
      sq += d * d;
    }
    const is = 1 / Math.sqrt(sq / inner + eps);
    mean[r] = m;
    invStd[r] = is;
    const pBase = (r % period) * inner;
    for (let j = 0; j < inner; j++) {
      const p = paramIndex ? paramIndex[pBase + j]! : j;
      out[base + j] = (src[base + j]! - m) * is * (w ? w[p]! : 1) + (b ? b[p]! : 0);
    }
  }
  const inputs = [x, ...(weight ? [weight] : []), ...(bias ? [bias] : [])];
  return record(op, new Tensor(out, x.shape), inputs, (g, needs) => {
    const gd = g.data;
    const dx = needs[0] ? new Float32Array(x.size) : null;
    const dw = weight && needs[1] ? new Float64Array(weight.size) : null;
    const db = bias && needs[weight ? 2 : 1] ? new Float64Array(bias.size) : null;
    for (let r = 0; r < rows; r++) {
      const base = r * inner;
      const m = mean[r]!;
      const is = invStd[r]!;
      const pBase = (r % period) * inner;
      let sumD = 0;
      let sumDX = 0;
      for (let j = 0; j < inner; j++) {
        const p = paramIndex ? paramIndex[pBase + j]! : j;
        const xhat = (src[base + j]! - m) * is;
        const gv = gd[base + j]!;
        const d = gv * (w ? w[p]! : 1);
        sumD += d;
        sumDX += d * xhat;
        if (dw) dw[p] = dw[p]! + gv * xhat;
        if (db) db[p] = db[p]! + gv;
      }
      if (!dx) continue;
      const meanD = sumD / inner;
      const meanDX = sumDX / inner;
      for (let j = 0; j < inner; j++) {
        const p = paramIndex ? paramIndex[pBase + j]! : j;
        const xhat = (src[base + j]! - m) * is;
        const d = gd[base + j]! * (w ? w[p]! : 1);
        dx[base + j] = is * (d - meanD - xhat * meanDX);
      }
    }
    const grads: (Tensor | null)[] = [dx ? new Tensor(dx, x.shape) : null];
    if (weight) grads.push(dw ? new Tensor(Float32Array.from(dw), weight.shape) : null);
    if (bias) grads.push(db ? new Tensor(Float32Array.from(db), bias.shape) : null);
    return grads;
  });
}

function checkParam(op: string, t: Tensor | null | undefined, size: number, what: string, expected: string): Tensor | null {
  if (!t) return null;
  if (t.size !== size) throw new ShapeError(`${op}: ${what} has shape ${shapeString(t.shape)}; expected ${expected}`);
  return t;
}

/**
 * Layer normalisation over the trailing axes from `axis` on (F.layer_norm
 * with normalized_shape = x.shape[axis:]; ONNX LayerNormalization's axis).
 * `weight` and `bias` hold one value per normalised element (shape
 * x.shape[axis:], or any shape of that many elements).
 */
export function layerNorm(x: Tensor, axis: number, weight?: Tensor | null, bias?: Tensor | null, eps = 1e-5): Tensor {
  const a = normalizeAxis(axis, x.ndim, 'layerNorm', x.shape, true);
  let inner = 1;
  for (let i = a; i < x.ndim; i++) inner *= x.shape[i]!;
  const rows = inner === 0 ? 0 : x.size / inner;
  const expected = shapeString(x.shape.slice(a));
  return normalizeRows('layerNorm', x, { rows, inner, period: 1, paramIndex: null },
    checkParam('layerNorm', weight, inner, 'weight', expected), checkParam('layerNorm', bias, inner, 'bias', expected), eps);
}

/**
 * Group normalisation (F.group_norm): channels of [N, C, ...] split into
 * `groups` groups, each normalised over its channels and spatial axes;
 * `weight` and `bias` are per channel ([C]).
 */
export function groupNorm(x: Tensor, groups: number, weight?: Tensor | null, bias?: Tensor | null, eps = 1e-5): Tensor {
  if (x.ndim < 2) throw new ShapeError(`groupNorm: expected an input [N, C, ...], got shape ${shapeString(x.shape)}`);
  const [n, c] = x.shape as [number, number];
  if (!Number.isInteger(groups) || groups < 1 || c % groups !== 0) {
    throw new ArgumentError(`groupNorm: ${c} channels cannot be split into ${groups} groups (accepted: a positive divisor of the channel count)`);
  }
  const spatial = n * c === 0 ? 0 : x.size / (n * c);
  const perGroup = c / groups;
  const inner = perGroup * spatial;
  const paramIndex = new Int32Array(groups * inner);
  for (let gi = 0; gi < groups; gi++) {
    for (let j = 0; j < inner; j++) paramIndex[gi * inner + j] = gi * perGroup + Math.floor(j / spatial);
  }
  return normalizeRows('groupNorm', x, { rows: n * groups, inner, period: groups, paramIndex },
    checkParam('groupNorm', weight, c, 'weight', `[${c}]`), checkParam('groupNorm', bias, c, 'bias', `[${c}]`), eps);
}

/** Instance normalisation (F.instance_norm without running statistics): each channel of each image over its spatial axes. */
export function instanceNorm(x: Tensor, weight?: Tensor | null, bias?: Tensor | null, eps = 1e-5): Tensor {
  if (x.ndim < 3) throw new ShapeError(`instanceNorm: expected an input [N, C, ...spatial], got shape ${shapeString(x.shape)}`);
  return groupNorm(x, x.shape[1]!, weight, bias, eps);
}
