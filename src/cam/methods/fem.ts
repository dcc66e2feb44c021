import { noGrad } from '../../tensor/autograd.js';
import { ArgumentError } from '../../tensor/errors.js';
import { add, mul, pow, sqrt, sub } from '../../tensor/ops/elementwise.js';
import { mean } from '../../tensor/ops/reduce.js';
import { Tensor } from '../../tensor/tensor.js';
import type { Module } from '../../layers/module.js';
import type { LayerCapture } from '../capture.js';
import { positions, spatialAxes, weightedSum } from '../spatial.js';
import { explainWith, type LayerMapResult } from '../explain.js';
import type { MapOptions, MapResult } from '../types.js';

export interface FemOptions extends MapOptions {
  /** The k of the k-sigma rule (default 2, as pytorch-grad-cam). */
  k?: number;
}

/**
 * Fuad et al. 2020, Feature Explanation Method, as pytorch-grad-cam computes
 * it (pytorch_grad_cam/fem.py at 084273b): per channel the mean mu_c and the
 * population standard deviation sigma_c over positions; w_c = the fraction of
 * positions where A_c > mu_c + k sigma_c (strictly); raw = sum_c w_c A_c.
 */
function femLayer(k: number) {
  return (layer: LayerCapture): LayerMapResult => {
    const a = layer.activation;
    const [n, c] = a.shape as [number, number];
    const hw = positions(a);
    const axes = spatialAxes(a);
    const threshold = noGrad(() => {
      const mu = mean(a, axes, true);
      const sigma = sqrt(mean(pow(sub(a, mu), 2), axes, true));
      return add(mu, mul(sigma, k));
    });
    // No comparison op in the engine: count the positions above the threshold.
    const weights = new Float32Array(n * c);
    for (let nc = 0; nc < n * c; nc++) {
      const t = threshold.data[nc]!;
      let above = 0;
      for (let p = nc * hw; p < (nc + 1) * hw; p++) if (a.data[p]! > t) above++;
      weights[nc] = above / hw;
    }
    const w = new Tensor(weights, [n, c]);
    return { raw: weightedSum(a, w), weights: w };
  };
}

/** FEM: gradient-free; a channel counts by how often it is unusually active. The target only decides `targets`. */
export function fem(model: Module, input: Tensor, options: FemOptions = {}): MapResult {
  const k = options.k ?? 2;
  if (typeof k !== 'number' || !Number.isFinite(k)) throw new ArgumentError(`fem: k must be a finite number (default 2); got ${String(k)}`);
  return explainWith(model, input, options, { name: 'fem', gradients: false, layerMethod: femLayer(k) });
}
