import { attachTangent, record } from '../autograd.js';
import { ArgumentError, GradError } from '../errors.js';
import { Tensor } from '../tensor.js';
import { imageShape } from './spatial.js';
import { checkElements } from '../limits.js';

/**
 * Spatial resizing of NCHW tensors, as torch.nn.functional.interpolate.
 *
 * Both modes are separable: for each output row (and column) we precompute
 * which input rows it reads and with what weights, then one loop per plane
 * applies them. The backward rules scatter the same weights the other way.
 */

export interface InterpolateOptions {
  /** Output [height, width]. */
  size?: readonly [number, number];
  /**
   * Output = floor(input * scaleFactor). As F.interpolate (with
   * recompute_scale_factor unset), the coordinates are mapped with
   * 1 / scaleFactor, not input/output.
   */
  scaleFactor?: number | readonly [number, number];
  mode?: 'bilinear' | 'nearest';
  /** false: half-pixel centres (PyTorch default, OpenCV INTER_LINEAR); true: corners aligned. */
  alignCorners?: boolean;
  /**
   * Where output pixel o samples the input when corners are not aligned,
   * with scale = input / output size: 'half_pixel' at (o + 0.5) * scale - 0.5
   * (the default for bilinear; for nearest, floor((o + 0.5) * scale), PyTorch's
   * 'nearest-exact' and TensorFlow's half_pixel_centers), 'asymmetric' at
   * o * scale (the default for nearest, PyTorch's 'nearest'; for bilinear,
   * TensorFlow's resize_bilinear without half_pixel_centers, ONNX's 'asymmetric').
   */
  coordinates?: 'half_pixel' | 'asymmetric';
  /**
   * Bilinear only: when downscaling, widen the triangle filter by the
   * downscale factor (PIL / torchvision / F.interpolate(antialias=True)).
   * Forward only: asking for a gradient through it throws a GradError.
   */
  antialias?: boolean;
}

/** Resize [N,C,H,W] spatially, as F.interpolate; differentiable (except antialias). */
export function interpolate(x: Tensor, options: InterpolateOptions): Tensor {
  // Linear in x: its tangent is the same resize of the tangent.
  return attachTangent(resize(x, options), ([dx]) => interpolate(dx!, options));
}

function resize(x: Tensor, options: InterpolateOptions): Tensor {
  const [N, C, H, W] = imageShape(x, 'interpolate');
  const mode = options.mode ?? 'bilinear';
  if (mode !== 'bilinear' && mode !== 'nearest') {
    throw new ArgumentError(`interpolate: mode '${String(mode)}' is not supported; accepted: 'bilinear' or 'nearest'`);
  }
  const alignCorners = options.alignCorners ?? false;
  if (mode === 'nearest' && options.alignCorners !== undefined) {
    throw new ArgumentError(`interpolate: alignCorners only applies to mode 'bilinear' (as PyTorch); leave it unset for 'nearest'`);
  }
  if (mode === 'nearest' && options.antialias) {
    throw new ArgumentError(`interpolate: antialias only applies to mode 'bilinear'`);
  }
  const coordinates = options.coordinates ?? (mode === 'nearest' ? 'asymmetric' : 'half_pixel');
  if (coordinates !== 'half_pixel' && coordinates !== 'asymmetric') {
    throw new ArgumentError(`interpolate: coordinates '${String(coordinates)}' is not supported; accepted: 'half_pixel' or 'asymmetric'`);
  }
  if (options.coordinates !== undefined && (alignCorners || options.antialias)) {
    throw new ArgumentError(`interpolate: coordinates applies when corners are not aligned and without antialias; leave it unset with alignCorners or antialias`);
  }
  const { outH, outW, scaleH, scaleW } = resolveSize(H, W, options);
  checkElements(N * C * outH * outW, 'interpolate');

  if (mode === 'nearest') {
    const halfPixel = coordinates === 'half_pixel';
    const rows = nearestIndex(H, outH, scaleH, halfPixel);
    const cols = nearestIndex(W, outW, scaleW, halfPixel);
    return nearest(x, N * C, H, W, rows, cols);
  }
  if (options.antialias) {
    const rows = antialiasWeights(H, outH, sourceScale(H, outH, alignCorners, scaleH));
    const cols = antialiasWeights(W, outW, sourceScale(W, outW, alignCorners, scaleW));
    return antialiased(x, N * C, H, W, rows, cols);
  }
  const origin = alignCorners || coordinates === 'asymmetric' ? 'corner' : 'centre';
  const rows = linearWeights(H, outH, sourceScale(H, outH, alignCorners, scaleH), origin);
  const cols = linearWeights(W, outW, sourceScale(W, outW, alignCorners, scaleW), origin);
  return bilinear(x, N * C, H, W, rows, cols);
}

