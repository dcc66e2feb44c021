import { ArgumentError, ShapeError } from '../tensor/errors.js';
import { Tensor, shapeString } from '../tensor/tensor.js';
import { riseBlur, type BlurOptions } from './blur.js';
import { checkImages, checkMaps, imageData, mapData, positiveInteger, type Layout } from './checks.js';
import { selectInto, scoreVariants } from './perturb.js';
import { withScorer } from './scorer.js';
import type { MetricResult, Scorable, ScoringOptions } from './types.js';

/**
 * RISE's causal metrics (Petsiuk et al. 2018, eclique/RISE evaluation.py
 * CausalMetric): deletion replaces the pixels of the input with a substrate
 * from the most relevant down and records the score after each step;
 * insertion starts from the substrate and puts the image's pixels back in the
 * same order. The value is the area under the score curve (low for deletion
 * and high for insertion when the map is faithful).
 *
 * Two step conventions:
 * - 'rise' (default): `step` pixels per step (default: one image row's worth,
 *   RISE's 224 at 224 x 224), n = ceil(HW / step) steps, n + 1 scores, AUC =
 *   (sum - first/2 - last/2) / n. Order: descending map value; numpy's argsort
 *   leaves ties in an unstable order, here ties go from the last pixel index down
 *   (the flip of a stable ascending sort).
 * - 'torch-cam' (torchcam.metrics.DeletionInsertionMetric): `steps` intervals
 *   (default 20) of ceil(HW / steps) pixels, the last one shorter; AUC by the
 *   trapezoid rule over the actual fraction of pixels changed. Ties in index order.
 *
 * Substrates: RISE deletes to zeros and inserts onto the blurred image
 * (gkern(11, 5)); torch-cam uses zeros for both. Either can be chosen.
 */

export type Substrate = 'zero' | 'blur' | Tensor | ((input: Tensor) => Tensor);

export interface CausalOptions extends ScoringOptions {
  /** 'rise' (default) or 'torch-cam': how steps are cut and the area is summed. */
  convention?: 'rise' | 'torch-cam';
  /** Pixels per step, 'rise' convention (default: the image width). */
  step?: number;
  /** Number of intervals, 'torch-cam' convention (default 20). */
  steps?: number;
  /**
   * What removed pixels become: 'zero', 'blur' (RISE's blurred input), a
   * Tensor of the input's shape (or broadcast [1, C, H, W]), or a function of
   * the input. Default: RISE's, zeros for deletion and blur for insertion
   * ('rise'), zeros for both ('torch-cam').
   */
  substrate?: Substrate;
  /** RISE's blur kernel (default size 11, sigma 5). */
  blur?: BlurOptions;
}

export interface CausalResult extends MetricResult {
  /** [N][steps + 1]: the target score after each step. */
  curves: Float32Array[];
  /** The fraction of pixels changed at each point of the curve. */
  fractions: Float64Array;
  /** [N, C, H, W]: the substrate. */
  substrate: Tensor;
}

function substrateFor(kind: 'deletion' | 'insertion', input: Tensor, options: CausalOptions, fn: string): Tensor {
  const convention = options.convention ?? 'rise';
  const choice = options.substrate ?? (convention === 'rise' && kind === 'insertion' ? 'blur' : 'zero');
  if (choice === 'zero') return new Tensor(new Float32Array(input.size), input.shape);
  if (choice === 'blur') return riseBlur(input, options.blur);
  const given = typeof choice === 'function' ? choice(input) : choice;
  if (!(given instanceof Tensor)) {
    throw new ArgumentError(`${fn}: substrate must be 'zero', 'blur', a Tensor or a function returning one; got ${typeof given}`);
  }
  if (given.size === input.size && given.ndim === input.ndim && given.shape.every((s, i) => s === input.shape[i])) return given;
  const [n, ...rest] = input.shape;
  if (given.ndim === input.ndim && given.shape[0] === 1 && given.shape.slice(1).every((s, i) => s === rest[i])) {
    const data = new Float32Array(input.size);
    for (let i = 0; i < n!; i++) data.set(given.data, i * given.size);
    return new Tensor(data, input.shape);
  }
  throw new ShapeError(`${fn}: substrate has shape ${shapeString(given.shape)}; accepted: the input's shape ${shapeString(input.shape)} or [1, ${rest.join(', ')}]`);
}

