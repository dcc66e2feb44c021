import { enableGrad, grad } from '../../tensor/autograd.js';
import { ArgumentError } from '../../tensor/errors.js';
import { Tensor } from '../../tensor/tensor.js';
import type { Module } from '../../layers/module.js';
import { baselineOf } from '../attribution.js';
import { checkInput, inEvalMode } from '../capture.js';
import { runForExplanation } from '../output.js';
import { targetScorer, type Scorer } from '../scorer.js';
import { addSums, checkShare, passesOf, type Share } from '../shares.js';
import { scoreAndSeed } from '../targets.js';
import type { GradientOptions, GradientResult } from '../types.js';

export interface IntegratedGradientsOptions extends GradientOptions {
  /** The reference input: a number (default 0), or a tensor shaped like the input or like one image [1,C,H,W]. */
  baseline?: number | Tensor;
  /** Points on the path from baseline to input (default 50). */
  steps?: number;
  /** Path points per forward pass, over all images (default 32). */
  batchSize?: number;
}

/**
 * Sundararajan et al. 2017: (x - x') * the mean of d score / d input over
 * `steps` points x' + alpha (x - x') with alpha at the midpoints
 * (k + 0.5) / steps (the midpoint rule: exact for a linear model, and the
 * attributions sum to score(x) - score(x') up to O(1/steps^2)). Targets come
 * from the input's own logits; the path points are run in batches.
 */
export function integratedGradients(model: Module, input: Tensor, options: IntegratedGradientsOptions = {}): GradientResult {
  const path = prepare(model, input, options);
  return finish(input, path, pathSums(model, input, options, path, 0, path.passes));
}

/**
 * One share of integrated gradients' path (what a worker pool runs in one
 * worker): the float64 sum of d score / d input over the path points of the
 * forward passes in `share` (passes split whole, as integratedGradients
 * batches them).
 */
export function integratedGradientsShare(model: Module, input: Tensor, options: IntegratedGradientsOptions, share: Share): Float64Array {
  checkShare(share, 'integratedGradients');
  const path = prepare(model, input, options);
  const [first, last] = passesOf(path.passes, share);
  return pathSums(model, input, options, path, first, last);
}

/**
 * Integrated gradients from every share's sums (see integratedGradientsShare),
 * added in share order: integratedGradients' result up to the order of the
 * float64 sum (one forward pass, for the targets, instead of the path's).
 */
export function integratedGradientsJoined(model: Module, input: Tensor, options: IntegratedGradientsOptions, shares: readonly Float64Array[]): GradientResult {
  const path = prepare(model, input, options);
  return finish(input, path, addSums(shares, input.size, 'integratedGradients'));
}

interface Path {
  steps: number;
  batchSize: number;
  /** Forward passes over the path points (order: step, image). */
  passes: number;
  start: Float32Array;
  delta: Float32Array;
  scorer: Scorer;
}

function prepare(model: Module, input: Tensor, options: IntegratedGradientsOptions): Path {
  const fn = 'integratedGradients';
  checkInput(input, fn);
  const steps = options.steps ?? 50;
  const batchSize = options.batchSize ?? 32;
  if (!Number.isInteger(steps) || steps < 1) throw new ArgumentError(`${fn}: steps must be a positive integer; got ${steps}`);
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new ArgumentError(`${fn}: batchSize must be a positive integer; got ${batchSize}`);
  const start = baselineOf(options.baseline, input, fn);
  const delta = new Float32Array(input.size);
  for (let i = 0; i < input.size; i++) delta[i] = input.data[i]! - start[i]!;
  const scorer = targetScorer(model, input, options, fn);
  return { steps, batchSize, passes: Math.ceil((steps * input.shape[0]!) / batchSize), start, delta, scorer };
}

/** The float64 sum of d score / d input over the path points of passes [firstPass, lastPass). */
function pathSums(model: Module, input: Tensor, options: IntegratedGradientsOptions, path: Path, firstPass: number, lastPass: number): Float64Array {
  const fn = 'integratedGradients';
  const { steps, batchSize, start, delta, scorer } = path;
  const n = input.shape[0]!;
  const imageSize = input.size / n;
  const runOptions = { ...options, output: scorer.output };
  return inEvalMode(model, () => {
    const total = new Float64Array(input.size);
    // Path points in order (step, image); each batch takes the next `batchSize` of them.
    const points = steps * n;
    for (let first = firstPass * batchSize; first < Math.min(points, lastPass * batchSize); first += batchSize) {
      const count = Math.min(batchSize, points - first);
      const batch = new Float32Array(count * imageSize);
      const images: number[] = [];
      for (let b = 0; b < count; b++) {
        const step = Math.floor((first + b) / n);
        const image = (first + b) % n;
        images.push(image);
        const alpha = (step + 0.5) / steps;
        const offset = image * imageSize;
        for (let p = 0; p < imageSize; p++) batch[b * imageSize + p] = start[offset + p]! + alpha * delta[offset + p]!;
      }
      const x = new Tensor(batch, [count, ...input.shape.slice(1)], true);
      const gradients = enableGrad(() => {
        const run = runForExplanation(model, x, runOptions, fn);
        const { scores, seed } = scoreAndSeed(options.target, scorer.classes, run.explained, fn, images, run.outputs);
        return grad(scores, [x], { gradOutput: seed })[0]!;
      });
      for (let b = 0; b < count; b++) {
        const offset = images[b]! * imageSize;
        for (let p = 0; p < imageSize; p++) total[offset + p] = total[offset + p]! + gradients.data[b * imageSize + p]!;
      }
    }
    return total;
  });
}

function finish(input: Tensor, path: Path, total: Float64Array): GradientResult {
  const { delta, steps, scorer } = path;
  const attributions = new Float32Array(input.size);
  for (let i = 0; i < input.size; i++) attributions[i] = (delta[i]! * total[i]!) / steps;
  return { gradients: new Tensor(attributions, input.shape), targets: scorer.classes, logits: scorer.logits, output: scorer.output };
}
