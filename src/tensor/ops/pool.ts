import { isGradEnabled, record } from '../autograd.js';
import { kernels } from '../backend.js';
import { ArgumentError, ShapeError } from '../errors.js';
import { Tensor, shapeString } from '../tensor.js';
import { imageShape, pair, pads, type Pair, type Padding2d } from './spatial.js';
import { allocate, chargeWork, checkElements } from '../limits.js';
import { bufferToOverwrite } from '../buffer-pool.js';

/**
 * Pooling over the two spatial axes of NCHW tensors. Each op computes its
 * output with plain loops over (n, c) planes and keeps what its backward rule
 * needs (the argmax for max pooling, the divisors for average pooling).
 */

export interface MaxPool2dOptions {
  kernelSize: Pair;
  /** Defaults to kernelSize. */
  stride?: Pair;
  padding?: Padding2d;
  dilation?: Pair;
  ceilMode?: boolean;
}

export interface AvgPool2dOptions {
  kernelSize: Pair;
  stride?: Pair;
  padding?: Padding2d;
  ceilMode?: boolean;
  /** Count padded cells in the divisor (PyTorch default true). Ceil-mode overhang cells never count. */
  countIncludePad?: boolean;
}

// ---------------------------------------------------------------------------
// geometry shared by the pools

/** Window geometry of a 2-D pool, resolved from the options. */
interface PoolGeometry {
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  dh: number;
  dw: number;
  top: number;
  bottom: number;
  left: number;
  right: number;
  outH: number;
  outW: number;
}

/**
 * PyTorch's pooling output size: floor (or ceil) of the span over the stride,
 * plus one; in ceil mode the last window must start inside the input or the
 * leading padding, otherwise it is dropped.
 */
function outputSize(size: number, k: number, s: number, d: number, padBefore: number, padAfter: number, ceil: boolean): number {
  const span = size + padBefore + padAfter - d * (k - 1) - 1;
  if (span < 0) return 0;
  let out = (ceil ? Math.ceil(span / s) : Math.floor(span / s)) + 1;
  if (ceil && (out - 1) * s >= size + padBefore) out--;
  return out;
}

function geometry(
  x: Tensor,
  op: string,
  o: { kernelSize: Pair; stride?: Pair; padding?: Padding2d; dilation?: Pair; ceilMode?: boolean },
): PoolGeometry {
  if (x.ndim !== 4) throw new ShapeError(`${op}: expected a 4-D [N, C, H, W] input, got shape ${shapeString(x.shape)}`);
  if (!o || o.kernelSize === undefined) throw new ArgumentError(`${op}: options.kernelSize is required (an integer or [height, width])`);
  const [kh, kw] = pair(o.kernelSize, 'kernelSize', op, 1);
  const [sh, sw] = o.stride === undefined ? [kh, kw] : pair(o.stride, 'stride', op, 1);
  const [dh, dw] = o.dilation === undefined ? [1, 1] : pair(o.dilation, 'dilation', op, 1);
  const pad = pads(o.padding ?? 0, op);
  const symmetric = pad.top === pad.bottom && pad.left === pad.right;
  // PyTorch's rule for symmetric padding; asymmetric (ONNX-style) pads only
  // need to leave each window some input cell, which is checked below.
  if (symmetric && (pad.top > Math.floor(kh / 2) || pad.left > Math.floor(kw / 2))) {
    throw new ArgumentError(
      `${op}: padding [${pad.top}, ${pad.left}] must be at most half the kernel size [${kh}, ${kw}] (PyTorch's rule)`,
    );
  }
  const H = x.shape[2]!;
  const W = x.shape[3]!;
  const ceil = o.ceilMode ?? false;
  const outH = outputSize(H, kh, sh, dh, pad.top, pad.bottom, ceil);
  const outW = outputSize(W, kw, sw, dw, pad.left, pad.right, ceil);
  if (outH < 1 || outW < 1) {
    throw new ShapeError(
      `${op}: input ${shapeString(x.shape)} with padding {top: ${pad.top}, bottom: ${pad.bottom}, left: ${pad.left}, right: ${pad.right}} is smaller than the dilated kernel [${dh * (kh - 1) + 1}, ${dw * (kw - 1) + 1}]`,
    );
  }
  // Checked here, before the window tables of the output's size are made.
  checkElements(x.shape[0]! * x.shape[1]! * outH * outW, op);
  return { kh, kw, sh, sw, dh, dw, ...pad, outH, outW };
}

