import type { Module } from '../layers/module.js';
import type { Tensor } from '../tensor/tensor.js';

/** A layer given by its dotted module path ('layer4', 'features.28') or as the Module itself. */
export type LayerSpec = string | Module;

/**
 * A target as a function: from the explained model output for a batch of
 * rows to one score per row ([rows] or [rows, 1]), built with tinycam's ops
 * so that gradients flow. `images[r]` is the batch image that row r belongs
 * to: methods that rerun the model on perturbed copies of one image
 * (Score-CAM, Ablation-CAM, the metrics) pass that image's index for every
 * copy, so a target with per-image data (a mask, a box, a class per image)
 * picks the right one. `outputs` holds every output of the same forward pass
 * by name, for targets that read several (a detector's boxes, labels and
 * scores). See the helpers in targetHelpers.ts and boxTarget.ts.
 */
export type TargetFunction = (output: Tensor, images: readonly number[], outputs: Readonly<Record<string, Tensor>>) => Tensor;

/**
 * What to explain: one class index for every image, one index per image, or
 * a target function. Class indices are the shorthand for a classifier's
 * output [N, K] (or [N, K, 1, 1] as a 1x1-convolution head gives); by
 * default the argmax of each image's scores. Scores are pre-softmax logits
 * unless the caller asks for the probability.
 */
export type Target = number | readonly number[] | TargetFunction;

/**
 * Turns a captured layer's output (and, the same way, its gradient) into
 * [N, C, ...spatial] before a method runs: token layers of vision
 * transformers, channels-last layers. See vitReshape and swinReshape.
 */
export type ReshapeTransform = (activation: Tensor) => Tensor;

/** How the per-layer maps become the final map (pytorch-grad-cam's steps). */
export interface PostprocessOptions {
  /** Clamp the raw map at 0 before normalising (default true). */
  relu?: boolean;
  /**
   * Scale each map into [0, 1]: 'minmax' (default, pytorch-grad-cam's
   * (x - min) / (max(x - min) + 1e-7)), 'max' (x / max, zeros when the max
   * is 0), or false (no scaling: maps keep the raw units).
   */
  normalize?: boolean | 'minmax' | 'max';
  /** How maps of several layers are combined: 'mean' (default, pytorch-grad-cam) or 'max'. */
  fuse?: 'mean' | 'max';
}

/** Which model output is explained, and whether as logits or as a probability. */
export interface OutputOptions {
  /**
   * The model output to explain, by name or position among
   * `model.forwardOutputs` (an ONNX graph's outputs); default the first.
   */
  output?: string | number;
  /**
   * When the output ends in a softmax (or log-softmax), explain it as the
   * model returns it instead of the logits before it. Default false: the
   * score of a classifier is its pre-softmax logit.
   */
  explainProbability?: boolean;
}

/** pytorch-grad-cam's smoothing options, on every map method. */
export interface SmoothOptions {
  /**
   * Test-time augmentation: the method runs on 6 versions of the input
   * (horizontal flip or not, times 0.9, 1.0, 1.1), each map is flipped back,
   * and the maps are averaged (BaseCAM's aug_smooth). Costs 6 calls.
   */
  augSmooth?: boolean;
  /**
   * Replace the channel sum of each method's per-channel terms (w_c A_c, or
   * dA_c A_c for HiResCAM...) by their projection on the first principal
   * component (BaseCAM's eigen_smooth): less noise, sign fixed by tinycam's
   * rule (see eigenCam).
   */
  eigenSmooth?: boolean;
}

export interface MapOptions extends PostprocessOptions, OutputOptions, SmoothOptions {
  /** Layer(s) to explain. By default the model's `camLayer`, else the last module whose output is [N, C, ...spatial] with more than one position (torch-cam's rule). */
  layer?: LayerSpec | readonly LayerSpec[];
  target?: Target;
  /** Applied to A and dA before the method: needed for token layers (vitReshape) and channels-last layers (swinReshape). */
  reshape?: ReshapeTransform;
}

/** One explained layer. */
export interface LayerResult {
  /** Dotted module path of the layer ('' for the model itself). */
  name: string;
  /** [N, ...spatial] at the layer's resolution, before ReLU and normalisation. */
  raw: Tensor;
  /** [N,C] channel weights, or null for methods without them (HiResCAM, LayerCAM, EigenCAM…). */
  weights: Tensor | null;
  /** [N, ...spatial] after ReLU and normalisation, before resizing (pytorch-grad-cam's per-layer map). */
  map: Tensor;
}

/** What every map method returns. */
export interface MapResult {
  /** [N, ...spatial of the input] ([N,H,W] for images), in [0,1] unless normalisation is off. */
  maps: Tensor;
  layers: LayerResult[];
  /** The class index explained for each image, or null when the target was a function. */
  targets: number[] | null;
  /**
   * The explained output's logits (detached): the tensor before the model's
   * final softmax when it has one, else the output itself.
   */
  logits: Tensor;
  /** The name of the explained output ('output' for a module with one). */
  output: string;
  /**
   * With `augSmooth`: [N, 6, ...spatial], each augmentation's final map in
   * its augmented frame (before flipping back), in the order (no flip, x0.9),
   * (no flip, x1), (no flip, x1.1), (flip, x0.9), (flip, x1), (flip, x1.1).
   */
  augmentedMaps?: Tensor;
}

/** What every input-gradient method returns. */
export interface GradientResult {
  /** The input's shape ([N,C,H,W] for images). */
  gradients: Tensor;
  targets: number[] | null;
  logits: Tensor;
  output: string;
}

export interface GradientOptions extends OutputOptions {
  target?: Target;
}
