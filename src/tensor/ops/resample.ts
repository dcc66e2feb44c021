import { record } from '../autograd.js';
import { ArgumentError, ShapeError } from '../errors.js';
import { allocate } from '../limits.js';
import { Tensor, normalizeAxis, shapeString } from '../tensor.js';

/**
 * Separable resampling of any axes of a tensor, and PyTorch's
 * F.interpolate for 1-D, 2-D and 3-D signals on top of it.
 *
 * Every resize that ONNX Resize or F.interpolate computes (nearest, linear,
 * cubic, whatever the coordinate rule) is, per axis, a fixed set of taps:
 * output position i reads input positions index[i, t] with weights
 * weight[i, t]. `resample` applies one axis's taps at a time (the 2-D and 3-D
 * resizes are products of 1-D ones) and each pass's backward scatters the
 * gradient through the same taps.
 */

/** Taps of one axis: `taps` per output position, row-major [outSize, taps]. */
export interface AxisTaps {
  inSize: number;
  outSize: number;
  taps: number;
  index: Int32Array;
  weight: Float64Array;
}

function resampleAxis(x: Tensor, a: number, taps: AxisTaps): Tensor {
  const n = x.shape[a]!;
  if (n !== taps.inSize) throw new ShapeError(`resample: taps for an axis of size ${taps.inSize} applied to axis ${a} of shape ${shapeString(x.shape)}`);
  let outer = 1;
  for (let i = 0; i < a; i++) outer *= x.shape[i]!;
  let inner = 1;
  for (let i = a + 1; i < x.ndim; i++) inner *= x.shape[i]!;
  const m = taps.outSize;
  const k = taps.taps;
  const { index, weight } = taps;
  const outShape = [...x.shape];
  outShape[a] = m;
  const out = allocate(outer * m * inner, 'resample');
  const src = x.data;
  const acc = new Float64Array(inner);
  for (let o = 0; o < outer; o++) {
    const inBase = o * n * inner;
    if (inner === 1) {
      // The last axis: one scalar per output position.
      for (let i = 0; i < m; i++) {
        let s = 0;
        for (let t = 0; t < k; t++) {
          const w = weight[i * k + t]!;
          if (w !== 0) s += w * src[inBase + index[i * k + t]!]!;
        }
        out[o * m + i] = s;
      }
      continue;
    }
    for (let i = 0; i < m; i++) {
      acc.fill(0);
      for (let t = 0; t < k; t++) {
        const w = weight[i * k + t]!;
        if (w === 0) continue;
        const row = inBase + index[i * k + t]! * inner;
        for (let j = 0; j < inner; j++) acc[j] = acc[j]! + w * src[row + j]!;
      }
      out.set(acc, (o * m + i) * inner);
    }
  }
  return record('resample', new Tensor(out, outShape), [x], (g) => {
    const gd = g.data;
    const dx = new Float64Array(x.size);
    for (let o = 0; o < outer; o++) {
      const inBase = o * n * inner;
      for (let i = 0; i < m; i++) {
        const gBase = (o * m + i) * inner;
        for (let t = 0; t < k; t++) {
          const w = weight[i * k + t]!;
          if (w === 0) continue;
          const row = inBase + index[i * k + t]! * inner;
          for (let j = 0; j < inner; j++) dx[row + j] = dx[row + j]! + w * gd[gBase + j]!;
        }
      }
    }
    return [new Tensor(Float32Array.from(dx), x.shape)];
  });
}

/** Resample the given axes (axis -> taps), one separable pass per axis. */
export function resample(x: Tensor, axes: ReadonlyMap<number, AxisTaps>): Tensor {
  let y = x;
  for (const [axis, taps] of axes) {
    const a = normalizeAxis(axis, x.ndim, 'resample');
    if (taps.inSize === taps.outSize && taps.taps === 1 && taps.index.every((v, i) => v === i) && taps.weight.every((w) => w === 1)) continue;
    y = resampleAxis(y, a, taps);
  }
  return y === x ? resampleAxis(x, 0, identityTaps(x.shape[0] ?? 1)) : y;
}

function identityTaps(n: number): AxisTaps {
  return { inSize: n, outSize: n, taps: 1, index: Int32Array.from({ length: n }, (_, i) => i), weight: new Float64Array(n).fill(1) };
}

