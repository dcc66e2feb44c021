import { Tensor } from '../tensor/tensor.js';
import { checkImages, checkMaps, imageData, mapData } from './checks.js';
import { multiplyInto, scoreVariants } from './perturb.js';
import { withScorer } from './scorer.js';
import type { MetricResult, Scorable, ScoringOptions } from './types.js';

/**
 * Confidence metrics on the input multiplied by its map: pytorch-grad-cam's
 * metrics/cam_mult_image.py (CamMultImageConfidenceChange, DropInConfidence,
 * IncreaseInConfidence) and torch-cam's ClassificationMetric (Average Drop
 * and Increase in Confidence of Grad-CAM++, Chattopadhyay et al. 2018).
 */

export interface ConfidenceResult extends MetricResult {
  /** The target score of each image multiplied by its map. */
  scoreAfter: Float32Array;
  /** The inputs that were scored: input * map, the map broadcast over channels. */
  perturbed: Tensor;
}

function multiplied(model: Scorable, input: Tensor, maps: Tensor, options: ScoringOptions, fn: string) {
  const layout = checkImages(input, fn);
  const mapValues = checkMaps(maps, layout, fn);
  return withScorer(model, input, options, fn, (scorer) => {
    const perturbed = new Float32Array(input.size);
    const size = layout.channels * layout.positions;
    for (let i = 0; i < layout.n; i++) {
      multiplyInto(perturbed.subarray(i * size, (i + 1) * size), imageData(input, layout, i), mapData(mapValues, layout, i), layout);
    }
    const after = scoreVariants(scorer, layout, layout.n, (k, out) => {
      out.set(perturbed.subarray(k * size, (k + 1) * size));
      return k;
    });
    return {
      targets: scorer.classes,
      scoreBefore: scorer.before,
      scoreAfter: after,
      perturbed: new Tensor(perturbed, input.shape),
      cost: { ...scorer.cost },
    };
  });
}

/**
 * pytorch-grad-cam's CamMultImageConfidenceChange: value = score(input * map)
 * - score(input) per image (float32), the map broadcast over channels.
 * `maps` [N, H, W] at the input's size, usually in [0, 1].
 */
export function confidenceChange(model: Scorable, input: Tensor, maps: Tensor, options: ScoringOptions = {}): ConfidenceResult {
  const r = multiplied(model, input, maps, options, 'confidenceChange');
  const value = new Float32Array(r.scoreAfter.length);
  for (let i = 0; i < value.length; i++) value[i] = r.scoreAfter[i]! - r.scoreBefore[i]!;
  return { value, ...r };
}

export interface DropOptions extends ScoringOptions {
  /**
   * false (default): pytorch-grad-cam's DropInConfidence, max(before - after, 0)
   * in score units. true: torch-cam's and Grad-CAM++'s Average Drop term,
   * max(before - after, 0) / (before + 1e-7), a fraction of the score.
   */
  relative?: boolean;
}

/** The drop of each image's score when it is multiplied by its map (0 when the score rises). */
export function dropInConfidence(model: Scorable, input: Tensor, maps: Tensor, options: DropOptions = {}): ConfidenceResult {
  return drop(model, input, maps, options, 'dropInConfidence');
}

function drop(model: Scorable, input: Tensor, maps: Tensor, options: DropOptions, fn: string): ConfidenceResult {
  const r = multiplied(model, input, maps, options, fn);
  const value = new Float32Array(r.scoreAfter.length);
  for (let i = 0; i < value.length; i++) {
    const change = Math.fround(r.scoreAfter[i]! - r.scoreBefore[i]!);
    const lost = Math.max(-change, 0);
    value[i] = options.relative ? Math.fround(lost) / Math.fround(r.scoreBefore[i]! + 1e-7) : lost;
  }
  return { value, ...r };
}

export interface AverageDropResult extends ConfidenceResult {
  /** The mean of `value` over the images: torch-cam's avg_drop (Grad-CAM++ reports it x 100, in %). */
  mean: number;
}

/**
 * torch-cam's ClassificationMetric avg_drop, Grad-CAM++'s Average Drop:
 * value = max(before - after, 0) / (before + 1e-7) per image and `mean` over
 * the batch. Grad-CAM++ and torch-cam's example score softmax probabilities:
 * pass a softmax target for that. dropInConfidence({ relative: true }) is the same per image.
 */
export function averageDrop(model: Scorable, input: Tensor, maps: Tensor, options: ScoringOptions = {}): AverageDropResult {
  const r = drop(model, input, maps, { ...options, relative: true }, 'averageDrop');
  let total = 0;
  for (const v of r.value) total += v;
  return { ...r, mean: total / r.value.length };
}

export interface IncreaseResult extends ConfidenceResult {
  /** The fraction of images whose score rose: torch-cam's conf_increase (Grad-CAM++'s Increase in Confidence, x 100 in %). */
  rate: number;
}

/**
 * pytorch-grad-cam's IncreaseInConfidence: value = 1 where the score of
 * input * map is above the score of the input, else 0 (per image, not
 * divided by anything); `rate` is the fraction over the batch, torch-cam's
 * conf_increase. The two agree per image (after > before).
 */
export function increaseInConfidence(model: Scorable, input: Tensor, maps: Tensor, options: ScoringOptions = {}): IncreaseResult {
  const r = multiplied(model, input, maps, options, 'increaseInConfidence');
  const value = new Float32Array(r.scoreAfter.length);
  let rose = 0;
  for (let i = 0; i < value.length; i++) {
    value[i] = Math.fround(r.scoreAfter[i]! - r.scoreBefore[i]!) > 0 ? 1 : 0;
    rose += value[i]!;
  }
  return { value, ...r, rate: rose / value.length };
}
