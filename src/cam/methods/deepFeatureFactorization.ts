import { noGrad } from '../../tensor/autograd.js';
import { ArgumentError, ShapeError } from '../../tensor/errors.js';
import { Tensor, shapeString } from '../../tensor/tensor.js';
import { Module } from '../../layers/module.js';
import { captureLayers, checkInput, inEvalMode } from '../capture.js';
import { locateDefaultLayer, resolveLayers } from '../layers.js';
import { nmf } from '../nmf.js';
import { normalizeImages, resizeMaps } from '../postprocess.js';
import { positions } from '../spatial.js';
import type { LayerSpec, OutputOptions, ReshapeTransform } from '../types.js';
import { findClassifier } from './cam.js';

export interface DeepFeatureFactorizationOptions extends OutputOptions {
  /** The layer to factorise (one; default as the map methods). */
  layer?: LayerSpec;
  /** As the map methods': turns a token or channels-last layer into [N, C, ...spatial]. */
  reshape?: ReshapeTransform;
  /** Number of concepts k (default 16, as pytorch-grad-cam's DeepFeatureFactorization). */
  components?: number;
  /**
   * What turns a concept [C] into class scores: a module path or Module
   * (called on the concepts as a batch [k, C]) or a function of the
   * concepts [k, C]. By default the classifier CAM finds (the module that
   * takes the layer's global average and returns the logits), or none:
   * `false` skips the scores.
   */
  classifier?: LayerSpec | ((concepts: Tensor) => Tensor) | false;
  /** NMF iterations (default 200) and tolerance (default 1e-4), scikit-learn's. */
  maxIterations?: number;
  tolerance?: number;
}

export interface DeepFeatureFactorizationResult {
  /** The factorised layer. */
  layer: string;
  /** [C, k]: each concept's channel profile, W + the per-channel offset (pytorch-grad-cam's `concepts`). */
  concepts: Tensor;
  /** [N, k, ...layer spatial]: each concept's weight at each position of each image (H). */
  raw: Tensor;
  /** [N, k, ...input spatial]: each concept's map, min-max scaled and resized to the input (pytorch-grad-cam's explanations). */
  maps: Tensor;
  /** [k, K]: the classifier's scores of each concept, or null without a classifier. */
  scores: Tensor | null;
  logits: Tensor;
  output: string;
  /** NMF sweeps run, and ||X - W H|| / ||X|| of the offset activations X. */
  iterations: number;
  reconstructionError: number;
}

/**
 * Collins et al. 2018, Deep Feature Factorization, as pytorch-grad-cam
 * computes it (pytorch_grad_cam/feature_factorization/deep_feature_factorization.py
 * at 084273b): the activations of the whole batch as X [C, N h w], each
 * channel shifted by its minimum so X >= 0, factorised by NMF (scikit-learn's,
 * init 'random', random_state 0: see nmf.ts) into W [C, k] and H [k, N h w].
 * A concept is a column of W plus the offset; its map in image n is H's
 * block for n. The concepts are shared by the batch (one factorisation of
 * all images together, as pytorch-grad-cam), so a batch differs from
 * single-image calls by design.
 */
