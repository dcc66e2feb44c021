/**
 * Between scenes and the model: scenes to a normalised input batch, and the
 * pointing game that scores a saliency map against a scene's true box.
 */
import { Tensor } from '../../src/tensor/tensor.js';
import { ArgumentError, ShapeError } from '../../src/tensor/errors.js';
import { IMAGENET_MEAN, IMAGENET_STD } from '../../src/image/normalize.js';
import type { Scene } from './generate.js';

/** Scenes to a float32 batch [N, 3, H, W] holding (rgb / 255 - mean) / std. */
export function scenesToTensor(scenes: readonly Scene[]): Tensor {
  if (scenes.length === 0) throw new ArgumentError('scenesToTensor: no scenes given; pass at least one');
  const { width, height } = scenes[0]!;
  const plane = width * height;
  const data = new Float32Array(scenes.length * 3 * plane);
  for (let n = 0; n < scenes.length; n++) {
    const scene = scenes[n]!;
    if (scene.width !== width || scene.height !== height) {
      throw new ShapeError(`scenesToTensor: scene ${n} is ${scene.width}x${scene.height}, the first is ${width}x${height}; all scenes must have one size`);
    }
    const rgb = scene.rgb;
    for (let c = 0; c < 3; c++) {
      // The same float32 arithmetic as the fixtures' (png/255 - mean)/std.
      const mean = Math.fround(IMAGENET_MEAN[c]!);
      const std = Math.fround(IMAGENET_STD[c]!);
      const base = (n * 3 + c) * plane;
      for (let p = 0; p < plane; p++) data[base + p] = (Math.fround(rgb[p * 3 + c]! / 255) - mean) / std;
    }
  }
  return new Tensor(data, [scenes.length, 3, height, width]);
}

/** A scene as an ImageData-shaped RGBA picture (what tinycam/image's overlay, grid and encodePng take). */
export function sceneToImage(scene: Scene): { width: number; height: number; data: Uint8ClampedArray } {
  const n = scene.width * scene.height;
  const data = new Uint8ClampedArray(n * 4);
  for (let p = 0; p < n; p++) {
    data[p * 4] = scene.rgb[p * 3]!;
    data[p * 4 + 1] = scene.rgb[p * 3 + 1]!;
    data[p * 4 + 2] = scene.rgb[p * 3 + 2]!;
    data[p * 4 + 3] = 255;
  }
  return { width: scene.width, height: scene.height, data };
}

/** The (x, y) of the first maximum of map `index` of a batch of maps [N, H, W]. */
export function peakOf(maps: Tensor, index: number): { x: number; y: number } {
  if (maps.ndim !== 3) throw new ShapeError(`peakOf: maps must be [N, H, W]; got [${maps.shape.join(', ')}]`);
  const [, h, w] = maps.shape as [number, number, number];
  const base = index * h * w;
  let best = base;
  for (let i = base + 1; i < base + h * w; i++) if (maps.data[i]! > maps.data[best]!) best = i;
  const offset = best - base;
  return { x: offset % w, y: Math.floor(offset / w) };
}

/**
 * Pointing game (Zhang et al., 2016, as the fixtures score it): a hit when
 * the map's maximum lies inside the true box. The map must be at the scene's
 * resolution (upsample first).
 */
export function pointingHit(maps: Tensor, index: number, box: readonly [number, number, number, number]): boolean {
  const { x, y } = peakOf(maps, index);
  const [x0, y0, x1, y1] = box;
  return x >= x0 && x <= x1 && y >= y0 && y <= y1;
}
