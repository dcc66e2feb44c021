import type { Module } from '../../layers/module.js';
import { mul } from '../../tensor/ops/elementwise.js';
import type { Tensor } from '../../tensor/tensor.js';
import type { LayerCapture } from '../capture.js';
import { explainWith, type LayerMapResult } from '../explain.js';
import type { MapOptions, MapResult } from '../types.js';
import { projectFirstComponent } from './eigenCam.js';

/** pytorch-grad-cam's EigenGradCAM: the first principal component of dA * A (class-discriminative). */
export function eigenGradCamLayer(layer: LayerCapture): LayerMapResult {
  return { raw: projectFirstComponent(mul(layer.gradient!, layer.activation)), weights: null };
}

/** EigenGrad-CAM, with the same sign rule as eigenCam (applied to dA * A). */
export function eigenGradCam(model: Module, input: Tensor, options: MapOptions = {}): MapResult {
  return explainWith(model, input, options, { name: 'eigenGradCam', gradients: true, layerMethod: eigenGradCamLayer });
}
