import type { Module } from '../../layers/module.js';
import type { Tensor } from '../../tensor/tensor.js';
import type { LayerCapture } from '../capture.js';
import { dims, weightedSum, weightsTensor } from '../channels.js';
import { explainWith, type LayerMapResult } from '../explain.js';
import type { MapOptions, MapResult } from '../types.js';

/** Fu et al. 2020 as pytorch-grad-cam computes it: w_c = sum_hw(dA_c A_c) / (sum_hw A_c + 1e-7). */
export function xGradCamLayer(layer: LayerCapture): LayerMapResult {
  const a = layer.activation;
  const g = layer.gradient!;
  const { n, c, hw } = dims(a);
  const weights = new Float64Array(n * c);
  for (let nc = 0; nc < n * c; nc++) {
    let products = 0;
    let activations = 0;
    for (let p = nc * hw; p < (nc + 1) * hw; p++) {
      products += g.data[p]! * a.data[p]!;
      activations += a.data[p]!;
    }
    weights[nc] = products / (activations + 1e-7);
  }
  return { raw: weightedSum(a, weights), weights: weightsTensor(weights, n, c) };
}

/** XGrad-CAM; equal to pytorch-grad-cam's XGradCAM. */
export function xGradCam(model: Module, input: Tensor, options: MapOptions = {}): MapResult {
  return explainWith(model, input, options, { name: 'xGradCam', gradients: true, layerMethod: xGradCamLayer });
}
