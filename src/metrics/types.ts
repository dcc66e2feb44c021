import type { Module } from '../layers/module.js';
import type { Tensor } from '../tensor/tensor.js';
import type { OutputOptions, Target } from '../cam/types.js';

/**
 * A model seen from outside: a batch of inputs [B, C, H, W] in, either one
 * score per row ([B] or [B, 1]) or an output per row ([B, K], scores for K
 * classes, from which `target` picks) out. An onnxruntime-web session, a
 * TensorFlow.js model's predict, a remote API: anything that can score a batch.
 */
export type ScoreFunction = (batch: Tensor) => Float32Array | Tensor;

/** What metrics and black-box methods explain: a tinycam Module or a scoring function. */
export type Scorable = Module | ScoreFunction;

/** How every metric and black-box method turns model outputs into one score per image. */
export interface ScoringOptions extends OutputOptions {
  /**
   * What to score, as in the map methods: a class index, one per image, or a
   * function of the output. By default the argmax of each image's output on
   * the unperturbed input (fixed for all its perturbations).
   */
  target?: Target;
  /** Perturbed inputs per model call (default 32, and never above the model's maxBatchSize()). */
  batchSize?: number;
}

/** What every metric returns besides its own fields. */
export interface MetricResult {
  /** One value per image. */
  value: Float32Array;
  /** The class scored for each image, or null when the target is a function. */
  targets: number[] | null;
  /** The target score of each unperturbed image. */
  scoreBefore: Float32Array;
  /** Model calls made (each on up to `batchSize` inputs), and inputs scored. */
  cost: { forwardPasses: number; inputs: number };
}
