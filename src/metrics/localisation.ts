import { ArgumentError, ShapeError } from '../tensor/errors.js';
import { Tensor, shapeString } from '../tensor/tensor.js';
import { checkImages, checkMaps, mapData, type Layout } from './checks.js';
import type { Box } from '../cam/boxTarget.js';
import type { Scorable } from './types.js';

/**
 * Localisation metrics: does the map put its weight on the object? They
 * need no model (pass null or the model, it is not called) and compare each
 * map with a ground-truth region: boxes or masks.
 */

/** Boxes here are [x0, y0, x1, y1] in pixels, inclusive: pixel (x, y) is inside when x0 <= x <= x1 and y0 <= y <= y1. */

export interface RegionOptions {
  /** One box per image (or one for all), inclusive pixel corners [x0, y0, x1, y1]. */
  boxes?: Box | readonly Box[];
  /** [N, H, W] (or [H, W] for all images): nonzero inside the object. */
  masks?: Tensor;
}

export interface LocalisationResult {
  /** One value per image. */
  value: Float32Array;
  /** The mean of `value` over the images. */
  mean: number;
}

/** The ground-truth region of each image as 0/1 per position. */
function regions(options: RegionOptions, layout: Layout, fn: string): Uint8Array[] {
  const { n, height, width, positions } = layout;
  if ((options.boxes === undefined) === (options.masks === undefined)) {
    throw new ArgumentError(`${fn}: give the object's region as either 'boxes' ([x0, y0, x1, y1] inclusive pixels, one per image) or 'masks' (a Tensor [N, H, W]), not ${options.boxes ? 'both' : 'neither'}`);
  }
  let out: Uint8Array[];
  if (options.masks !== undefined) {
    const m = options.masks;
    if (!(m instanceof Tensor)) throw new ArgumentError(`${fn}: masks must be a Tensor [${n}, ${height}, ${width}]`);
    const perImage = m.shape.length === 2 && m.shape[0] === height && m.shape[1] === width;
    const batch = m.shape.length === 3 && m.shape[0] === n && m.shape[1] === height && m.shape[2] === width;
    if (!perImage && !batch) throw new ShapeError(`${fn}: masks has shape ${shapeString(m.shape)}; accepted: [${n}, ${height}, ${width}] or [${height}, ${width}], at the maps' size`);
    out = Array.from({ length: n }, (_, i) => Uint8Array.from(m.data.subarray(perImage ? 0 : i * positions, (perImage ? 1 : i + 1) * positions), (v) => (v !== 0 ? 1 : 0)));
  } else {
    const given = options.boxes!;
    const list: readonly Box[] = typeof given[0] === 'number' ? new Array<Box>(n).fill(given as Box) : (given as readonly Box[]);
    if (list.length !== n) throw new ArgumentError(`${fn}: ${list.length} boxes for ${n} image(s); give one box per image, or one for all`);
    out = list.map((box, i) => {
      if (!Array.isArray(box) || box.length !== 4 || !box.every((v) => Number.isFinite(v))) {
        throw new ArgumentError(`${fn}: box ${i} must be [x0, y0, x1, y1] (inclusive pixel coordinates); got ${JSON.stringify(box)}`);
      }
      const [x0, y0, x1, y1] = box;
      const inside = new Uint8Array(positions);
      for (let y = Math.max(0, Math.ceil(y0)); y <= Math.min(height - 1, Math.floor(y1)); y++) {
        for (let x = Math.max(0, Math.ceil(x0)); x <= Math.min(width - 1, Math.floor(x1)); x++) inside[y * width + x] = 1;
      }
      return inside;
    });
  }
  out.forEach((r, i) => {
    if (!r.some((v) => v)) throw new ArgumentError(`${fn}: the region of image ${i} is empty (no pixel of the ${height}x${width} map lies inside it); the metric needs a non-empty object region`);
  });
  return out;
}

function setup(input: Tensor, maps: Tensor, fn: string) {
  const layout = checkImages(input, fn);
  return { layout, values: checkMaps(maps, layout, fn) };
}

function result(value: Float32Array): LocalisationResult {
  let total = 0;
  for (const v of value) total += v;
  return { value, mean: total / value.length };
}

export interface PointingGameOptions extends RegionOptions {
  /**
   * A hit when the maximum lies within this many pixels of the region
   * (strictly closer, as TorchRay's (dx^2 + dy^2) < tolerance^2), or inside it.
   * Default 15, TorchRay's; Quantus's PointingGame is tolerance 0.
   */
  tolerance?: number;
  /**
   * Which maxima are tested: 'first' (default: the first in row-major order,
   * as argmax gives TorchRay its point) or 'any' (Quantus: a hit when any
   * position holding the maximum value hits).
   */
  ties?: 'first' | 'any';
}

export interface PointingGameResult extends LocalisationResult {
  /** The tested point (x, y) of each image: its first maximum. */
  points: [number, number][];
}

/**
 * The pointing game (Zhang et al. 2016): 1 when the map's maximum hits the
 * object, else 0, per image; `mean` is the accuracy. TorchRay's benchmark
 * by default; { tolerance: 0, ties: 'any' } is Quantus's.
 */