// ---------------------------------------------------------------------------
// sizes and coordinate mapping

function resolveSize(
  H: number,
  W: number,
  o: InterpolateOptions,
): { outH: number; outW: number; scaleH: number | undefined; scaleW: number | undefined } {
  if ((o.size === undefined) === (o.scaleFactor === undefined)) {
    throw new ArgumentError(`interpolate: give exactly one of size ([height, width]) or scaleFactor (a number or [h, w])`);
  }
  if (o.size !== undefined) {
    const s = o.size;
    if (!Array.isArray(s) || s.length !== 2 || !s.every((v) => Number.isInteger(v) && v >= 1)) {
      throw new ArgumentError(`interpolate: size ${JSON.stringify(s)} is not valid; accepted: [height, width] of positive integers`);
    }
    return { outH: s[0]!, outW: s[1]!, scaleH: undefined, scaleW: undefined };
  }
  const f = o.scaleFactor!;
  const [fh, fw] = typeof f === 'number' ? [f, f] : [f[0], f[1]];
  if (!(fh! > 0 && fw! > 0 && Number.isFinite(fh) && Number.isFinite(fw))) {
    throw new ArgumentError(`interpolate: scaleFactor ${JSON.stringify(f)} is not valid; accepted: a positive number or [h, w] of positive numbers`);
  }
  const outH = Math.floor(H * fh!);
  const outW = Math.floor(W * fw!);
  if (outH < 1 || outW < 1) {
    throw new ArgumentError(`interpolate: scaleFactor ${JSON.stringify(f)} turns [${H}, ${W}] into an empty [${outH}, ${outW}]`);
  }
  return { outH, outW, scaleH: 1 / fh!, scaleW: 1 / fw! };
}

/** PyTorch's area_pixel_compute_scale: input pixels per output pixel. */
function sourceScale(inSize: number, outSize: number, alignCorners: boolean, given: number | undefined): number {
  if (alignCorners) return outSize > 1 ? (inSize - 1) / (outSize - 1) : 0;
  return given ?? inSize / outSize;
}

/** Per output index: the two input indices and their weights. */
interface LinearTaps {
  i0: Int32Array;
  i1: Int32Array;
  w0: Float64Array;
  w1: Float64Array;
}

/** Taps of each output index; 'corner' maps o to o * scale (aligned corners, asymmetric), 'centre' maps pixel centres. */
function linearWeights(inSize: number, outSize: number, scale: number, origin: 'corner' | 'centre'): LinearTaps {
  const i0 = new Int32Array(outSize);
  const i1 = new Int32Array(outSize);
  const w0 = new Float64Array(outSize);
  const w1 = new Float64Array(outSize);
  for (let o = 0; o < outSize; o++) {
    if (inSize === outSize) {
      i0[o] = o;
      i1[o] = o;
      w0[o] = 1;
      continue;
    }
    // Half-pixel centres, clamped at 0 (PyTorch, OpenCV INTER_LINEAR), or from the corner.
    let src = origin === 'corner' ? scale * o : scale * (o + 0.5) - 0.5;
    if (src < 0) src = 0;
    const a = Math.floor(src);
    const b = a < inSize - 1 ? a + 1 : a;
    const lambda = Math.min(Math.max(src - a, 0), 1);
    i0[o] = a;
    i1[o] = b;
    w0[o] = 1 - lambda;
    w1[o] = lambda;
  }
  return { i0, i1, w0, w1 };
}

