import type { Module } from '../../layers/module.js';
import { mean } from '../../tensor/ops/reduce.js';
import type { Tensor } from '../../tensor/tensor.js';
import type { LayerCapture } from '../capture.js';
import { explainWith, type LayerMapResult } from '../explain.js';
import { spatialAxes, weightedSum } from '../spatial.js';
import type { MapOptions, MapResult } from '../types.js';

/** Grad-CAM's channel weights: w[n,c] = mean over the positions of dA[n,c]. */
export function gradCamWeights(gradient: Tensor): Tensor {
  return mean(gradient, spatialAxes(gradient));
}

/** Selvaraju et al. 2017: raw = sum_c mean_hw(dA_c) A_c. */
export function gradCamLayer(layer: LayerCapture): LayerMapResult {
  const weights = gradCamWeights(layer.gradient!);
  return { raw: weightedSum(layer.activation, weights), weights };
}

/**
 * Grad-CAM (Selvaraju et al. 2017). `gradCam(model, input, { layer, target })`.
 * Equal to pytorch-grad-cam's GradCAM.
 */
export function gradCam(model: Module, input: Tensor, options: MapOptions = {}): MapResult {
  return explainWith(model, input, options, { name: 'gradCam', gradients: true, layerMethod: gradCamLayer });
}
