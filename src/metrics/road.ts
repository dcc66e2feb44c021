import { ArgumentError } from '../tensor/errors.js';
import { Rng } from '../tensor/random.js';
import { Tensor } from '../tensor/tensor.js';
import { checkImages, checkMaps, checkPercentile, imageData, mapData, type Layout } from './checks.js';
import { linearImpute } from './imputer.js';
import { percentile as numpyPercentile } from './percentile.js';
import { scoreVariants } from './perturb.js';
import { withScorer } from './scorer.js';
import type { MetricResult, Scorable, ScoringOptions } from './types.js';

/**
 * ROAD, RemOve And Debias (Rong et al. 2022), as pytorch-grad-cam's
 * metrics/road.py computes it: remove the pixels above a percentile of the
 * map (MoRF, most relevant first) or of 1 - map (LeRF), fill them by noisy
 * linear imputation, and report score(imputed) - score(input).
 */

export type RoadOrder = 'morf' | 'lerf';

export interface RoadNoiseOptions {
  /**
   * Standard deviation of the Gaussian noise added to imputed pixels: 0.01 by
   * default, as pytorch-grad-cam; 0 gives its numbers without randomness.
   */
  noise?: number;
  /** Seed of the noise (default 0), so runs repeat. */
  seed?: number;
}

export interface RoadOptions extends ScoringOptions, RoadNoiseOptions {
  /** 'morf' (default, ROADMostRelevantFirst) or 'lerf' (ROADLeastRelevantFirst). */
  order?: RoadOrder;
  /** Percentile in [0, 100]: 80 for MoRF and 20 for LeRF by default, as pytorch-grad-cam. */
  percentile?: number;
}

export interface RoadResult extends MetricResult {
  scoreAfter: Float32Array;
  /** Each image's threshold: numpy.percentile of the map (MoRF) or of 1 - map (LeRF), float64. */
  threshold: Float64Array;
  /** [N, H, W]: 1 where the pixel was kept (its ranking value is below the threshold), 0 where it was imputed. */
  keep: Tensor;
  /** [N, C, H, W]: the inputs that were scored. */
  imputed: Tensor;
}

interface Removal {
  threshold: number;
  keep: Uint8Array;
}

/**
 * pytorch-grad-cam's RemoveMostRelevantFirst / RemoveLeastRelevantFirst:
 * keep = value < numpy.percentile(value, p) with value = map (MoRF) or
 * 1 - map in float32 (LeRF); the comparison runs in float32, as torch
 * compares a float32 tensor with a Python float.
 */
function removal(map: Float32Array, order: RoadOrder, p: number): Removal {
  const values = order === 'morf' ? map : map.map((v) => 1 - v);
  const threshold = numpyPercentile(values, p);
  const limit = Math.fround(threshold);
  const keep = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) keep[i] = values[i]! < limit ? 1 : 0;
  return { threshold, keep };
}

function checkNoise(options: RoadNoiseOptions, fn: string): { noise: number; rng: Rng } {
  const noise = options.noise ?? 0.01;
  if (typeof noise !== 'number' || !Number.isFinite(noise) || noise < 0) {
    throw new ArgumentError(`${fn}: noise must be a finite number >= 0 (0 for no noise); got ${String(noise)}`);
  }
  return { noise, rng: new Rng(options.seed ?? 0) };
}

function checkOrder(order: unknown, fn: string): RoadOrder {
  if (order !== 'morf' && order !== 'lerf') throw new ArgumentError(`${fn}: order must be 'morf' (most relevant first) or 'lerf' (least relevant first); got ${String(order)}`);
  return order;
}

/** The imputed copies of every image for a list of (order, percentile) removals, scored in batches. */
function runRemovals(
  model: Scorable,
  input: Tensor,
  maps: Tensor,
  steps: readonly { order: RoadOrder; percentile: number }[],
  options: ScoringOptions & RoadNoiseOptions,
  fn: string,
) {
  const layout: Layout = checkImages(input, fn);
  const mapValues = checkMaps(maps, layout, fn);
  const { noise, rng } = checkNoise(options, fn);
  return withScorer(model, input, options, fn, (scorer) => {
    const size = layout.channels * layout.positions;
    const count = layout.n * steps.length;
    const removals: Removal[] = [];
    const imputed = new Float32Array(count * size);
    // variant k = step s of image i, k = s * n + i
    steps.forEach((step, s) => {
      for (let i = 0; i < layout.n; i++) {
        const r = removal(mapData(mapValues, layout, i), step.order, step.percentile);
        removals.push(r);
        const k = s * layout.n + i;
        imputed.set(linearImpute(imageData(input, layout, i), r.keep, layout, { noise, rng }), k * size);
      }
    });
    const after = scoreVariants(scorer, layout, count, (k, out) => {
      out.set(imputed.subarray(k * size, (k + 1) * size));
      return k % layout.n;
    });
    return { scorer, layout, removals, imputed, after };
  });
}

