import { enableGrad } from '../tensor/autograd.js';
import { ArgumentError, ShapeError } from '../tensor/errors.js';
import { Tensor, shapeString } from '../tensor/tensor.js';
import type { Module } from '../layers/module.js';
import { runForExplanation } from './output.js';
import { resolveClassTargets, rowIndices, scoreAndSeed } from './targets.js';
import type { GradientOptions, GradientResult } from './types.js';

/**
 * What the input-attribution methods share (integratedGradients, deepLift,
 * deepLiftShap, gradientShap, lrp): baselines and a forward pass whose
 * score can be differentiated.
 */

/**
 * Elementwise non-linearities (op names of the recorded graph): DeepLIFT's
 * rescale rule and LRP's pass-through apply to their one varying input.
 * Linear ops (convolutions, Linear, BatchNorm in eval mode, pooling,
 * additions, shape ops) need no rule: their gradient is exact.
 */
export const ELEMENTWISE_OPS: ReadonlySet<string> = new Set([
  'relu', 'relu6', 'clip', 'leakyRelu', 'prelu', 'elu', 'selu', 'sigmoid', 'tanh', 'softplus', 'hardSigmoid', 'hardSwish',
  'exp', 'log', 'sqrt', 'abs', 'pow', 'maximum', 'minimum', 'erf', 'gelu', 'silu',
]);

/** An attribution method's result: `gradients` holds the attributions [N, C, H, W]. */
export interface AttributionResult extends GradientResult {
  /**
   * [N] how far each image's attributions are from what they should sum to:
   * sum - (score(x) - score(baseline)) for DeepLIFT, DeepLiftShap and
   * GradientShap (the mean over baselines), sum - score(x) for LRP. 0 up to
   * rounding where the method conserves exactly.
   */
  delta: Tensor;
}

/**
 * The baseline as one value per input element: a number (default 0), a tensor
 * shaped like the input, or one image [1, C, H, W] for every image.
 */
export function baselineOf(baseline: number | Tensor | undefined, input: Tensor, fn: string): Float32Array {
  if (typeof baseline === 'number' && !Number.isFinite(baseline)) {
    throw new ArgumentError(`${fn}: baseline must be a finite number or a Tensor; got ${baseline}`);
  }
  if (baseline === undefined || typeof baseline === 'number') return new Float32Array(input.size).fill(baseline ?? 0);
  const imageSize = input.size / input.shape[0]!;
  if (baseline.ndim === input.ndim && baseline.size === input.size) return baseline.data.slice();
  if (baseline.ndim === input.ndim && baseline.shape[0] === 1 && baseline.size === imageSize) {
    const out = new Float32Array(input.size);
    for (let offset = 0; offset < input.size; offset += imageSize) out.set(baseline.data, offset);
    return out;
  }
  throw new ShapeError(
    `${fn}: baseline has shape ${shapeString(baseline.shape)}; accepted: a number, ${shapeString(input.shape)} or [1, ${input.shape.slice(1).join(', ')}]`,
  );
}

/** A set of baselines [B, C, H, W] for images shaped like `input` (DeepLiftShap, GradientShap). */
export function baselineSet(baselines: Tensor | undefined, input: Tensor, fn: string): Tensor {
  const imageShape = input.shape.slice(1);
  if (!(baselines instanceof Tensor) || baselines.ndim !== input.ndim || baselines.shape[0]! < 1 || baselines.shape.slice(1).some((d, i) => d !== imageShape[i])) {
    const got = baselines instanceof Tensor ? `shape ${shapeString(baselines.shape)}` : String(baselines);
    throw new ShapeError(`${fn}: baselines must be a tensor [B, ${imageShape.join(', ')}] of B >= 1 reference images; got ${got}`);
  }
  return baselines;
}

/** One forward pass from a leaf copy of `input` that requires grad, with the target's scores and seed. */
export interface ScoredPass {
  x: Tensor;
  /** The explained output (with its graph) and its logits. */
  explained: Tensor;
  logits: Tensor;
  output: string;
  scores: Tensor;
  seed: Tensor;
  classes: number[] | null;
  /** Each row's score, as numbers. */
  rowScores: Float64Array;
}

/**
 * Run `model` on a leaf copy of `input` (recording the graph) and score it.
 * Row r of `input` is a copy of image `images[r]` (default: row r is image
 * r); `classes` fixes class targets per image (undefined: resolve `options.target`
 * against this pass).
 */
export function scoredPass(
  model: Module,
  input: Tensor,
  options: GradientOptions,
  classes: number[] | null | undefined,
  fn: string,
  images: readonly number[] = rowIndices(input.shape[0]!),
): ScoredPass {
  const x = new Tensor(input.data, input.shape, true);
  return enableGrad(() => {
    const run = runForExplanation(model, x, options, fn);
    const resolved = classes === undefined ? resolveClassTargets(options.target, run.explained, input.shape[0]!, fn) : classes;
    const { scores, seed } = scoreAndSeed(options.target, resolved, run.explained, fn, images, run.outputs);
    const rows = input.shape[0]!;
    const rowScores = new Float64Array(rows);
    const width = scores.size / rows;
    for (let r = 0; r < rows; r++) for (let j = 0; j < width; j++) rowScores[r] = rowScores[r]! + scores.data[r * width + j]! * seed.data[r * width + j]!;
    return { x, explained: run.explained, logits: run.logits, output: run.name, scores, seed, classes: resolved, rowScores };
  });
}
