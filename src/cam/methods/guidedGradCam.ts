import type { Module } from '../../layers/module.js';
import { mul } from '../../tensor/ops/elementwise.js';
import { unsqueeze } from '../../tensor/ops/shape.js';
import type { Tensor } from '../../tensor/tensor.js';
import type { MapOptions, MapResult } from '../types.js';
import { gradCam } from './gradCam.js';
import { guidedBackprop } from './guidedBackprop.js';

/**
 * Selvaraju et al. 2017: the Grad-CAM map at input size times the guided
 * backprop gradient, channel by channel: gradients[n,c] = maps[n] * gb[n,c].
 * Both use the same targets. Returns Grad-CAM's result plus `gradients`.
 */
export function guidedGradCam(model: Module, input: Tensor, options: MapOptions = {}): MapResult & { gradients: Tensor } {
  const map = gradCam(model, input, options);
  const guided = guidedBackprop(model, input, {
    target: map.targets ?? options.target,
    output: map.output,
    explainProbability: options.explainProbability,
  });
  // The map broadcasts over the input's channel axis: 1, or the last for an NHWC model.
  const gradients = mul(guided.gradients, unsqueeze(map.maps, model.inputLayout === 'NHWC' ? map.maps.ndim : 1));
  return { ...map, gradients };
}
