import type { Module } from '../../layers/module.js';
import { relu } from '../../tensor/ops/activations.js';
import { mul } from '../../tensor/ops/elementwise.js';
import { sum } from '../../tensor/ops/reduce.js';
import type { Tensor } from '../../tensor/tensor.js';
import type { LayerCapture } from '../capture.js';
import { explainWith, type LayerMapResult } from '../explain.js';
import type { MapOptions, MapResult } from '../types.js';

/** Jiang et al. 2021: raw = sum_c relu(dA_c) * A_c, elementwise. */
export function layerCamLayer(layer: LayerCapture): LayerMapResult {
  const terms = mul(relu(layer.gradient!), layer.activation);
  return { raw: sum(terms, 1), weights: null, terms };
}

/** LayerCAM; equal to pytorch-grad-cam's LayerCAM. Works well on early layers and with several layers fused. */
export function layerCam(model: Module, input: Tensor, options: MapOptions = {}): MapResult {
  return explainWith(model, input, options, { name: 'layerCam', gradients: true, layerMethod: layerCamLayer });
}
