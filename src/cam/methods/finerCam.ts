import { noGrad } from '../../tensor/autograd.js';
import { ArgumentError } from '../../tensor/errors.js';
import { add, div, mul, sub } from '../../tensor/ops/elementwise.js';
import { sum } from '../../tensor/ops/reduce.js';
import { softmax } from '../../tensor/ops/softmax.js';
import { Tensor } from '../../tensor/tensor.js';
import type { Module } from '../../layers/module.js';
import { checkInput, inEvalMode } from '../capture.js';
import { TargetError } from '../errors.js';
import { runForExplanation } from '../output.js';
import { classCount, resolveClassTargets } from '../targets.js';
import type { MapOptions, MapResult, TargetFunction } from '../types.js';
import { gradCam } from './gradCam.js';

/** A map method FinerCAM can run with its target (any gradient-based one: gradCam, hiResCam, layerCam, ...). */
export type FinerBaseMethod = (model: Module, input: Tensor, options: MapOptions) => MapResult;

export interface FinerCamOptions extends MapOptions {
  /**
   * Which classes to compare against, as ranks in the order of closeness of
   * their logits to the target's (rank 0 is the target itself, 1 the class
   * whose logit is closest to it); default [1, 2, 3], as pytorch-grad-cam.
   */
  comparisonCategories?: readonly number[];
  /** Strength of the comparison (default 1). */
  alpha?: number;
  /** The method run with the comparison target (default gradCam, as pytorch-grad-cam). */
  method?: FinerBaseMethod;
}

/** FinerCAM's result: the base method's, with the explained class and the classes it was compared with. */
export interface FinerCamResult extends MapResult {
  targets: number[];
  /** The compared classes of each image, in the order of `comparisonCategories`. */
  comparisons: number[][];
}

/**
 * Classes ordered by |logit - logit[main]|, closest first (ties: the lower
 * index first); rank 0 is the main class.
 */
function closenessOrder(logits: Float32Array, main: number): number[] {
  const target = logits[main]!;
  const order = Array.from(logits.keys());
  const distance = (k: number): number => Math.abs(logits[k]! - target);
  return order.sort((a, b) => distance(a) - distance(b) || (a === main ? -1 : b === main ? 1 : a - b));
}

/**
 * pytorch-grad-cam's FinerWeightedTarget (utils/model_targets.py at 084273b):
 * per row, with p = softmax(z),
 *   score = sum_j p_j (z_main - alpha z_j) / (sum_j p_j + 1e-9)
 * over the comparison classes j. Built from tensor ops, so it has gradients.
 */
export function finerWeightedTarget(main: readonly number[], comparisons: readonly (readonly number[])[], alpha: number): TargetFunction {
  return (logits: Tensor, images: readonly number[]): Tensor => {
    const [rows, k] = logits.shape as [number, number];
    const mainMask = new Float32Array(rows * k);
    // A class listed twice counts twice, as in pytorch-grad-cam's sums.
    const comparisonCount = new Float32Array(rows * k);
    images.forEach((image, r) => {
      mainMask[r * k + main[image]!] = 1;
      for (const j of comparisons[image]!) comparisonCount[r * k + j] = comparisonCount[r * k + j]! + 1;
    });
    const zMain = sum(mul(logits, new Tensor(mainMask, [rows, k])), 1, true);
    const weights = mul(softmax(logits, -1), new Tensor(comparisonCount, [rows, k]));
    const numerator = sum(mul(weights, sub(zMain, mul(logits, alpha))), 1);
    return div(numerator, add(sum(weights, 1), 1e-9));
  };
}

/**
 * Zhang et al. 2025, Finer-CAM, as pytorch-grad-cam runs it
 * (pytorch_grad_cam/finer_cam.py at 084273b): explain the target class
 * against the classes the model finds most similar to it (the logits
 * closest to the target's), by running the base method (Grad-CAM) with the
 * FinerWeightedTarget score. The target must be class indices (default: the
 * argmax); one extra forward pass finds the comparison classes.
 */
export function finerCam(model: Module, input: Tensor, options: FinerCamOptions = {}): FinerCamResult {
  const fn = 'finerCam';
  checkInput(input, fn);
  const alpha = options.alpha ?? 1;
  const ranks = options.comparisonCategories ?? [1, 2, 3];
  if (!Number.isFinite(alpha)) throw new ArgumentError(`${fn}: alpha must be a finite number (default 1); got ${String(alpha)}`);
  if (typeof options.target === 'function') {
    throw new TargetError(`${fn}: the target must be a class index or one per image (FinerCAM builds its own score from the classes closest to it); got a function`);
  }
  const run = inEvalMode(model, () => noGrad(() => runForExplanation(model, input, options, fn)));
  const main = resolveClassTargets(options.target, run.explained, input.shape[0]!, fn)!;
  const logits = run.explained;
  const k = classCount(logits)!;
  if (!Array.isArray(ranks) || ranks.length === 0 || ranks.some((r) => !Number.isInteger(r) || r < 0 || r >= k)) {
    throw new ArgumentError(`${fn}: comparisonCategories must be a non-empty list of ranks, integers 0 to ${k - 1} (1 = the class whose logit is closest to the target's); got ${JSON.stringify(ranks)}`);
  }
  const comparisons = main.map((c, i) => {
    const order = closenessOrder(logits.data.subarray(i * k, (i + 1) * k), c);
    return ranks.map((r) => order[r]!);
  });
  const method = options.method ?? gradCam;
  const target = finerWeightedTarget(main, comparisons, alpha);
  const result = method(model, input, { ...options, target });
  return { ...result, targets: main, comparisons };
}
