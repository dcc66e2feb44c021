import { Tensor } from '../../tensor/tensor.js';
import type { Module } from '../../layers/module.js';
import type { LayerCapture } from '../capture.js';
import { explainWith, type LayerMapResult } from '../explain.js';
import type { MapOptions, MapResult } from '../types.js';
import { projectFirstComponent } from './eigenCam.js';

/** pytorch-grad-cam's EigenGradCAM: the first principal component of dA * A (class-discriminative). */
export function eigenGradCamLayer(layer: LayerCapture): LayerMapResult {
  const a = layer.activation.data;
  const g = layer.gradient!.data;
  const product = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) product[i] = a[i]! * g[i]!;
  return { raw: projectFirstComponent(new Tensor(product, layer.activation.shape)), weights: null };
}

/** EigenGrad-CAM, with the same sign rule as eigenCam (applied to dA * A). */
export function eigenGradCam(model: Module, input: Tensor, options: MapOptions = {}): MapResult {
  return explainWith(model, input, options, { name: 'eigenGradCam', gradients: true, layerMethod: eigenGradCamLayer });
}
