import type { Module } from '../../layers/module.js';
import { relu } from '../../tensor/ops/activations.js';
import { mul } from '../../tensor/ops/elementwise.js';
import { sum } from '../../tensor/ops/reduce.js';
import type { Tensor } from '../../tensor/tensor.js';
import type { LayerCapture } from '../capture.js';
import { explainWith, type LayerMapResult } from '../explain.js';
import type { MapOptions, MapResult } from '../types.js';

/** pytorch-grad-cam's GradCAMElementWise: raw = sum_c relu(dA_c * A_c). */
export function gradCamElementWiseLayer(layer: LayerCapture): LayerMapResult {
  const terms = relu(mul(layer.gradient!, layer.activation));
  return { raw: sum(terms, 1), weights: null, terms };
}

/** Grad-CAM element-wise: HiResCAM with each product clamped at 0 before the channel sum. */
export function gradCamElementWise(model: Module, input: Tensor, options: MapOptions = {}): MapResult {
  return explainWith(model, input, options, { name: 'gradCamElementWise', gradients: true, layerMethod: gradCamElementWiseLayer });
}
