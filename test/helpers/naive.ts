import type { MaxPool2dOptions } from '../../src/tensor/ops/pool.js';
import { Tensor } from '../../src/tensor/tensor.js';

/**
 * Naive references for the 2-D ops, written from their definitions for the
 * tests (tensor.conv, tensor.pool, tensor.reduce, tensor.shape, layers.layers): plain loops over every
 * output and window, nothing shared with src/.
 */

export type Pads = { top: number; bottom: number; left: number; right: number };

/** A reference result, in float64 where the reference sums in float64. */
export interface NaiveResult {
  data: Float64Array;
  shape: number[];
}

export interface NaiveConvOptions {
  stride?: [number, number];
  pads?: Pads;
  dilation?: [number, number];
  groups?: number;
}

/** Direct convolution from the definition, float64: every output sums its window. */
export function naiveConv2d(x: Tensor, w: Tensor, b: Tensor | null, options: NaiveConvOptions = {}): NaiveResult {
  const c = {
    stride: options.stride ?? [1, 1],
    pads: options.pads ?? { top: 0, bottom: 0, left: 0, right: 0 },
    dilation: options.dilation ?? [1, 1],
    groups: options.groups ?? 1,
  };
  const [N, C, H, W] = x.shape as number[] as [number, number, number, number];
  const [O, Cg, kH, kW] = w.shape as number[] as [number, number, number, number];
  const Og = O / c.groups;
  const OH = Math.floor((H + c.pads.top + c.pads.bottom - c.dilation[0] * (kH - 1) - 1) / c.stride[0]) + 1;
  const OW = Math.floor((W + c.pads.left + c.pads.right - c.dilation[1] * (kW - 1) - 1) / c.stride[1]) + 1;
  const out = new Float64Array(N * O * OH * OW);
  for (let n = 0; n < N; n++)
    for (let o = 0; o < O; o++) {
      const g = Math.floor(o / Og);
      for (let oh = 0; oh < OH; oh++)
        for (let ow = 0; ow < OW; ow++) {
          let s = b ? b.data[o]! : 0;
          for (let ci = 0; ci < Cg; ci++)
            for (let ki = 0; ki < kH; ki++)
              for (let kj = 0; kj < kW; kj++) {
                const ih = oh * c.stride[0] - c.pads.top + ki * c.dilation[0];
                const iw = ow * c.stride[1] - c.pads.left + kj * c.dilation[1];
                if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                s += x.data[((n * C + g * Cg + ci) * H + ih) * W + iw]! * w.data[((o * Cg + ci) * kH + ki) * kW + kj]!;
              }
          out[((n * O + o) * OH + oh) * OW + ow] = s;
        }
    }
  return { data: out, shape: [N, O, OH, OW] };
}

// ---------------------------------------------------------------------------
// pooling: materialise the padded input, then scan every window of the padded
// grid (the way the PyTorch docs describe pooling)

const pair = (v: number | readonly [number, number]): [number, number] => (typeof v === 'number' ? [v, v] : [v[0], v[1]]);
const pads = (p: MaxPool2dOptions['padding']): Pads => {
  if (p === undefined) return { top: 0, bottom: 0, left: 0, right: 0 };
  if (typeof p === 'number' || Array.isArray(p)) {
    const [h, w] = pair(p as number);
    return { top: h, bottom: h, left: w, right: w };
  }
  return p as Pads;
};

/** Number of windows along one axis, written from the PyTorch docs' formula. */
function windows(n: number, k: number, s: number, d: number, before: number, after: number, ceil: boolean): number {
  const exact = (n + before + after - d * (k - 1) - 1) / s;
  let out = (ceil ? Math.ceil(exact) : Math.floor(exact)) + 1;
  // "sliding windows that would start in the right padded region are ignored"
  if (ceil && (out - 1) * s >= n + before) out -= 1;
  return out;
}

export function naivePool(x: Tensor, o: MaxPool2dOptions & { countIncludePad?: boolean }, kind: 'max' | 'avg'): { out: Tensor; firstMax: number[][] } {
  const [N, C, H, W] = x.shape as number[] as [number, number, number, number];
  const [kh, kw] = pair(o.kernelSize);
  const [sh, sw] = pair(o.stride ?? o.kernelSize);
  const [dh, dw] = pair(o.dilation ?? 1);
  const p = pads(o.padding);
  const ceil = o.ceilMode ?? false;
  const OH = windows(H, kh, sh, dh, p.top, p.bottom, ceil);
  const OW = windows(W, kw, sw, dw, p.left, p.right, ceil);
  const PH = H + p.top + p.bottom;
  const PW = W + p.left + p.right;
  const values: number[] = [];
  const firstMax: number[][] = [];
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++) {
      // padded plane; cells beyond it (ceil overhang) are "outside"
      const cell = (r: number, q: number): { inside: boolean; inPadded: boolean; v: number } => {
        const inPadded = r >= 0 && r < PH && q >= 0 && q < PW;
        const ir = r - p.top;
        const iq = q - p.left;
        const inside = ir >= 0 && ir < H && iq >= 0 && iq < W;
        return { inside, inPadded, v: inside ? x.get(n, c, ir, iq) : kind === 'max' ? -Infinity : 0 };
      };
      for (let oh = 0; oh < OH; oh++)
        for (let ow = 0; ow < OW; ow++) {
          let best = -Infinity;
          let bestAt: number[] = [];
          let sum = 0;
          let padded = 0;
          let valid = 0;
          for (let i = 0; i < kh; i++)
            for (let j = 0; j < kw; j++) {
              const r = oh * sh + i * dh;
              const q = ow * sw + j * dw;
              const e = cell(r, q);
              if (e.inPadded) padded++;
              if (e.inside) {
                valid++;
                sum += e.v;
                if (e.v > best || bestAt.length === 0) {
                  best = e.v;
                  bestAt = [n, c, r - p.top, q - p.left];
                }
              }
            }
          if (kind === 'max') {
            values.push(best);
            firstMax.push(bestAt);
          } else {
            const divisor = (o.countIncludePad ?? true) ? padded : valid;
            values.push(sum / divisor);
          }
        }
    }
  return { out: new Tensor(Float32Array.from(values), [N, C, OH, OW]), firstMax };
}

// ---------------------------------------------------------------------------
// n-d indexing

/** Every multi-index of `shape` in row-major order (the slow way an ndarray reference walks a tensor). */
export function multiIndices(shape: readonly number[]): number[][] {
  let out: number[][] = [[]];
  for (const n of shape) {
    const next: number[][] = [];
    for (const prefix of out) for (let i = 0; i < n; i++) next.push([...prefix, i]);
    out = next;
  }
  return out;
}
