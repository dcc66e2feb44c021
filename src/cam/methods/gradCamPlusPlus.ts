import type { Module } from '../../layers/module.js';
import type { Tensor } from '../../tensor/tensor.js';
import type { LayerCapture } from '../capture.js';
import { dims, weightedSum, weightsTensor } from '../channels.js';
import { explainWith, type LayerMapResult } from '../explain.js';
import type { MapOptions, MapResult } from '../types.js';

/**
 * Chattopadhay et al. 2018, eq. 19 with the exponential replaced by the
 * identity, exactly as pytorch-grad-cam computes it:
 *   a = dA^2 / (2 dA^2 + S_c dA^3 + 1e-6), with S_c = sum_hw A_c, and a = 0 where dA = 0;
 *   w_c = sum_hw relu(dA_c) a_c;  raw = sum_c w_c A_c.
 */
export function gradCamPlusPlusLayer(layer: LayerCapture): LayerMapResult {
  const a = layer.activation;
  const g = layer.gradient!;
  const { n, c, hw } = dims(a);
  const weights = new Float64Array(n * c);
  for (let nc = 0; nc < n * c; nc++) {
    let sumA = 0;
    for (let p = nc * hw; p < (nc + 1) * hw; p++) sumA += a.data[p]!;
    let w = 0;
    for (let p = nc * hw; p < (nc + 1) * hw; p++) {
      const d = g.data[p]!;
      if (d <= 0) continue; // relu(dA) = 0, and a = 0 where dA = 0
      const d2 = d * d;
      w += (d * d2) / (2 * d2 + sumA * d2 * d + 1e-6);
    }
    weights[nc] = w;
  }
  return { raw: weightedSum(a, weights), weights: weightsTensor(weights, n, c) };
}

/** Grad-CAM++; equal to pytorch-grad-cam's GradCAMPlusPlus (not torch-cam's variant). */
export function gradCamPlusPlus(model: Module, input: Tensor, options: MapOptions = {}): MapResult {
  return explainWith(model, input, options, { name: 'gradCamPlusPlus', gradients: true, layerMethod: gradCamPlusPlusLayer });
}
