import type { Module } from '../../layers/module.js';
import type { Tensor } from '../../tensor/tensor.js';
import { explainWith } from '../explain.js';
import type { MapOptions, MapResult } from '../types.js';
import { gradCamLayer } from './gradCam.js';

/**
 * Grad-CAM as the seed article writes it: the same weights and raw map as
 * `gradCam`, normalised by dividing by the maximum after the ReLU
 * (relu(sum_c w_c A_c) / max, all zeros when the max is 0) instead of
 * min-max scaling. `layers[i].map` is the article's map at the layer's
 * resolution; `maps` is it resized to the input and divided by its maximum again.
 */
export function seedGradCam(model: Module, input: Tensor, options: MapOptions = {}): MapResult {
  return explainWith(model, input, options, { name: 'seedGradCam', gradients: true, layerMethod: gradCamLayer, normalize: 'max' });
}