// ---------------------------------------------------------------------------
// tap builders: `source(i)` is the input coordinate of output position i

/** Nearest neighbour: `pick(source)` rounds a coordinate to an index (clamped to the axis). */
export function nearestTaps(inSize: number, outSize: number, source: (i: number) => number, pick: (x: number) => number): AxisTaps {
  const index = new Int32Array(outSize);
  for (let i = 0; i < outSize; i++) index[i] = Math.min(Math.max(pick(source(i)), 0), inSize - 1);
  return { inSize, outSize, taps: 1, index, weight: new Float64Array(outSize).fill(1) };
}

/** Linear: the two neighbours of the coordinate, indices clamped to the axis (edge values beyond it). */
export function linearTaps(inSize: number, outSize: number, source: (i: number) => number): AxisTaps {
  const index = new Int32Array(2 * outSize);
  const weight = new Float64Array(2 * outSize);
  for (let i = 0; i < outSize; i++) {
    const x = source(i);
    const f = Math.floor(x);
    const r = x - f;
    index[2 * i] = Math.min(Math.max(f, 0), inSize - 1);
    index[2 * i + 1] = Math.min(Math.max(f + 1, 0), inSize - 1);
    weight[2 * i] = 1 - r;
    weight[2 * i + 1] = r;
  }
  return { inSize, outSize, taps: 2, index, weight };
}

/**
 * Cubic convolution (Keys) with coefficient `a` (-0.75 as PyTorch and ONNX,
 * -0.5 as TensorFlow): four taps around the coordinate, indices clamped to
 * the axis, or with `excludeOutside` the taps beyond it dropped and the rest
 * renormalised (ONNX's exclude_outside).
 */
export function cubicTaps(inSize: number, outSize: number, source: (i: number) => number, a = -0.75, excludeOutside = false): AxisTaps {
  const index = new Int32Array(4 * outSize);
  const weight = new Float64Array(4 * outSize);
  const near = (t: number): number => ((a + 2) * t - (a + 3)) * t * t + 1; // |t| <= 1
  const far = (t: number): number => ((a * t - 5 * a) * t + 8 * a) * t - 4 * a; // 1 < |t| < 2
  for (let i = 0; i < outSize; i++) {
    const x = source(i);
    const f = Math.floor(x);
    const r = x - f;
    const w = [far(r + 1), near(r), near(1 - r), far(2 - r)];
    let total = 0;
    for (let t = 0; t < 4; t++) {
      const j = f - 1 + t;
      if (excludeOutside && (j < 0 || j >= inSize)) w[t] = 0;
      total += w[t]!;
      index[4 * i + t] = Math.min(Math.max(j, 0), inSize - 1);
    }
    for (let t = 0; t < 4; t++) weight[4 * i + t] = excludeOutside && total !== 0 ? w[t]! / total : w[t]!;
  }
  return { inSize, outSize, taps: 4, index, weight };
}

// ---------------------------------------------------------------------------
// F.interpolate for [N, C, L], [N, C, H, W] and [N, C, D, H, W]

export type InterpolateNdMode = 'nearest' | 'linear' | 'bilinear' | 'trilinear' | 'bicubic';

export interface InterpolateNdOptions {
  /** Output size per spatial axis. */
  size?: readonly number[];
  /** Output = floor(input * factor) per spatial axis; coordinates map with 1 / factor, as F.interpolate. */
  scaleFactor?: number | readonly number[];
  mode?: InterpolateNdMode;
  alignCorners?: boolean;
}

const MODE_RANK: Record<InterpolateNdMode, number | null> = { nearest: null, linear: 1, bilinear: 2, trilinear: 3, bicubic: 2 };

/**
 * torch.nn.functional.interpolate over the spatial axes of a 3-D, 4-D or 5-D
 * tensor: 'nearest' (PyTorch's floor rule), 'linear' (1-D), 'bilinear'
 * (2-D), 'trilinear' (3-D), 'bicubic' (2-D, a = -0.75); half-pixel
 * coordinates or alignCorners. Differentiable.
 */