// ---------------------------------------------------------------------------
// max pooling

/** Max pooling; the gradient goes to the first maximum of each window (PyTorch), not split on ties. */
export function maxPool2d(x: Tensor, options: MaxPool2dOptions): Tensor {
  const g = geometry(x, 'maxPool2d', options);
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const planes = N * C;
  const outPlane = g.outH * g.outW;
  checkElements(planes * outPlane, 'maxPool2d');
  chargeWork(planes * outPlane * Math.min(g.kh, H) * Math.min(g.kw, W), 'maxPool2d', N);
  const out = bufferToOverwrite(planes * outPlane); // each output is a window's max, or -Infinity
  // Offset of each output's winning cell within its input plane (-1: none),
  // kept for the backward rule only when the graph is recorded.
  const recording = isGradEnabled() && x.requiresGrad;
  const argmax = new Int32Array(recording ? planes * outPlane : 0);
  kernels().maxPool2d(x.data, out, recording ? argmax : null, planes, H, W, g);
  const result = new Tensor(out, [N, C, g.outH, g.outW]);
  return record('maxPool2d', result, [x], (gradOutput) => [scatterToArgmax(gradOutput, argmax, x.shape, outPlane)], {
    tangent: ([dx]) => gatherFromArgmax(dx!, argmax, result.shape, outPlane),
  });
}

/** Tangent of a max: each output takes its winning input cell's tangent. */
function gatherFromArgmax(dx: Tensor, argmax: Int32Array, outShape: readonly number[], outPlane: number): Tensor {
  const plane = dx.shape[2]! * dx.shape[3]!;
  const out = new Float32Array(argmax.length);
  for (let o = 0; o < out.length; o++) {
    const at = argmax[o]!;
    if (at >= 0) out[o] = dx.data[((o / outPlane) | 0) * plane + at]!;
  }
  return new Tensor(out, outShape);
}

/** Backward of a max: each output's gradient is added to its winning input cell. */
function scatterToArgmax(gradOutput: Tensor, argmax: Int32Array, shape: readonly number[], outPlane: number): Tensor {
  const plane = shape[2]! * shape[3]!;
  const dx = new Float32Array(shape[0]! * shape[1]! * plane);
  const go = gradOutput.data;
  for (let o = 0; o < go.length; o++) {
    const at = argmax[o]!;
    if (at >= 0) {
      const p = (o / outPlane) | 0;
      dx[p * plane + at] = dx[p * plane + at]! + go[o]!;
    }
  }
  return new Tensor(dx, shape);
}

// ---------------------------------------------------------------------------
// average pooling

/**
 * Average pooling with PyTorch's divisor: with countIncludePad the window
 * size clipped to input + padding (ceil-mode overhang never counts), else the
 * number of input cells in the window.
 */
export function avgPool2d(x: Tensor, options: AvgPool2dOptions): Tensor {
  const g = geometry(x, 'avgPool2d', { ...options, dilation: 1 });
  const H = x.shape[2]!;
  const W = x.shape[3]!;
  const { kh, kw, sh, sw, top, bottom, left, right, outH, outW } = g;
  chargeWork(x.shape[0]! * x.shape[1]! * outH * outW * Math.min(kh, H) * Math.min(kw, W), 'avgPool2d', x.shape[0]!);
  const includePad = options.countIncludePad ?? true;
  // The window bounds and 1/divisor depend only on (oh, ow): compute once.
  const { start: rowStart, end: rowEnd, span: rowCount } = paddedWindows(outH, H, kh, sh, top, bottom);
  const { start: colStart, end: colEnd, span: colCount } = paddedWindows(outW, W, kw, sw, left, right);
  const outPlane = outH * outW;
  const scale = new Float64Array(outPlane);
  for (let oh = 0; oh < outH; oh++) {
    for (let ow = 0; ow < outW; ow++) {
      const divisor = includePad
        ? rowCount[oh]! * colCount[ow]!
        : Math.max(0, rowEnd[oh]! - rowStart[oh]!) * Math.max(0, colEnd[ow]! - colStart[ow]!);
      // A window with no input cell (possible only with big asymmetric pads) averages to 0.
      scale[oh * outW + ow] = divisor > 0 ? 1 / divisor : 0;
    }
  }
  return windowMean('avgPool2d', x, rowStart, rowEnd, colStart, colEnd, scale);
}