/**
 * ROADMostRelevantFirst / ROADLeastRelevantFirst(percentile) of
 * pytorch-grad-cam: value = score(imputed) - score(input) per image.
 * A faithful map makes MoRF drop the score a lot and LeRF little.
 */
export function road(model: Scorable, input: Tensor, maps: Tensor, options: RoadOptions = {}): RoadResult {
  const fn = 'road';
  const order = checkOrder(options.order ?? 'morf', fn);
  const p = checkPercentile(options.percentile ?? (order === 'morf' ? 80 : 20), fn);
  const { scorer, layout, removals, imputed, after } = runRemovals(model, input, maps, [{ order, percentile: p }], options, fn);
  const value = new Float32Array(layout.n);
  for (let i = 0; i < layout.n; i++) value[i] = after[i]! - scorer.before[i]!;
  const keep = new Float32Array(layout.n * layout.positions);
  removals.forEach((r, i) => keep.set(r.keep, i * layout.positions));
  return {
    value,
    targets: scorer.classes,
    scoreBefore: scorer.before,
    scoreAfter: after,
    threshold: Float64Array.from(removals, (r) => r.threshold),
    keep: new Tensor(keep, [layout.n, layout.height, layout.width]),
    imputed: new Tensor(imputed, input.shape),
    cost: { ...scorer.cost },
  };
}

export interface RoadCombinedOptions extends ScoringOptions, RoadNoiseOptions {
  /** Percentiles in [0, 100] (default 10, 20, ..., 90, as pytorch-grad-cam). */
  percentiles?: readonly number[];
}

export interface RoadCombinedResult extends MetricResult {
  percentiles: number[];
  /** [P][N]: score(imputed) - score(input) at each percentile, MoRF and LeRF. */
  morfScores: Float32Array[];
  lerfScores: Float32Array[];
  /** [P][N]: the thresholds used. */
  morfThresholds: Float64Array[];
  lerfThresholds: Float64Array[];
}

/**
 * pytorch-grad-cam's ROADCombined: value = (mean_p LeRF_p - mean_p MoRF_p) / 2
 * per image, over `percentiles`. Higher is better (the map ranks pixels the
 * way the model uses them); it lies in about [-0.5, 0.5] for probabilities.
 */
export function roadCombined(model: Scorable, input: Tensor, maps: Tensor, options: RoadCombinedOptions = {}): RoadCombinedResult {
  const fn = 'roadCombined';
  const given: unknown = options.percentiles ?? [10, 20, 30, 40, 50, 60, 70, 80, 90];
  if (!Array.isArray(given) || given.length === 0) {
    throw new ArgumentError(`${fn}: percentiles must be a non-empty array of numbers from 0 to 100; got ${String(given)}`);
  }
  const percentiles = [...(given as number[])];
  percentiles.forEach((p) => checkPercentile(p, fn, 'every percentile'));
  // pytorch-grad-cam scores LeRF first, then MoRF; the order does not change the numbers.
  const steps = [
    ...percentiles.map((percentile) => ({ order: 'lerf' as const, percentile })),
    ...percentiles.map((percentile) => ({ order: 'morf' as const, percentile })),
  ];
  const { scorer, layout, removals, after } = runRemovals(model, input, maps, steps, options, fn);
  const n = layout.n;
  const P = percentiles.length;
  const scoresAt = (s: number) => Float32Array.from({ length: n }, (_, i) => after[s * n + i]! - scorer.before[i]!);
  const thresholdsAt = (s: number) => Float64Array.from({ length: n }, (_, i) => removals[s * n + i]!.threshold);
  const lerfScores = percentiles.map((_, s) => scoresAt(s));
  const morfScores = percentiles.map((_, s) => scoresAt(P + s));
  const value = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let lerf = 0;
    let morf = 0;
    for (let s = 0; s < P; s++) {
      lerf += lerfScores[s]![i]!;
      morf += morfScores[s]![i]!;
    }
    value[i] = (lerf / P - morf / P) / 2;
  }
  return {
    value,
    targets: scorer.classes,
    scoreBefore: scorer.before,
    percentiles,
    morfScores,
    lerfScores,
    morfThresholds: percentiles.map((_, s) => thresholdsAt(P + s)),
    lerfThresholds: percentiles.map((_, s) => thresholdsAt(s)),
    cost: { ...scorer.cost },
  };
}
