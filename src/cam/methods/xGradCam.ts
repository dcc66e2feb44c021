import type { Module } from '../../layers/module.js';
import { add, div, mul } from '../../tensor/ops/elementwise.js';
import { sum } from '../../tensor/ops/reduce.js';
import type { Tensor } from '../../tensor/tensor.js';
import type { LayerCapture } from '../capture.js';
import { explainWith, type LayerMapResult } from '../explain.js';
import { spatialAxes, weightedSum } from '../spatial.js';
import type { MapOptions, MapResult } from '../types.js';

/** Fu et al. 2020 as pytorch-grad-cam computes it: w_c = sum_hw(dA_c A_c) / (sum_hw A_c + 1e-7). */
export function xGradCamLayer(layer: LayerCapture): LayerMapResult {
  const a = layer.activation;
  const axes = spatialAxes(a);
  const weights = div(sum(mul(layer.gradient!, a), axes), add(sum(a, axes), 1e-7));
  return { raw: weightedSum(a, weights), weights };
}

/** XGrad-CAM; equal to pytorch-grad-cam's XGradCAM. */
export function xGradCam(model: Module, input: Tensor, options: MapOptions = {}): MapResult {
  return explainWith(model, input, options, { name: 'xGradCam', gradients: true, layerMethod: xGradCamLayer });
}