/**
 * PyTorch's nearest (nearest_idx): a copy when the size is unchanged, o >> 1
 * when it doubles (whatever scaleFactor said), else floor(dst * scale) in
 * float32 (where rounding can move an index, float32 is what PyTorch
 * computes in), capped at the last index. With half-pixel centres:
 * floor((o + 0.5) * scale), capped (PyTorch's nearest-exact, TensorFlow's
 * half_pixel_centers).
 */
function nearestIndex(inSize: number, outSize: number, given: number | undefined, halfPixel: boolean): Int32Array {
  const scale = Math.fround(given ?? inSize / outSize);
  const index = new Int32Array(outSize);
  for (let o = 0; o < outSize; o++) {
    if (outSize === inSize) index[o] = o;
    else if (halfPixel) index[o] = Math.min(Math.floor(Math.fround((o + 0.5) * scale)), inSize - 1);
    else if (outSize === 2 * inSize) index[o] = o >> 1;
    else index[o] = Math.min(Math.floor(Math.fround(o * scale)), inSize - 1);
  }
  return index;
}

// ---------------------------------------------------------------------------
// bilinear

function bilinear(x: Tensor, planes: number, H: number, W: number, rows: LinearTaps, cols: LinearTaps): Tensor {
  const outH = rows.i0.length;
  const outW = cols.i0.length;
  const inPlane = H * W;
  const outPlane = outH * outW;
  const out = new Float32Array(planes * outPlane);
  const src = x.data;
  const { i0: c0, i1: c1, w0: cw0, w1: cw1 } = cols;
  for (let p = 0; p < planes; p++) {
    const base = p * inPlane;
    let o = p * outPlane;
    for (let oh = 0; oh < outH; oh++) {
      const r0 = base + rows.i0[oh]! * W;
      const r1 = base + rows.i1[oh]! * W;
      const rw0 = rows.w0[oh]!;
      const rw1 = rows.w1[oh]!;
      for (let ow = 0; ow < outW; ow++, o++) {
        const a = c0[ow]!;
        const b = c1[ow]!;
        out[o] =
          rw0 * (cw0[ow]! * src[r0 + a]! + cw1[ow]! * src[r0 + b]!) +
          rw1 * (cw0[ow]! * src[r1 + a]! + cw1[ow]! * src[r1 + b]!);
      }
    }
  }
  const result = new Tensor(out, [x.shape[0]!, x.shape[1]!, outH, outW]);
  return record('interpolate', result, [x], (gradOutput) => {
    const dx = new Float32Array(x.size);
    const go = gradOutput.data;
    for (let p = 0; p < planes; p++) {
      const base = p * inPlane;
      let o = p * outPlane;
      for (let oh = 0; oh < outH; oh++) {
        const r0 = base + rows.i0[oh]! * W;
        const r1 = base + rows.i1[oh]! * W;
        const rw0 = rows.w0[oh]!;
        const rw1 = rows.w1[oh]!;
        for (let ow = 0; ow < outW; ow++, o++) {
          const g = go[o]!;
          const a = c0[ow]!;
          const b = c1[ow]!;
          dx[r0 + a] = dx[r0 + a]! + g * rw0 * cw0[ow]!;
          dx[r0 + b] = dx[r0 + b]! + g * rw0 * cw1[ow]!;
          dx[r1 + a] = dx[r1 + a]! + g * rw1 * cw0[ow]!;
          dx[r1 + b] = dx[r1 + b]! + g * rw1 * cw1[ow]!;
        }
      }
    }
    return [new Tensor(dx, x.shape)];
  });
}

// ---------------------------------------------------------------------------
// nearest

