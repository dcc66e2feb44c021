import { noGrad } from '../tensor/autograd.js';
import { interpolateLinearTaps, resample, type AxisTaps } from '../tensor/ops/resample.js';
import { ArgumentError, ShapeError } from '../tensor/errors.js';
import { Tensor, shapeString } from '../tensor/tensor.js';
import type { PostprocessOptions } from './types.js';

/** pytorch-grad-cam's eps in scale_cam_image. */
const MINMAX_EPS = 1e-7;

type Normalization = 'minmax' | 'max' | 'none';

function normalization(options: PostprocessOptions, fallback: 'minmax' | 'max'): Normalization {
  const n = options.normalize;
  if (n === undefined || n === true) return fallback;
  if (n === false) return 'none';
  return n;
}

/** Reject option values the post-processing does not know, before any work is done. */
export function checkPostprocessOptions(options: PostprocessOptions, fn: string): void {
  const { relu, normalize, fuse } = options;
  if (relu !== undefined && typeof relu !== 'boolean') {
    throw new ArgumentError(`${fn}: 'relu' must be true or false; got ${JSON.stringify(relu)}`);
  }
  if (normalize !== undefined && typeof normalize !== 'boolean' && normalize !== 'minmax' && normalize !== 'max') {
    throw new ArgumentError(`${fn}: 'normalize' must be true, false, 'minmax' or 'max'; got ${JSON.stringify(normalize)}`);
  }
  if (fuse !== undefined && fuse !== 'mean' && fuse !== 'max') {
    throw new ArgumentError(`${fn}: 'fuse' must be 'mean' or 'max'; got ${JSON.stringify(fuse)}`);
  }
}

/**
 * Scale each of the `count` images of `data` (each `size` values) in place:
 * 'minmax' is (x - min) / (max(x - min) + 1e-7), 'max' is x / max (zeros when
 * max <= 0). A constant image becomes all zeros in both modes (for 'max'
 * that departs from x / max, which would make it all ones: a flat map
 * carries no location, and tinycam's rule is that it reads as zeros). Non-finite values are set
 * to 0 first, so no NaN ever leaves this function. `data` holds exactly
 * `count` images.
 */
export function normalizeImages(data: Float32Array, count: number, size: number, mode: Normalization): void {
  // One pass per image finds the range and zeroes non-finite values, one more scales (fewer passes: a map of 224x224 is
  // normalised once per call, usually before the JIT has optimised this function).
  for (let n = 0; n < count; n++) {
    const start = n * size;
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = start; i < start + size; i++) {
      let v = data[i]!;
      if (!Number.isFinite(v)) data[i] = v = 0;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    if (mode === 'minmax') {
      const scale = hi - lo + MINMAX_EPS;
      for (let i = start; i < start + size; i++) data[i] = (data[i]! - lo) / scale;
    } else if (mode === 'max') {
      if (hi > 0 && hi > lo) for (let i = start; i < start + size; i++) data[i] = data[i]! / hi;
      else data.fill(0, start, start + size);
    }
  }
}

/** The number of values per image of a map batch [N, ...spatial]. */
const perImage = (t: Tensor): number => t.size / t.shape[0]!;

/** The per-layer map: ReLU (unless turned off) then per-image normalisation, at the layer's resolution. */
export function layerMap(raw: Tensor, options: PostprocessOptions, fallback: 'minmax' | 'max' = 'minmax'): Tensor {
  const data = raw.data.slice();
  if (options.relu ?? true) for (let i = 0; i < data.length; i++) if (data[i]! < 0) data[i] = 0;
  normalizeImages(data, raw.shape[0]!, perImage(raw), normalization(options, fallback));
  return new Tensor(data, raw.shape);
}

/**
 * Resize maps [N, ...spatial] to `size` (1 to 3 axes) by linear
 * interpolation along each axis: bilinear for images (with half-pixel
 * centres, cv2.INTER_LINEAR, as pytorch-grad-cam), linear for signals,
 * trilinear for volumes (pytorch-grad-cam uses scipy's cubic-spline zoom
 * there; tinycam keeps the interpolation linear, so a map never leaves the
 * range of its values). `alignCorners` maps corner to corner instead
 * (Score-CAM's masks). The engine's separable resampler does the work,
 * with F.interpolate's linear taps.
 */
export function resizeMaps(maps: Tensor, size: readonly number[], options: { alignCorners?: boolean } = {}): Tensor {
  const spatial = maps.shape.slice(1);
  const rank = spatial.length;
  if (rank !== size.length || (rank !== 1 && rank !== 2 && rank !== 3) || !size.every((d) => Number.isInteger(d) && d >= 1)) {
    throw new ShapeError(`resizeMaps: maps of shape ${shapeString(maps.shape)} cannot be resized to [${size.join(', ')}]; give one positive integer size per spatial axis (1 to 3)`);
  }
  if (spatial.every((d, i) => d === size[i])) return maps;
  const axes = new Map<number, AxisTaps>();
  spatial.forEach((d, i) => axes.set(1 + i, interpolateLinearTaps(d, size[i]!, options.alignCorners ?? false)));
  return noGrad(() => resample(maps.detach(), axes));
}

/**
 * pytorch-grad-cam's post-processing, written once: per layer ReLU and
 * normalisation, resize to the input's spatial size, fuse the layers (mean,
 * or max), normalise again.
 */
export function postprocess(
  raws: readonly Tensor[],
  size: readonly number[],
  options: PostprocessOptions,
  fallback: 'minmax' | 'max' = 'minmax',
): { perLayer: Tensor[]; maps: Tensor } {
  const perLayer = raws.map((raw) => layerMap(raw, options, fallback));
  const resized = perLayer.map((m) => resizeMaps(m, size));
  const n = raws[0]!.shape[0]!;
  const count = size.reduce((a, b) => a * b, 1);
  // One layer is fused as it is ((0 + x) / 1 = x, finite maps): a native copy, not two loops the JIT has not compiled yet.
  const single = resized.length === 1;
  const fused = single ? resized[0]!.data.slice() : new Float32Array(n * count);
  if (single) {
    // nothing to fuse
  } else if ((options.fuse ?? 'mean') === 'max') {
    fused.fill(-Infinity);
    for (const r of resized) for (let i = 0; i < fused.length; i++) if (r.data[i]! > fused[i]!) fused[i] = r.data[i]!;
  } else {
    for (const r of resized) for (let i = 0; i < fused.length; i++) fused[i] = fused[i]! + r.data[i]!;
    for (let i = 0; i < fused.length; i++) fused[i] = fused[i]! / resized.length;
  }
  normalizeImages(fused, n, count, normalization(options, fallback));
  return { perLayer, maps: new Tensor(fused, [n, ...size]) };
}