export function interpolateNd(x: Tensor, options: InterpolateNdOptions): Tensor {
  const spatial = x.ndim - 2;
  if (spatial < 1 || spatial > 3) throw new ShapeError(`interpolateNd: expected [N, C, L], [N, C, H, W] or [N, C, D, H, W], got shape ${shapeString(x.shape)}`);
  const mode = options.mode ?? (['linear', 'bilinear', 'trilinear'] as const)[spatial - 1]!;
  if (!(mode in MODE_RANK)) throw new ArgumentError(`interpolateNd: mode '${String(mode)}' is not supported (accepted: nearest, linear, bilinear, trilinear, bicubic)`);
  const rank = MODE_RANK[mode];
  if (rank !== null && rank !== spatial) {
    throw new ArgumentError(`interpolateNd: mode '${mode}' needs ${rank + 2}-D input, got shape ${shapeString(x.shape)} (as PyTorch: linear 3-D, bilinear/bicubic 4-D, trilinear 5-D)`);
  }
  if (mode === 'nearest' && options.alignCorners !== undefined) throw new ArgumentError("interpolateNd: alignCorners only applies to the interpolating modes (as PyTorch); leave it unset for 'nearest'");
  const alignCorners = options.alignCorners ?? false;
  if ((options.size === undefined) === (options.scaleFactor === undefined)) {
    throw new ArgumentError(`interpolateNd: give exactly one of size (${spatial} sizes) or scaleFactor`);
  }
  const inSizes = x.shape.slice(2);
  let outSizes: number[];
  let factors: (number | undefined)[];
  if (options.size !== undefined) {
    const s = options.size;
    if (s.length !== spatial || !s.every((v) => Number.isInteger(v) && v >= 1)) {
      throw new ArgumentError(`interpolateNd: size ${JSON.stringify(s)} is not valid; accepted: ${spatial} positive integers`);
    }
    outSizes = [...s];
    factors = s.map(() => undefined);
  } else {
    const f = options.scaleFactor!;
    const fs = typeof f === 'number' ? inSizes.map(() => f) : [...f];
    if (fs.length !== spatial || !fs.every((v) => v > 0 && Number.isFinite(v))) {
      throw new ArgumentError(`interpolateNd: scaleFactor ${JSON.stringify(f)} is not valid; accepted: a positive number or ${spatial} of them`);
    }
    outSizes = inSizes.map((d, i) => Math.floor(d * fs[i]!));
    if (outSizes.some((d) => d < 1)) throw new ArgumentError(`interpolateNd: scaleFactor ${JSON.stringify(f)} turns ${shapeString(inSizes)} into an empty ${shapeString(outSizes)}`);
    factors = fs;
  }
  const axes = new Map<number, AxisTaps>();
  inSizes.forEach((n, i) => {
    const m = outSizes[i]!;
    const given = factors[i];
    if (mode === 'nearest') {
      // PyTorch's nearest_idx: copy when equal, o >> 1 when doubling, else floor(o * scale) in float32.
      const scale = Math.fround(given !== undefined ? 1 / given : n / m);
      axes.set(2 + i, nearestTaps(n, m, (o) => o, (o) => (m === n ? o : m === 2 * n ? o >> 1 : Math.floor(Math.fround(o * scale)))));
      return;
    }
    if (mode === 'bicubic') axes.set(2 + i, cubicTaps(n, m, interpolateSource(n, m, alignCorners, given), -0.75));
    else axes.set(2 + i, interpolateLinearTaps(n, m, alignCorners, given));
  });
  return resample(x, axes);
}

/** F.interpolate's input coordinate of output position o (half-pixel centres, or corner to corner). */
function interpolateSource(n: number, m: number, alignCorners: boolean, factor?: number): (o: number) => number {
  const scale = alignCorners ? (m > 1 ? (n - 1) / (m - 1) : 0) : factor !== undefined ? 1 / factor : n / m;
  return alignCorners ? (o) => scale * o : (o) => scale * (o + 0.5) - 0.5;
}

/**
 * The taps of F.interpolate's linear modes along one axis of size n resized
 * to m. Exported on its own so that a caller needing only linear resizes
 * (the CAM maps) does not pull interpolateNd's other modes into a bundle.
 */
export function interpolateLinearTaps(n: number, m: number, alignCorners: boolean, factor?: number): AxisTaps {
  const source = interpolateSource(n, m, alignCorners, factor);
  // Linear modes clamp negative coordinates to 0 (PyTorch); with clamped indices that changes nothing.
  return linearTaps(n, m, (o) => Math.max(source(o), 0));
}
