import type { Module } from '../../layers/module.js';
import type { Tensor } from '../../tensor/tensor.js';
import type { LayerCapture } from '../capture.js';
import { elementwiseSum } from '../channels.js';
import { explainWith, type LayerMapResult } from '../explain.js';
import type { MapOptions, MapResult } from '../types.js';

/** Jiang et al. 2021: raw = sum_c relu(dA_c) * A_c, elementwise. */
export function layerCamLayer(layer: LayerCapture): LayerMapResult {
  return { raw: elementwiseSum(layer.activation, layer.gradient!, 'reluGradTimesAct'), weights: null };
}

/** LayerCAM; equal to pytorch-grad-cam's LayerCAM. Works well on early layers and with several layers fused. */
export function layerCam(model: Module, input: Tensor, options: MapOptions = {}): MapResult {
  return explainWith(model, input, options, { name: 'layerCam', gradients: true, layerMethod: layerCamLayer });
}
