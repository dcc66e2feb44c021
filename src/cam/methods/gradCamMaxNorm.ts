import type { Module } from '../../layers/module.js';
import type { Tensor } from '../../tensor/tensor.js';
import { explainWith } from '../explain.js';
import type { MapOptions, MapResult } from '../types.js';
import { gradCamLayer } from './gradCam.js';

/**
 * Grad-CAM normalised by its maximum instead of min-max: the same weights
 * and raw map as `gradCam`, then relu(raw) / max (all zeros when the max is
 * 0). This is how the article tinycam started from (a tutorial that builds
 * CAM and Grad-CAM with PyTorch hooks and ends in `show_cam_image`) writes
 * it. `layers[i].map` is that map at the layer's resolution; `maps` is it
 * resized to the input and divided by its maximum again.
 */
export function gradCamMaxNorm(model: Module, input: Tensor, options: MapOptions = {}): MapResult {
  return explainWith(model, input, options, { name: 'gradCamMaxNorm', gradients: true, layerMethod: gradCamLayer, normalize: 'max' });
}

/** @deprecated The name it had before: use `gradCamMaxNorm`, which it equals. */
export const seedGradCam = gradCamMaxNorm;