export function pointingGame(_model: Scorable | null, input: Tensor, maps: Tensor, options: PointingGameOptions = {}): PointingGameResult {
  const fn = 'pointingGame';
  const { layout, values } = setup(input, maps, fn);
  const tolerance = options.tolerance ?? 15;
  if (typeof tolerance !== 'number' || !(tolerance >= 0) || !Number.isFinite(tolerance)) throw new ArgumentError(`${fn}: tolerance must be a number of pixels >= 0; got ${String(tolerance)}`);
  const ties = options.ties ?? 'first';
  if (ties !== 'first' && ties !== 'any') throw new ArgumentError(`${fn}: ties must be 'first' or 'any'; got ${String(ties)}`);
  const inside = regions(options, layout, fn);
  const { width, height } = layout;
  const hitsAt = (region: Uint8Array, px: number, py: number): boolean => {
    if (region[py * width + px]) return true;
    const r = Math.ceil(tolerance);
    for (let y = Math.max(0, py - r); y <= Math.min(height - 1, py + r); y++) {
      for (let x = Math.max(0, px - r); x <= Math.min(width - 1, px + r); x++) {
        if (region[y * width + x] && (x - px) ** 2 + (y - py) ** 2 < tolerance * tolerance) return true;
      }
    }
    return false;
  };
  const points: [number, number][] = [];
  const value = new Float32Array(layout.n);
  for (let i = 0; i < layout.n; i++) {
    const map = mapData(values, layout, i);
    let best = 0;
    for (let p = 1; p < map.length; p++) if (map[p]! > map[best]!) best = p;
    points.push([best % width, Math.floor(best / width)]);
    const candidates = ties === 'first' ? [best] : [...map.keys()].filter((p) => map[p] === map[best]);
    value[i] = candidates.some((p) => hitsAt(inside[i]!, p % width, Math.floor(p / width))) ? 1 : 0;
  }
  return { ...result(value), points };
}

/**
 * Score-CAM's energy-based pointing game (Wang et al. 2020): the share of the
 * map's energy inside the box, sum_inside max(map, 0) / sum_all max(map, 0)
 * (Score-CAM's maps are non-negative; negative values count as no energy).
 * 0 for a map without energy.
 */
export function energyPointingGame(_model: Scorable | null, input: Tensor, maps: Tensor, options: RegionOptions = {}): LocalisationResult {
  const fn = 'energyPointingGame';
  const { layout, values } = setup(input, maps, fn);
  const inside = regions(options, layout, fn);
  const value = new Float32Array(layout.n);
  for (let i = 0; i < layout.n; i++) {
    const map = mapData(values, layout, i);
    let within = 0;
    let total = 0;
    for (let p = 0; p < map.length; p++) {
      const e = Math.max(map[p]!, 0);
      total += e;
      if (inside[i]![p]) within += e;
    }
    value[i] = total > 0 ? within / total : 0;
  }
  return result(value);
}

export interface RelevanceOptions extends RegionOptions {
  /** Take |map| first (Quantus's `abs`, default false). */
  abs?: boolean;
}

/**
 * Quantus's RelevanceMassAccuracy (Arras et al. 2022): sum of the map inside
 * the region / sum of the whole map (signed unless `abs`). 0 when the map sums to 0.
 */
export function relevanceMass(_model: Scorable | null, input: Tensor, maps: Tensor, options: RelevanceOptions = {}): LocalisationResult {
  const fn = 'relevanceMass';
  const { layout, values } = setup(input, maps, fn);
  const inside = regions(options, layout, fn);
  const value = new Float32Array(layout.n);
  for (let i = 0; i < layout.n; i++) {
    const map = mapData(values, layout, i);
    let within = 0;
    let total = 0;
    for (let p = 0; p < map.length; p++) {
      const v = options.abs ? Math.abs(map[p]!) : map[p]!;
      total += v;
      if (inside[i]![p]) within += v;
    }
    value[i] = total !== 0 ? within / total : 0;
  }
  return result(value);
}

/**
 * Quantus's RelevanceRankAccuracy (Arras et al. 2022): with K the region's
 * size in pixels, the fraction of the map's K highest positions that lie in
 * the region (ties in index order).
 */
export function relevanceRank(_model: Scorable | null, input: Tensor, maps: Tensor, options: RelevanceOptions = {}): LocalisationResult {
  const fn = 'relevanceRank';
  const { layout, values } = setup(input, maps, fn);
  const inside = regions(options, layout, fn);
  const value = new Float32Array(layout.n);
  for (let i = 0; i < layout.n; i++) {
    const map = mapData(values, layout, i);
    const v = options.abs ? map.map(Math.abs) : map;
    const order = Int32Array.from(v, (_, p) => p).sort((a, b) => v[b]! - v[a]! || a - b);
    const region = inside[i]!;
    let k = 0;
    for (const r of region) k += r;
    let hits = 0;
    for (let q = 0; q < k; q++) hits += region[order[q]!]!;
    value[i] = hits / k;
  }
  return result(value);
}
