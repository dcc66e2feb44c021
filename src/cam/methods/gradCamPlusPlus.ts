import type { Module } from '../../layers/module.js';
import { relu } from '../../tensor/ops/activations.js';
import { add, div, mul } from '../../tensor/ops/elementwise.js';
import { sum } from '../../tensor/ops/reduce.js';
import type { Tensor } from '../../tensor/tensor.js';
import type { LayerCapture } from '../capture.js';
import { explainWith, type LayerMapResult } from '../explain.js';
import { spatialAxes, weightedSum } from '../spatial.js';
import type { MapOptions, MapResult } from '../types.js';

/**
 * Chattopadhay et al. 2018, eq. 19 with the exponential replaced by the
 * identity, exactly as pytorch-grad-cam computes it:
 *   a = dA^2 / (2 dA^2 + S_c dA^3 + 1e-6), with S_c = sum_hw A_c
 *   (a is 0 where dA is 0, as pytorch-grad-cam's np.where makes it);
 *   w_c = sum_hw relu(dA_c) a_c;  raw = sum_c w_c A_c.
 */
export function gradCamPlusPlusLayer(layer: LayerCapture): LayerMapResult {
  const a = layer.activation;
  const g = layer.gradient!;
  const axes = spatialAxes(a);
  const g2 = mul(g, g);
  const g3 = mul(g2, g);
  const sumA = sum(a, axes, true);
  const alpha = div(g2, add(add(mul(g2, 2), mul(sumA, g3)), 1e-6));
  const weights = sum(mul(relu(g), alpha), axes);
  return { raw: weightedSum(a, weights), weights };
}

/** Grad-CAM++; equal to pytorch-grad-cam's GradCAMPlusPlus (not torch-cam's variant). */
export function gradCamPlusPlus(model: Module, input: Tensor, options: MapOptions = {}): MapResult {
  return explainWith(model, input, options, { name: 'gradCamPlusPlus', gradients: true, layerMethod: gradCamPlusPlusLayer });
}
