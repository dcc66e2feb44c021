import type { Module } from '../../layers/module.js';
import { mul } from '../../tensor/ops/elementwise.js';
import { sum } from '../../tensor/ops/reduce.js';
import type { Tensor } from '../../tensor/tensor.js';
import type { LayerCapture } from '../capture.js';
import { explainWith, type LayerMapResult } from '../explain.js';
import type { MapOptions, MapResult } from '../types.js';

/** Draelos & Carin 2020: raw = sum_c dA_c * A_c, elementwise (no spatial averaging of the gradient). */
export function hiResCamLayer(layer: LayerCapture): LayerMapResult {
  const terms = mul(layer.gradient!, layer.activation);
  return { raw: sum(terms, 1), weights: null, terms };
}

/** HiResCAM; equal to pytorch-grad-cam's HiResCAM. */
export function hiResCam(model: Module, input: Tensor, options: MapOptions = {}): MapResult {
  return explainWith(model, input, options, { name: 'hiResCam', gradients: true, layerMethod: hiResCamLayer });
}
