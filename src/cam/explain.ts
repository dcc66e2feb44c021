import type { Tensor } from '../tensor/tensor.js';
import type { Module } from '../layers/module.js';
import { captureLayers, checkInput, inEvalMode, inputSpatialShape, type Capture, type LayerCapture } from './capture.js';
import { locateDefaultLayer, resolveLayers } from './layers.js';
import { checkPostprocessOptions, postprocess } from './postprocess.js';
import type { MapOptions, MapResult } from './types.js';

/** A method's answer for one layer: the raw map [N, ...spatial] and, if it has them, channel weights [N,C]. */
export interface LayerMapResult {
  raw: Tensor;
  weights: Tensor | null;
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

/**
 * Everything a map method does besides its own formula: check the input,
 * find the layers, capture A (and dA) in eval mode, run the method per
 * layer, post-process. The model's hooks and flags are as before afterwards.
 */
export function explainWith(model: Module, input: Tensor, options: MapOptions, spec: MethodSpec): MapResult {
  checkInput(input, spec.name);
  checkPostprocessOptions(options, spec.name);
  return inEvalMode(model, () => {
    const layers =
      options.layer === undefined ? [locateDefaultLayer(model, input, spec.name, options.reshape)] : resolveLayers(model, options.layer, spec.name);
    const capture = captureLayers(model, input, layers, options, { gradients: spec.gradients, fn: spec.name });
    const results = capture.layers.map((layer) => spec.layerMethod(layer, capture));
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
  });
}
