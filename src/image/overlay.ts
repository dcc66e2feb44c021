import { ArgumentError, ShapeError } from '../tensor/errors.js';
import { Tensor, shapeString } from '../tensor/tensor.js';
import { sharedTable, type ColormapName } from './colormap.js';
import { resize } from './resize.js';
import { createImage, type RgbaImage } from './types.js';
import { checkImage, optionsOf } from './validate.js';

const f = Math.fround;

/** The [H, W] plane of a map given as [H, W], [1, H, W] or [1, 1, H, W]. */
export function mapPlane(fn: string, map: Tensor): { height: number; width: number; data: Float32Array } {
  if (!(map instanceof Tensor)) throw new ArgumentError(`${fn}: the map must be a Tensor [H, W], [1, H, W] or [1, 1, H, W]`);
  const s = map.shape;
  const ok = s.length >= 2 && s.length <= 4 && s.slice(0, -2).every((d) => d === 1);
  if (!ok || s[s.length - 1]! < 1 || s[s.length - 2]! < 1) {
    throw new ShapeError(`${fn}: expected one map [H, W], [1, H, W] or [1, 1, H, W], got ${shapeString(s)}`);
  }
  return { height: s[s.length - 2]!, width: s[s.length - 1]!, data: map.data };
}

/** The colour index of a map value, as np.uint8(255 * map): truncated; values outside [0, 1] (and NaN) clamp. */
function colourIndex(v: number): number {
  if (!(v > 0)) return 0;
  if (v >= 1) return 255;
  return Math.trunc(f(v * 255));
}

/** Colours a map with values in [0, 1] (as cv2.applyColorMap(np.uint8(255 * map))), RGB order, opaque. */
export function applyColormap(map: Tensor, name: ColormapName = 'jet'): RgbaImage {
  const plane = mapPlane('applyColormap', map);
  const table = sharedTable('applyColormap', name);
  const out = createImage(plane.width, plane.height);
  const n = plane.width * plane.height;
  for (let i = 0; i < n; i++) {
    const k = colourIndex(plane.data[i]!) * 3;
    out.data[i * 4] = table[k]!;
    out.data[i * 4 + 1] = table[k + 1]!;
    out.data[i * 4 + 2] = table[k + 2]!;
    out.data[i * 4 + 3] = 255;
  }
  return out;
}

export type BlendName = 'seed' | 'pytorch-grad-cam';

export interface OverlayOptions {
  colormap?: ColormapName;
  /**
   * Weight of the heat-map; the image gets 1 - alpha. Default 0.4 for the
   * seed's blend (0.4 heat, 0.6 image), 0.5 for pytorch-grad-cam's
   * (show_cam_on_image's image_weight = 0.5).
   */
  alpha?: number;
  /**
   * 'seed' (default): cam = alpha * heat + (1 - alpha) * image, cam / max(cam).
   * 'pytorch-grad-cam': show_cam_on_image, (1 - image_weight) * heat +
   * image_weight * image, / max. The two are the same formula; they differ
   * in their default weights, and are named so results can be matched to
   * either source.
   */
  blend?: BlendName;
}

/**
 * Lays a coloured map over an image, in RGB order: the map (values in [0, 1])
 * is resized to the image with the engine's bilinear (half-pixel centres, as
 * cv2.resize INTER_LINEAR) if needed, coloured, blended with the image in
 * float32 and renormalised by the blend's maximum, then written as
 * np.uint8(255 * cam) (truncated). The image's alpha is ignored; the result
 * is opaque.
 */
export function overlay(image: RgbaImage, map: Tensor, options?: OverlayOptions): RgbaImage {
  checkImage('overlay', image);
  const o = optionsOf('overlay', options);
  const blend = o.blend ?? 'seed';
  if (blend !== 'seed' && blend !== 'pytorch-grad-cam') {
    throw new ArgumentError(`overlay: unknown blend '${String(blend)}'; accepted: 'seed', 'pytorch-grad-cam'`);
  }
  const alpha = o.alpha ?? (blend === 'seed' ? 0.4 : 0.5);
  if (typeof alpha !== 'number' || !(alpha >= 0 && alpha <= 1)) {
    throw new ArgumentError(`overlay: alpha must be in [0, 1], got ${typeof alpha === 'string' ? JSON.stringify(alpha) : String(alpha)}`);
  }
  let plane = mapPlane('overlay', map);
  if (plane.width !== image.width || plane.height !== image.height) {
    const m2 = new Tensor(plane.data, [plane.height, plane.width]);
    plane = mapPlane('overlay', resize(m2, { width: image.width, height: image.height }));
  }
  const table = sharedTable('overlay', o.colormap ?? 'jet');
  const n = image.width * image.height;
  // Both terms take 256 values each, so they are tabulated once, in the
  // float32 arithmetic numpy uses: weight * (colour / 255).
  const heatWeight = f(alpha);
  const imageWeight = f(1 - alpha);
  const heatTerm = new Float32Array(768);
  for (let i = 0; i < 768; i++) heatTerm[i] = heatWeight * f(table[i]! / 255);
  const imageTerm = new Float32Array(256);
  for (let v = 0; v < 256; v++) imageTerm[v] = imageWeight * f(v / 255);
  const cam = new Float32Array(n * 3);
  let max = 0;
  const px = image.data;
  for (let i = 0; i < n; i++) {
    const k = colourIndex(plane.data[i]!) * 3;
    for (let c = 0; c < 3; c++) {
      const v = f(heatTerm[k + c]! + imageTerm[px[i * 4 + c]!]!);
      cam[i * 3 + c] = v;
      if (v > max) max = v;
    }
  }
  const out = createImage(image.width, image.height);
  const dst = out.data;
  const maxF = f(max);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < 3; c++) dst[i * 4 + c] = maxF > 0 ? Math.trunc(f(255 * f(cam[i * 3 + c]! / maxF))) : 0;
    dst[i * 4 + 3] = 255;
  }
  return out;
}
