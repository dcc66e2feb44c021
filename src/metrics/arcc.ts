import { ArgumentError } from '../tensor/errors.js';
import { Tensor } from '../tensor/tensor.js';
import { Module } from '../layers/module.js';
import { gradCam } from '../cam/methods/gradCam.js';
import type { MapOptions, Target } from '../cam/types.js';
import { checkImages, checkMaps, imageData, mapData } from './checks.js';
import { multiplyInto } from './perturb.js';
import { roadCombined, type RoadNoiseOptions } from './road.js';
import { centredSums } from './statistics.js';
import type { MetricResult, Scorable, ScoringOptions } from './types.js';

/** A map method as ARCC reruns it: every tinycam map method fits, and so do the black-box methods. */
export type ExplainFunction = (model: never, input: Tensor, options: { target?: Target }) => { maps: Tensor };

export interface ArccOptions extends ScoringOptions, RoadNoiseOptions {
  /** The method whose maps are scored, rerun on input * map for coherency (default gradCam). */
  method?: ExplainFunction;
  /** Further options for `method` (layer, ...); the target is the metric's. */
  methodOptions?: MapOptions & Record<string, unknown>;
  /** ROAD percentiles (default 20, 40, 60, 80, as pytorch-grad-cam's ARCC). */
  percentiles?: readonly number[];
}

export interface ArccResult extends MetricResult {
  /** Mean |map| per image (pytorch-grad-cam's Complexity). */
  complexity: Float32Array;
  /** (Pearson(map of input * map, map) + 1) / 2 per image. */
  coherency: Float32Array;
  /** The method's maps of input * map. */
  coherencyMaps: Tensor;
  /** ROADCombined at `percentiles`. */
  roadCombined: Float32Array;
}

/** pytorch-grad-cam's batch_pearson_coherency: covariance / (std_a std_b + 1e-8), n - 1 normalisation. */
function pearson(a: Float32Array, b: Float32Array): number {
  const n = a.length;
  const { ab, aa, bb } = centredSums(a, b);
  return ab / (n - 1) / (Math.sqrt(aa / (n - 1)) * Math.sqrt(bb / (n - 1)) + 1e-8);
}

/**
 * ARCC (pytorch-grad-cam's metrics/arcc.py): the harmonic mean of coherency,
 * 1 - complexity and clip(2 ROADCombined, 0, 1):
 * value = 3 / (1/(coherency + 1e-8) + 1/((1 - complexity) + 1e-8) + 1/(road + 1e-8)).
 * Coherency reruns `method` on input * map with each image's scored class.
 */
export function arcc(model: Scorable, input: Tensor, maps: Tensor, options: ArccOptions = {}): ArccResult {
  const fn = 'arcc';
  const layout = checkImages(input, fn);
  const mapValues = checkMaps(maps, layout, fn);
  const method = options.method ?? (gradCam as unknown as ExplainFunction);
  if (!options.method && !(model instanceof Module)) {
    throw new ArgumentError(`${fn}: coherency reruns the explanation method; the default (gradCam) needs a tinycam Module. For a scoring function, pass 'method' (e.g. rise)`);
  }
  const { n, positions } = layout;
  const complexity = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let total = 0;
    for (let p = 0; p < positions; p++) total += Math.abs(mapValues[i * positions + p]!);
    complexity[i] = total / positions;
  }
  const road = roadCombined(model, input, maps, { ...options, percentiles: options.percentiles ?? [20, 40, 60, 80] });
  // Explain input * map for the class each image was scored for.
  const masked = new Float32Array(input.size);
  const size = layout.channels * positions;
  for (let i = 0; i < n; i++) {
    multiplyInto(masked.subarray(i * size, (i + 1) * size), imageData(input, layout, i), mapData(mapValues, layout, i), layout);
  }
  const target = road.targets ?? options.target;
  const rerun = method as (m: Scorable, x: Tensor, o: object) => { maps: Tensor };
  const coherencyMaps = rerun(model, new Tensor(masked, input.shape), { ...options.methodOptions, target }).maps;
  checkMaps(coherencyMaps, layout, fn, 'the method\'s maps of input * map');
  const coherency = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const a = coherencyMaps.data.subarray(i * positions, (i + 1) * positions);
    const b = mapValues.subarray(i * positions, (i + 1) * positions);
    coherency[i] = (pearson(a, b) + 1) / 2;
  }
  const value = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const r = Math.min(Math.max(road.value[i]! * 2, 0), 1);
    value[i] = 3 / (1 / (coherency[i]! + 1e-8) + 1 / (1 - complexity[i]! + 1e-8) + 1 / (r + 1e-8));
  }
  return {
    value,
    targets: road.targets,
    scoreBefore: road.scoreBefore,
    complexity,
    coherency,
    coherencyMaps,
    roadCombined: road.value,
    // ROAD's model calls; the method's own passes on input * map come on top.
    cost: road.cost,
  };
}
