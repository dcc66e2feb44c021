import { ArgumentError } from '../tensor/errors.js';
import { mul } from '../tensor/ops/elementwise.js';
import { Tensor } from '../tensor/tensor.js';
import type { Module } from '../layers/module.js';
import { captureLayers, checkInput, inEvalMode, inputSpatialShape, type Capture, type LayerCapture } from './capture.js';
import { locateDefaultLayer, resolveLayers } from './layers.js';
import { checkPostprocessOptions, postprocess } from './postprocess.js';
import { projectFirstComponent } from './eigen.js';
import { perChannel } from './spatial.js';
import type { MapOptions, MapResult } from './types.js';

/** A method's answer for one layer: the raw map [N, ...spatial] and, if it has them, channel weights [N,C]. */
export interface LayerMapResult {
  raw: Tensor;
  weights: Tensor | null;
  /**
   * The per-channel terms [N, C, ...spatial] whose channel sum is `raw`,
   * for methods that are not `weights` times A (HiResCAM: dA * A); what
   * `eigenSmooth` projects. Channel-weighted methods need not give them.
   */
  terms?: Tensor;
}

/** A CAM method: a function of what the capture produced for one layer. */
export type LayerMethod = (layer: LayerCapture, capture: Capture) => LayerMapResult;

export interface MethodSpec {
  /** The public function's name, used in error messages. */
  name: string;
  /** Whether the method uses dA (then the capture runs a pruned backward pass). */
  gradients: boolean;
  layerMethod: LayerMethod;
  /** Normalisation used when the caller does not choose one. */
  normalize?: 'minmax' | 'max';
}

/** BaseCAM's aug_smooth augmentations, in ttach's product order: (flip, factor). */
const AUGMENTATIONS: readonly (readonly [boolean, number])[] = [
  [false, 0.9], [false, 1], [false, 1.1],
  [true, 0.9], [true, 1], [true, 1.1],
];

/** Reverse the last axis of every row: a horizontal flip of images (and of maps). */
function flipLastAxis(t: Tensor): Tensor {
  const w = t.shape[t.ndim - 1]!;
  const out = new Float32Array(t.size);
  for (let row = 0; row < t.size; row += w) for (let j = 0; j < w; j++) out[row + j] = t.data[row + w - 1 - j]!;
  return new Tensor(out, t.shape);
}

/** A horizontal flip of the model's input: its last axis, or the one before the channels of an NHWC input. */
function flipInput(model: Module, input: Tensor): Tensor {
  if (model.inputLayout !== 'NHWC') return flipLastAxis(input);
  const c = input.shape[input.ndim - 1]!;
  const w = input.shape[input.ndim - 2]!;
  const out = new Float32Array(input.size);
  for (let row = 0; row < input.size; row += w * c) {
    for (let j = 0; j < w; j++) out.set(input.data.subarray(row + (w - 1 - j) * c, row + (w - j) * c), row + j * c);
  }
  return new Tensor(out, input.shape);
}

/** The raw map of a layer result, or with eigenSmooth the projection of its per-channel terms on their first component. */
function smoothedRaw(result: LayerMapResult, layer: LayerCapture, eigenSmooth: boolean | undefined, fn: string): Tensor {
  if (!eigenSmooth) return result.raw;
  const terms = result.terms ?? (result.weights ? mul(layer.activation, perChannel(result.weights, layer.activation)) : null);
  if (!terms) {
    throw new ArgumentError(`${fn}: 'eigenSmooth' needs a method whose map is a sum over channels (Grad-CAM, HiResCAM, LayerCAM...); this one has no per-channel terms`);
  }
  return projectFirstComponent(terms);
}

/** One explanation of `input` (no augmentation). */
function explainOnce(model: Module, input: Tensor, options: MapOptions, spec: MethodSpec): MapResult {
  const layers =
    options.layer === undefined ? [locateDefaultLayer(model, input, spec.name, options.reshape)] : resolveLayers(model, options.layer, spec.name);
  const capture = captureLayers(model, input, layers, options, { gradients: spec.gradients, fn: spec.name });
  const results = capture.layers.map((layer) => {
    const r = spec.layerMethod(layer, capture);
    return { ...r, raw: smoothedRaw(r, layer, options.eigenSmooth, spec.name) };
  });
  const { perLayer, maps } = postprocess(
    results.map((r) => r.raw),
    inputSpatialShape(model, input),
    options,
    spec.normalize,
  );
  return {
    maps,
    layers: capture.layers.map((layer, i) => ({
      name: layer.name,
      raw: results[i]!.raw,
      weights: results[i]!.weights,
      map: perLayer[i]!,
    })),
    targets: capture.classes,
    logits: capture.logits,
    output: capture.outputName,
  };
}

/**
 * BaseCAM's aug_smooth: the method on each augmented input, each final map
 * flipped back, averaged (no further normalisation). The targets are fixed
 * on the plain input first (the argmax of a flipped or dimmed image could
 * differ); `layers`, `targets` and `logits` are the plain input's.
 */
function explainAugmented(model: Module, input: Tensor, options: MapOptions, spec: MethodSpec): MapResult {
  const plain = explainOnce(model, input, options, spec);
  const target = plain.targets ?? options.target;
  const runs = AUGMENTATIONS.map(([flip, factor]) => {
    if (!flip && factor === 1) return plain.maps;
    const augmented = mul(flip ? flipInput(model, input) : input, factor);
    const layer = options.layer ?? plain.layers.map((l) => l.name);
    return explainOnce(model, augmented, { ...options, layer, target, output: plain.output }, spec).maps;
  });
  const [n] = input.shape as [number];
  const size = plain.maps.size / n;
  const mean = new Float32Array(plain.maps.size);
  const stacked = new Float32Array(plain.maps.size * runs.length);
  runs.forEach((maps, a) => {
    const back = AUGMENTATIONS[a]![0] ? flipLastAxis(maps) : maps;
    for (let i = 0; i < n; i++) {
      stacked.set(maps.data.subarray(i * size, (i + 1) * size), (i * runs.length + a) * size);
      for (let p = 0; p < size; p++) mean[i * size + p] = mean[i * size + p]! + back.data[i * size + p]! / runs.length;
    }
  });
  return {
    ...plain,
    maps: new Tensor(mean, plain.maps.shape),
    augmentedMaps: new Tensor(stacked, [n, runs.length, ...plain.maps.shape.slice(1)]),
  };
}

/**
 * Everything a map method does besides its own formula: check the input,
 * find the layers, capture A (and dA) in eval mode, run the method per
 * layer, post-process (and smooth, when asked). The model's hooks and flags
 * are as before afterwards.
 */
export function explainWith(model: Module, input: Tensor, options: MapOptions, spec: MethodSpec): MapResult {
  checkInput(input, spec.name);
  checkPostprocessOptions(options, spec.name);
  for (const key of ['augSmooth', 'eigenSmooth'] as const) {
    if (options[key] !== undefined && typeof options[key] !== 'boolean') {
      throw new ArgumentError(`${spec.name}: '${key}' must be true or false; got ${JSON.stringify(options[key])}`);
    }
  }
  return inEvalMode(model, () => (options.augSmooth ? explainAugmented : explainOnce)(model, input, options, spec));
}
