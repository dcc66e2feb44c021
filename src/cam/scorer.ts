import { noGrad } from '../tensor/autograd.js';
import { ShapeError } from '../tensor/errors.js';
import { shapeString, type Tensor } from '../tensor/tensor.js';
import type { Module } from '../layers/module.js';
import { checkInput, inEvalMode } from './capture.js';
import { runForExplanation } from './output.js';
import { resolveClassTargets, rowIndices, scoreRows } from './targets.js';
import type { GradientOptions, Target } from './types.js';

/** A model's target score, fixed on one input, for scoring perturbed copies of it. */
export interface Scorer {
  /** The class index of each image of the input, or null for a target function. */
  classes: number[] | null;
  /** The target with the classes fixed: what a rerun on perturbed inputs passes on. */
  target: Target | undefined;
  /** The explained output's name, its value on the input (detached), and its logits. */
  output: string;
  explained: Tensor;
  logits: Tensor;
  /** The target score of each image of the input. */
  scores: Float32Array;
  /**
   * The score of each row of `batch` (no gradients, eval mode), row r being
   * a perturbed copy of image `images[r]` (by default row r is image r).
   */
  score(batch: Tensor, images?: readonly number[]): Float32Array;
}

/**
 * Fix the target on `input` (the argmax class when none is given) and return
 * a scorer for perturbed copies of it: what the metrics, the black-box
 * methods and the path methods (integrated gradients, SmoothGrad) use, so a
 * perturbation can never change which class is explained.
 */
export function targetScorer(model: Module, input: Tensor, options: GradientOptions = {}, fn = 'targetScorer'): Scorer {
  checkInput(input, fn);
  const run = inEvalMode(model, () => noGrad(() => runForExplanation(model, input, options, fn)));
  const classes = resolveClassTargets(options.target, run.explained, input.shape[0]!, fn);
  const rowsOf = (batch: Tensor) => rowIndices(batch.shape[0]!);
  const score = (batch: Tensor, images: readonly number[] = rowsOf(batch)): Float32Array => {
    if (batch.ndim !== input.ndim || !batch.shape.slice(1).every((d, i) => d === input.shape[i + 1])) {
      throw new ShapeError(`${fn}: a batch to score has shape ${shapeString(batch.shape)}; it must be copies of the input's images, [rows, ${input.shape.slice(1).join(', ')}]`);
    }
    const again = inEvalMode(model, () => noGrad(() => runForExplanation(model, batch, { ...options, output: run.name }, fn)));
    return scoreRows(options.target, classes, again.explained, images, again.outputs, fn);
  };
  return {
    classes,
    target: classes ?? options.target,
    output: run.name,
    explained: run.explained.detach(),
    logits: run.logits.detach(),
    scores: scoreRows(options.target, classes, run.explained, rowsOf(input), run.outputs, fn),
    score,
  };
}
