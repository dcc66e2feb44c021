import { Tensor } from '../../tensor/tensor.js';
import type { Module } from '../../layers/module.js';
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
  const guided = guidedBackprop(model, input, { target: map.targets ?? options.target });
  const [n, c, h, w] = input.shape as [number, number, number, number];
  const g = guided.gradients.data;
  const out = new Float32Array(g.length);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < c; k++) {
      const base = (i * c + k) * h * w;
      for (let p = 0; p < h * w; p++) out[base + p] = g[base + p]! * map.maps.data[i * h * w + p]!;
    }
  }
  return { ...map, gradients: new Tensor(out, input.shape) };
}