export function deepFeatureFactorization(model: Module, input: Tensor, options: DeepFeatureFactorizationOptions = {}): DeepFeatureFactorizationResult {
  const fn = 'deepFeatureFactorization';
  checkInput(input, fn);
  const k = options.components ?? 16;
  if (!Number.isInteger(k) || k < 1) throw new ArgumentError(`${fn}: components must be a positive integer (default 16); got ${String(k)}`);
  if (Array.isArray(options.layer)) throw new ArgumentError(`${fn}: 'layer' must be one layer (a module path or Module); got a list`);
  return inEvalMode(model, () => {
    const layers = options.layer === undefined ? [locateDefaultLayer(model, input, fn, options.reshape)] : resolveLayers(model, options.layer, fn);
    // DFF has no target; a target function (never called) keeps the capture from resolving one.
    const capture = captureLayers(model, input, layers, { ...options, target: (output) => output }, { gradients: false, fn });
    const layer = capture.layers[0]!;
    const a = layer.activation;
    const [n, c] = a.shape as [number, number];
    const layerSpatial = a.shape.slice(2);
    const hw = positions(a);
    const cols = n * hw;
    // X [C, N*h*w], each channel minus its minimum
    const x = new Float32Array(c * cols);
    const offset = new Float32Array(c).fill(Infinity);
    for (let ch = 0; ch < c; ch++) {
      for (let i = 0; i < n; i++) {
        for (let p = 0; p < hw; p++) {
          const v = a.data[(i * c + ch) * hw + p]!;
          x[ch * cols + i * hw + p] = Number.isNaN(v) ? 0 : v;
          if (x[ch * cols + i * hw + p]! < offset[ch]!) offset[ch] = x[ch * cols + i * hw + p]!;
        }
      }
      for (let j = 0; j < cols; j++) x[ch * cols + j] = x[ch * cols + j]! - offset[ch]!;
    }
    const result = nmf(x, c, cols, k, { maxIterations: options.maxIterations, tolerance: options.tolerance });
    const concepts = new Float32Array(c * k);
    for (let ch = 0; ch < c; ch++) for (let t = 0; t < k; t++) concepts[ch * k + t] = result.w[ch * k + t]! + offset[ch]!;
    const raw = new Float32Array(n * k * hw);
    for (let t = 0; t < k; t++) for (let i = 0; i < n; i++) for (let p = 0; p < hw; p++) raw[(i * k + t) * hw + p] = result.h[t * cols + i * hw + p]!;
    const spatial = input.shape.slice(2);
    const scaled = raw.slice();
    normalizeImages(scaled, n * k, hw, 'minmax');
    const maps = resizeMaps(new Tensor(scaled, [n * k, ...layerSpatial]), spatial);
    const conceptTensor = new Tensor(concepts, [c, k]);
    return {
      layer: layer.name,
      concepts: conceptTensor,
      raw: new Tensor(raw, [n, k, ...layerSpatial]),
      maps: new Tensor(maps.data, [n, k, ...spatial]),
      scores: conceptScores(options.classifier, capture, layer, conceptTensor, fn),
      logits: capture.logits,
      output: capture.outputName,
      iterations: result.iterations,
      reconstructionError: result.relativeError,
    };
  });
}

/** The classifier's output on the concepts as a batch [k, C] (shaped like the classifier's own input). */
function conceptScores(
  classifier: DeepFeatureFactorizationOptions['classifier'],
  capture: Parameters<typeof findClassifier>[0],
  layer: Parameters<typeof findClassifier>[1],
  concepts: Tensor,
  fn: string,
): Tensor | null {
  if (classifier === false) return null;
  const [c, k] = concepts.shape as [number, number];
  const batch = new Float32Array(k * c);
  for (let t = 0; t < k; t++) for (let ch = 0; ch < c; ch++) batch[t * c + ch] = concepts.data[ch * k + t]!;
  const asBatch = new Tensor(batch, [k, c]);
  if (typeof classifier === 'function') return noGrad(() => classifier(asBatch)).detach();
  let module: Module;
  let shape: number[] = [k, c];
  if (classifier === undefined) {
    try {
      const call = findClassifier(capture, layer, undefined);
      module = call.module;
      shape = [k, ...call.inputs[0]!.shape.slice(1)];
    } catch (e) {
      if (e instanceof ArgumentError) return null;
      throw e;
    }
  } else {
    module = resolveLayers(capture.model, classifier, fn)[0]!.module;
  }
  if (shape.reduce((p, d) => p * d, 1) !== k * c) {
    throw new ShapeError(`${fn}: the classifier takes inputs of shape ${shapeString(shape)}, which do not hold ${c} channels per concept`);
  }
  return noGrad(() => module.forward(new Tensor(batch, shape))).detach();
}