/**
 * The windows of one axis of an average pool: [start, end) clipped to the
 * input, and the span the window covers of input + padding (ceil-mode
 * overhang past the trailing padding does not count).
 */
function paddedWindows(
  count: number,
  size: number,
  k: number,
  s: number,
  padBefore: number,
  padAfter: number,
): { start: Int32Array; end: Int32Array; span: Int32Array } {
  const start = new Int32Array(count);
  const end = new Int32Array(count);
  const span = new Int32Array(count);
  for (let o = 0; o < count; o++) {
    const first = o * s - padBefore;
    const last = Math.min(first + k, size + padAfter);
    span[o] = last - first;
    start[o] = Math.max(first, 0);
    end[o] = Math.min(last, size);
  }
  return { start, end, span };
}

/** Adaptive average pooling to an output size (PyTorch's start/end index rule). */
export function adaptiveAvgPool2d(x: Tensor, outputSize: Pair): Tensor {
  const [, , H, W] = imageShape(x, 'adaptiveAvgPool2d');
  const [outH, outW] = pair(outputSize, 'outputSize', 'adaptiveAvgPool2d', 1);
  // start = floor(i * in / out), end = ceil((i + 1) * in / out)
  const bounds = (size: number, out: number): [Int32Array, Int32Array] => {
    const start = new Int32Array(out);
    const end = new Int32Array(out);
    for (let i = 0; i < out; i++) {
      start[i] = Math.floor((i * size) / out);
      end[i] = Math.ceil(((i + 1) * size) / out);
    }
    return [start, end];
  };
  const [rowStart, rowEnd] = bounds(H, outH);
  const [colStart, colEnd] = bounds(W, outW);
  const scale = new Float64Array(outH * outW);
  for (let oh = 0; oh < outH; oh++) {
    for (let ow = 0; ow < outW; ow++) {
      scale[oh * outW + ow] = 1 / ((rowEnd[oh]! - rowStart[oh]!) * (colEnd[ow]! - colStart[ow]!));
    }
  }
  return windowMean('adaptiveAvgPool2d', x, rowStart, rowEnd, colStart, colEnd, scale);
}

/**
 * What both average pools come down to: out[n, c, oh, ow] = scale[oh, ow] *
 * the sum of x[n, c, ih, iw] over rowStart[oh] <= ih < rowEnd[oh],
 * colStart[ow] <= iw < colEnd[ow]; the backward spreads each gradient back
 * over the same window with the same scale.
 */
function windowMean(
  op: string,
  x: Tensor,
  rowStart: Int32Array,
  rowEnd: Int32Array,
  colStart: Int32Array,
  colEnd: Int32Array,
  scale: Float64Array,
): Tensor {
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const window: WindowSpec = { planes: N * C, H, W, rowStart, rowEnd, colStart, colEnd, scale };
  const out = allocate(window.planes * rowStart.length * colStart.length, op);
  windowMeanForward(window, x.data, out);
  const result = new Tensor(out, [N, C, rowStart.length, colStart.length]);
  return record(op, result, [x], (gradOutput) => {
    const dx = new Float32Array(x.size);
    windowMeanBackward(window, gradOutput.data, dx);
    return [new Tensor(dx, x.shape)];
  }, { tangent: ([dx]) => windowMean(op, dx!, rowStart, rowEnd, colStart, colEnd, scale) });
}

/** An average pool's windows over `planes` planes of H x W (see windowMean). */
interface WindowSpec {
  planes: number;
  H: number;
  W: number;
  rowStart: Int32Array;
  rowEnd: Int32Array;
  colStart: Int32Array;
  colEnd: Int32Array;
  scale: Float64Array;
}

// The loops are top-level functions rather than in the closures: V8 optimises
// a loop in a fresh closure again at each call (ResNet's average pool backward
// was recompiled once per batch, boxing a number per element until it was).

