import { noGrad } from '../tensor/autograd.js';
import { interpolate } from '../tensor/ops/interpolate.js';
import { Tensor } from '../tensor/tensor.js';
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

/**
 * Scale each of the `count` images of `data` (each `size` values) in place:
 * 'minmax' is (x - min) / (max(x - min) + 1e-7), 'max' is x / max (zeros when
 * max <= 0). A constant image becomes all zeros in both modes (for 'max'
 * that departs from x / max, which would make it all ones: a flat map
 * carries no location, and tinycam's rule is that it reads as zeros). Non-finite values are set
 * to 0 first, so no NaN ever leaves this function.
 */
export function normalizeImages(data: Float32Array, count: number, size: number, mode: Normalization): void {
  for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i]!)) data[i] = 0;
  if (mode === 'none') return;
  for (let n = 0; n < count; n++) {
    const start = n * size;
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = start; i < start + size; i++) {
      const v = data[i]!;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    if (mode === 'minmax') {
      const scale = hi - lo + MINMAX_EPS;
      for (let i = start; i < start + size; i++) data[i] = (data[i]! - lo) / scale;
    } else if (hi > 0 && hi > lo) {
      for (let i = start; i < start + size; i++) data[i] = data[i]! / hi;
    } else {
      data.fill(0, start, start + size);
    }
  }
}

/** The per-layer map: ReLU (unless turned off) then per-image normalisation, at the layer's resolution. */
export function layerMap(raw: Tensor, options: PostprocessOptions, fallback: 'minmax' | 'max' = 'minmax'): Tensor {
  const [n, h, w] = raw.shape as [number, number, number];
  const data = raw.data.slice();
  if (options.relu ?? true) for (let i = 0; i < data.length; i++) if (data[i]! < 0) data[i] = 0;
  normalizeImages(data, n, h * w, normalization(options, fallback));
  return new Tensor(data, raw.shape);
}

/** Bilinear resize of [N,h,w] maps to [N,H,W] with half-pixel centres (align_corners=False, cv2.INTER_LINEAR). */
export function resizeMaps(maps: Tensor, height: number, width: number): Tensor {
  const [n, h, w] = maps.shape as [number, number, number];
  if (h === height && w === width) return maps;
  const resized = noGrad(() =>
    interpolate(new Tensor(maps.data, [n, 1, h, w]), { size: [height, width], mode: 'bilinear', alignCorners: false }),
  );
  return new Tensor(resized.data, [n, height, width]);
}

/**
 * pytorch-grad-cam's post-processing, written once: per layer ReLU and
 * normalisation, resize to the input's size, fuse the layers (mean, or max),
 * normalise again.
 */
export function postprocess(
  raws: readonly Tensor[],
  height: number,
  width: number,
  options: PostprocessOptions,
  fallback: 'minmax' | 'max' = 'minmax',
): { perLayer: Tensor[]; maps: Tensor } {
  const perLayer = raws.map((raw) => layerMap(raw, options, fallback));
  const resized = perLayer.map((m) => resizeMaps(m, height, width));
  const n = raws[0]!.shape[0]!;
  const fused = new Float32Array(n * height * width);
  if ((options.fuse ?? 'mean') === 'max') {
    fused.fill(-Infinity);
    for (const r of resized) for (let i = 0; i < fused.length; i++) if (r.data[i]! > fused[i]!) fused[i] = r.data[i]!;
  } else {
    for (const r of resized) for (let i = 0; i < fused.length; i++) fused[i] = fused[i]! + r.data[i]!;
    for (let i = 0; i < fused.length; i++) fused[i] = fused[i]! / resized.length;
  }
  normalizeImages(fused, n, height * width, normalization(options, fallback));
  return { perLayer, maps: new Tensor(fused, [n, height, width]) };
}
