import type { Module } from '../layers/module.js';
import type { Tensor } from '../tensor/tensor.js';

/** A layer given by its dotted module path ('layer4', 'features.28') or as the Module itself. */
export type LayerSpec = string | Module;

/**
 * What to explain: one class index for every image, one index per image, or
 * a function from logits [N,K] to one score per image ([N]). By default the
 * argmax of each image's logits. Scores are pre-softmax logits.
 */
export type Target = number | readonly number[] | ((logits: Tensor) => Tensor);

/** How the per-layer maps become the final map (pytorch-grad-cam's steps). */
export interface PostprocessOptions {
  /** Clamp the raw map at 0 before normalising (default true). */
  relu?: boolean;
  /**
   * Scale each map into [0, 1]: 'minmax' (default, pytorch-grad-cam's
   * (x - min) / (max(x - min) + 1e-7)), 'max' (the seed article's x / max, zeros
   * when the max is 0), or false (no scaling: maps keep the raw units).
   */
  normalize?: boolean | 'minmax' | 'max';
  /** How maps of several layers are combined: 'mean' (default, pytorch-grad-cam) or 'max'. */
  fuse?: 'mean' | 'max';
}

export interface MapOptions extends PostprocessOptions {
  /** Layer(s) to explain. By default the last module whose output is 4-D with spatial size above 1x1 (torch-cam's rule). */
  layer?: LayerSpec | readonly LayerSpec[];
  target?: Target;
}

/** One explained layer. */
export interface LayerResult {
  /** Dotted module path of the layer ('' for the model itself). */
  name: string;
  /** [N,h,w] at the layer's resolution, before ReLU and normalisation. */
  raw: Tensor;
  /** [N,C] channel weights, or null for methods without them (HiResCAM, LayerCAM, EigenCAM…). */
  weights: Tensor | null;
  /** [N,h,w] after ReLU and normalisation, before resizing (pytorch-grad-cam's per-layer map). */
  map: Tensor;
}

/** What every map method returns. */
export interface MapResult {
  /** [N,H,W] at the input's size, in [0,1] unless normalisation is off. */
  maps: Tensor;
  layers: LayerResult[];
  /** The class index explained for each image, or null when the target was a function. */
  targets: number[] | null;
  /** [N,K] logits of the input (detached). */
  logits: Tensor;
}

/** What every input-gradient method returns. */
export interface GradientResult {
  /** [N,C,H,W], the input's shape. */
  gradients: Tensor;
  targets: number[] | null;
  logits: Tensor;
}

export interface GradientOptions {
  target?: Target;
}