/** Pixel indices from the most relevant down, with the convention's tie order. */
function salientOrder(map: Float32Array, convention: 'rise' | 'torch-cam'): Int32Array {
  const order = Int32Array.from(map, (_, i) => i);
  const tieDown = convention === 'rise';
  order.sort((a, b) => map[b]! - map[a]! || (tieDown ? b - a : a - b));
  return order;
}

/** The number of pixels changed at each point of the curve. */
function counts(positions: number, options: CausalOptions, layout: Layout, fn: string): { changed: number[]; fractions: Float64Array } {
  if ((options.convention ?? 'rise') === 'rise') {
    const step = positiveInteger(options.step ?? layout.width, 'step', fn);
    const n = Math.ceil(positions / step);
    const changed = Array.from({ length: n + 1 }, (_, i) => Math.min(i * step, positions));
    return { changed, fractions: Float64Array.from(changed, (_, i) => i / n) };
  }
  const steps = positiveInteger(options.steps ?? 20, 'steps', fn);
  const size = Math.ceil(positions / steps);
  const changed: number[] = [];
  for (let c = 0; c < positions; c += size) changed.push(c);
  changed.push(positions);
  return { changed, fractions: Float64Array.from(changed, (c) => c / positions) };
}

function area(curve: Float32Array, fractions: Float64Array, convention: 'rise' | 'torch-cam'): number {
  const n = curve.length - 1;
  if (convention === 'rise') {
    let s = 0;
    for (const v of curve) s += v;
    return (s - curve[0]! / 2 - curve[n]! / 2) / n;
  }
  let s = 0;
  for (let i = 0; i < n; i++) s += ((curve[i]! + curve[i + 1]!) / 2) * (fractions[i + 1]! - fractions[i]!);
  return s;
}

function causal(kind: 'deletion' | 'insertion', model: Scorable, input: Tensor, maps: Tensor, options: CausalOptions): CausalResult {
  const fn = kind;
  const convention = options.convention ?? 'rise';
  if (convention !== 'rise' && convention !== 'torch-cam') throw new ArgumentError(`${fn}: convention must be 'rise' or 'torch-cam'; got ${String(convention)}`);
  const layout = checkImages(input, fn);
  const mapValues = checkMaps(maps, layout, fn);
  const { changed, fractions } = counts(layout.positions, options, layout, fn);
  const substrate = substrateFor(kind, input, options, fn);
  return withScorer(model, input, options, fn, (scorer) => {
    const { n, positions } = layout;
    const points = changed.length;
    const orders = Array.from({ length: n }, (_, i) => salientOrder(mapData(mapValues, layout, i), convention));
    // The unperturbed image is a point of every curve and was scored already.
    const original = kind === 'deletion' ? 0 : points - 1;
    const jobs: { image: number; point: number }[] = [];
    for (let i = 0; i < n; i++) for (let t = 0; t < points; t++) if (t !== original) jobs.push({ image: i, point: t });
    const keep = new Uint8Array(positions);
    const scores = scoreVariants(scorer, layout, jobs.length, (k, out) => {
      const { image, point } = jobs[k]!;
      // Deletion keeps the image on the pixels not yet removed; insertion on those put back.
      const order = orders[image]!;
      keep.fill(kind === 'deletion' ? 1 : 0);
      for (let q = 0; q < changed[point]!; q++) keep[order[q]!] = kind === 'deletion' ? 0 : 1;
      selectInto(out, imageData(input, layout, image), imageData(substrate, layout, image), keep, layout);
      return image;
    });
    const curves = Array.from({ length: n }, (_, i) => {
      const curve = new Float32Array(points);
      curve[original] = scorer.before[i]!;
      return curve;
    });
    jobs.forEach((job, k) => (curves[job.image]![job.point] = scores[k]!));
    const value = Float32Array.from(curves, (curve) => area(curve, fractions, convention));
    return { value, targets: scorer.classes, scoreBefore: scorer.before, curves, fractions, substrate, cost: { ...scorer.cost } };
  });
}

/** RISE's deletion game: area under the score as the most relevant pixels are removed first (lower is better). */
export function deletion(model: Scorable, input: Tensor, maps: Tensor, options: CausalOptions = {}): CausalResult {
  return causal('deletion', model, input, maps, options);
}

/** RISE's insertion game: area under the score as the most relevant pixels are put back first (higher is better). */
export function insertion(model: Scorable, input: Tensor, maps: Tensor, options: CausalOptions = {}): CausalResult {
  return causal('insertion', model, input, maps, options);
}
