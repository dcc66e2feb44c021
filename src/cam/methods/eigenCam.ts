import { Tensor } from '../../tensor/tensor.js';
import type { Module } from '../../layers/module.js';
import type { LayerCapture } from '../capture.js';
import { positions } from '../spatial.js';
import { firstComponentProjection } from '../eigen.js';
import { explainWith, type LayerMapResult } from '../explain.js';
import type { MapOptions, MapResult } from '../types.js';

/** raw[n] = projection of values[n] ([C, ...spatial]) on its first principal component. */
export function projectFirstComponent(values: Tensor): Tensor {
  const [n, c] = values.shape as [number, number];
  const hw = positions(values);
  const out = new Float32Array(n * hw);
  for (let i = 0; i < n; i++) {
    const projection = firstComponentProjection(values.data.subarray(i * c * hw, (i + 1) * c * hw), c, hw);
    for (let p = 0; p < hw; p++) out[i * hw + p] = projection[p]!;
  }
  return new Tensor(out, [n, ...values.shape.slice(2)]);
}

/** Muhammad & Yeasin 2020: the first principal component of the centred activations. No gradients, no target. */
export function eigenCamLayer(layer: LayerCapture): LayerMapResult {
  return { raw: projectFirstComponent(layer.activation), weights: null };
}

/**
 * EigenCAM: class-agnostic (the target only decides `targets`). Equal to
 * pytorch-grad-cam's EigenCAM up to the sign, which here follows a fixed
 * rule (see firstComponentProjection) instead of LAPACK's choice.
 */
export function eigenCam(model: Module, input: Tensor, options: MapOptions = {}): MapResult {
  return explainWith(model, input, options, { name: 'eigenCam', gradients: false, layerMethod: eigenCamLayer });
}