function nearest(x: Tensor, planes: number, H: number, W: number, rows: Int32Array, cols: Int32Array): Tensor {
  const outH = rows.length;
  const outW = cols.length;
  const inPlane = H * W;
  const outPlane = outH * outW;
  const out = new Float32Array(planes * outPlane);
  const src = x.data;
  for (let p = 0; p < planes; p++) {
    const base = p * inPlane;
    let o = p * outPlane;
    for (let oh = 0; oh < outH; oh++) {
      const row = base + rows[oh]! * W;
      for (let ow = 0; ow < outW; ow++, o++) out[o] = src[row + cols[ow]!]!;
    }
  }
  const result = new Tensor(out, [x.shape[0]!, x.shape[1]!, outH, outW]);
  return record('interpolate', result, [x], (gradOutput) => {
    const dx = new Float32Array(x.size);
    const go = gradOutput.data;
    for (let p = 0; p < planes; p++) {
      const base = p * inPlane;
      let o = p * outPlane;
      for (let oh = 0; oh < outH; oh++) {
        const row = base + rows[oh]! * W;
        for (let ow = 0; ow < outW; ow++, o++) dx[row + cols[ow]!] = dx[row + cols[ow]!]! + go[o]!;
      }
    }
    return [new Tensor(dx, x.shape)];
  });
}

// ---------------------------------------------------------------------------
// antialiased bilinear (PyTorch's _upsample_bilinear2d_aa, PIL's BILINEAR)

/** Per output index: the first input index, the tap count, and `taps` normalised weights. */
interface AntialiasTaps {
  start: Int32Array;
  count: Int32Array;
  taps: number;
  weights: Float64Array;
}

function antialiasWeights(inSize: number, outSize: number, scale: number): AntialiasTaps {
  // The triangle filter has support 1; when downscaling (scale > 1) it is
  // stretched by the scale so each output averages all the inputs it covers.
  const support = scale >= 1 ? scale : 1;
  const invScale = scale >= 1 ? 1 / scale : 1;
  const taps = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Float64Array(outSize * taps);
  for (let o = 0; o < outSize; o++) {
    const center = scale * (o + 0.5);
    // Math.trunc as C++'s int64 cast, then clamped to the input.
    const lo = Math.max(Math.trunc(center - support + 0.5), 0);
    const n = Math.min(Math.max(Math.min(Math.trunc(center + support + 0.5), inSize) - lo, 0), taps);
    let total = 0;
    for (let j = 0; j < n; j++) {
      const t = Math.abs((j + lo - center + 0.5) * invScale);
      const w = t < 1 ? 1 - t : 0;
      weights[o * taps + j] = w;
      total += w;
    }
    if (total !== 0) for (let j = 0; j < n; j++) weights[o * taps + j] = weights[o * taps + j]! / total;
    start[o] = lo;
    count[o] = n;
  }
  return { start, count, taps, weights };
}

function antialiased(x: Tensor, planes: number, H: number, W: number, rows: AntialiasTaps, cols: AntialiasTaps): Tensor {
  const outH = rows.start.length;
  const outW = cols.start.length;
  const src = x.data;
  // Horizontal pass into [planes, H, outW], then vertical into [planes, outH, outW].
  const tmp = new Float64Array(planes * H * outW);
  for (let r = 0; r < planes * H; r++) {
    const base = r * W;
    for (let ow = 0; ow < outW; ow++) {
      const lo = cols.start[ow]!;
      const wBase = ow * cols.taps;
      let sum = 0;
      for (let j = 0; j < cols.count[ow]!; j++) sum += cols.weights[wBase + j]! * src[base + lo + j]!;
      tmp[r * outW + ow] = sum;
    }
  }
  const out = new Float32Array(planes * outH * outW);
  const acc = new Float64Array(outW);
  for (let p = 0; p < planes; p++) {
    const base = p * H * outW;
    for (let oh = 0; oh < outH; oh++) {
      const lo = rows.start[oh]!;
      const wBase = oh * rows.taps;
      acc.fill(0);
      for (let j = 0; j < rows.count[oh]!; j++) {
        const w = rows.weights[wBase + j]!;
        const row = base + (lo + j) * outW;
        for (let ow = 0; ow < outW; ow++) acc[ow] = acc[ow]! + w * tmp[row + ow]!;
      }
      out.set(acc, (p * outH + oh) * outW);
    }
  }
  const result = new Tensor(out, [x.shape[0]!, x.shape[1]!, outH, outW]);
  return record('interpolate', result, [x], () => {
    throw new GradError(
      'interpolate: antialias has no backward rule; resize with antialias: false where a gradient is needed, or detach() the input',
    );
  });
}
