import { ArgumentError } from '../../tensor/errors.js';
import { Rng } from '../../tensor/random.js';
import { Tensor } from '../../tensor/tensor.js';
import type { Module } from '../../layers/module.js';
import type { Capture, LayerCapture } from '../capture.js';
import { weightedSum } from '../spatial.js';
import { explainWith, type LayerMapResult } from '../explain.js';
import type { MapOptions, MapResult } from '../types.js';

export interface RandomCamOptions extends MapOptions {
  /** Seed of the weights (default 0): the same seed gives the same map. */
  seed?: number;
}

/**
 * pytorch-grad-cam's RandomCAM (pytorch_grad_cam/random_cam.py at 084273b):
 * w_c drawn uniformly from [-1, 1), raw = sum_c w_c A_c. A sanity baseline:
 * a method whose maps look no better than this one's explains nothing.
 *
 * pytorch-grad-cam draws from numpy's global generator; here the weights come
 * from tinycam's seeded generator, one fresh generator per layer (seeded with
 * `seed` and the layer's position), and every image of a batch gets the same
 * weights, so a batch equals single-image calls.
 */
function randomCamLayer(seed: number) {
  return (layer: LayerCapture, capture: Capture): LayerMapResult => {
    const [n, c] = layer.activation.shape as [number, number];
    const rng = new Rng((seed + 0x9e3779b9 * capture.layers.indexOf(layer)) >>> 0);
    const draw = Float32Array.from({ length: c }, () => 2 * rng.uniform() - 1);
    const weights = new Float32Array(n * c);
    for (let i = 0; i < n; i++) weights.set(draw, i * c);
    const w = new Tensor(weights, [n, c]);
    return { raw: weightedSum(layer.activation, w), weights: w };
  };
}

/** RandomCAM: random channel weights, seeded. Uses no gradients. */
export function randomCam(model: Module, input: Tensor, options: RandomCamOptions = {}): MapResult {
  const seed = options.seed ?? 0;
  if (!Number.isInteger(seed)) throw new ArgumentError(`randomCam: seed must be an integer (default 0); got ${String(seed)}`);
  return explainWith(model, input, options, { name: 'randomCam', gradients: false, layerMethod: randomCamLayer(seed) });
}