function windowMeanForward(w: WindowSpec, src: Float32Array, out: Float32Array): void {
  const { planes, H, W, rowStart, rowEnd, colStart, colEnd, scale } = w;
  const outH = rowStart.length;
  const outW = colStart.length;
  const outPlane = outH * outW;
  for (let p = 0; p < planes; p++) {
    const base = p * H * W;
    for (let oh = 0; oh < outH; oh++) {
      const h0 = rowStart[oh]!;
      const h1 = rowEnd[oh]!;
      for (let ow = 0; ow < outW; ow++) {
        const w0 = colStart[ow]!;
        const w1 = colEnd[ow]!;
        let sum = 0;
        for (let ih = h0; ih < h1; ih++) {
          const row = base + ih * W;
          for (let iw = w0; iw < w1; iw++) sum += src[row + iw]!;
        }
        const k = oh * outW + ow;
        out[p * outPlane + k] = sum * scale[k]!;
      }
    }
  }
}

/** Spread each output gradient over its window, times the window's scale, into dx (zeros on entry). */
function windowMeanBackward(w: WindowSpec, go: Float32Array, dx: Float32Array): void {
  const { planes, H, W, rowStart, rowEnd, colStart, colEnd, scale } = w;
  const outH = rowStart.length;
  const outW = colStart.length;
  const outPlane = outH * outW;
  for (let p = 0; p < planes; p++) {
    const base = p * H * W;
    for (let oh = 0; oh < outH; oh++) {
      for (let ow = 0; ow < outW; ow++) {
        const k = oh * outW + ow;
        const share = go[p * outPlane + k]! * scale[k]!;
        for (let ih = rowStart[oh]!; ih < rowEnd[oh]!; ih++) {
          const row = base + ih * W;
          for (let iw = colStart[ow]!; iw < colEnd[ow]!; iw++) dx[row + iw] = dx[row + iw]! + share;
        }
      }
    }
  }
}

// ---------------------------------------------------------------------------
// global pooling

/** Mean over H and W, keeping them: [N,C,H,W] -> [N,C,1,1]. */
export function globalAvgPool2d(x: Tensor): Tensor {
  const [N, C, H, W] = imageShape(x, 'globalAvgPool2d');
  const plane = H * W;
  const out = new Float32Array(N * C);
  const src = x.data;
  for (let p = 0; p < out.length; p++) {
    let sum = 0;
    const base = p * plane;
    for (let i = 0; i < plane; i++) sum += src[base + i]!;
    out[p] = sum / plane;
  }
  const result = new Tensor(out, [N, C, 1, 1]);
  return record('globalAvgPool2d', result, [x], (gradOutput) => {
    const dx = new Float32Array(x.size);
    const go = gradOutput.data;
    for (let p = 0; p < out.length; p++) dx.fill(go[p]! / plane, p * plane, (p + 1) * plane);
    return [new Tensor(dx, x.shape)];
  }, { tangent: ([dx]) => globalAvgPool2d(dx!) });
}

/**
 * Max over H and W, keeping them: [N,C,H,W] -> [N,C,1,1]. The gradient goes
 * to the first maximum, as maxPool2d (and PyTorch's adaptive_max_pool2d(x, 1)).
 */
export function globalMaxPool2d(x: Tensor): Tensor {
  const [N, C, H, W] = imageShape(x, 'globalMaxPool2d');
  const plane = H * W;
  const out = new Float32Array(N * C);
  const argmax = new Int32Array(N * C);
  const src = x.data;
  for (let p = 0; p < out.length; p++) {
    const base = p * plane;
    let best = -Infinity;
    let at = 0;
    for (let i = 0; i < plane; i++) {
      const v = src[base + i]!;
      if (v > best || v !== v) {
        best = v;
        at = i;
      }
    }
    out[p] = best;
    argmax[p] = at;
  }
  const result = new Tensor(out, [N, C, 1, 1]);
  return record('globalMaxPool2d', result, [x], (gradOutput) => [scatterToArgmax(gradOutput, argmax, x.shape, 1)], {
    tangent: ([dx]) => gatherFromArgmax(dx!, argmax, result.shape, 1),
  });
}
