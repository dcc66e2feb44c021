import type { Module } from '../../layers/module.js';
import type { Tensor } from '../../tensor/tensor.js';
import type { LayerCapture } from '../capture.js';
import { dims, weightedSum, weightsTensor } from '../channels.js';
import { explainWith, type LayerMapResult } from '../explain.js';
import type { MapOptions, MapResult } from '../types.js';

/** Grad-CAM's channel weights: w[n,c] = mean over h,w of dA[n,c]. */
export function gradCamWeights(gradient: Tensor): Float64Array {
  const { n, c, hw } = dims(gradient);
  const weights = new Float64Array(n * c);
  for (let nc = 0; nc < n * c; nc++) {
    let s = 0;
    for (let p = nc * hw; p < (nc + 1) * hw; p++) s += gradient.data[p]!;
    weights[nc] = s / hw;
  }
  return weights;
}

/** Selvaraju et al. 2017: raw = sum_c mean_hw(dA_c) A_c. */
export function gradCamLayer(layer: LayerCapture): LayerMapResult {
  const weights = gradCamWeights(layer.gradient!);
  const { n, c } = dims(layer.activation);
  return { raw: weightedSum(layer.activation, weights), weights: weightsTensor(weights, n, c) };
}

/**
 * Grad-CAM (Selvaraju et al. 2017). `gradCam(model, input, { layer, target })`.
 * Equal to pytorch-grad-cam's GradCAM.
 */
export function gradCam(model: Module, input: Tensor, options: MapOptions = {}): MapResult {
  return explainWith(model, input, options, { name: 'gradCam', gradients: true, layerMethod: gradCamLayer });
}
