import type { Tensor } from '../../tensor/tensor.js';
import type { Module } from '../../layers/module.js';
import type { LayerCapture } from '../capture.js';
import { projectFirstComponent } from '../eigen.js';
import { explainWith, type LayerMapResult } from '../explain.js';
import type { MapOptions, MapResult } from '../types.js';

export { projectFirstComponent };

/** Muhammad & Yeasin 2020: the first principal component of the centred activations. No gradients, no target. */
export function eigenCamLayer(layer: LayerCapture): LayerMapResult {
  return { raw: projectFirstComponent(layer.activation), weights: null };
}

/**
 * EigenCAM: class-agnostic (the target only decides `targets`). Equal to
 * pytorch-grad-cam's EigenCAM up to the sign, which here follows a fixed
 * rule (see firstComponentProjection) instead of LAPACK's choice.
 */
export function eigenCam(model: Module, input: Tensor, options: MapOptions = {}): MapResult {
  return explainWith(model, input, options, { name: 'eigenCam', gradients: false, layerMethod: eigenCamLayer });
}
