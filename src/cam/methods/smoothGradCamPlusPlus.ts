import { ArgumentError } from '../../tensor/errors.js';
import { Rng } from '../../tensor/random.js';
import { Tensor } from '../../tensor/tensor.js';
import type { Module } from '../../layers/module.js';
import { captureLayers, type Capture, type LayerCapture } from '../capture.js';
import { positions, weightedSum } from '../spatial.js';
import { explainWith, type LayerMapResult } from '../explain.js';
import { positiveInteger } from '../maskedScores.js';
import type { MapOptions, MapResult } from '../types.js';

export interface SmoothGradCamPlusPlusOptions extends MapOptions {
  /** Noisy copies of the input (default 4, as torch-cam). */
  samples?: number;
  /** Standard deviation of the noise added to the input, in the input's units (default 0.3, as torch-cam). */
  std?: number;
  /** Seed of the noise (default 0): the same seed gives the same map. */
  seed?: number;
}

/**
 * Omeiza et al. 2019, Smooth Grad-CAM++, as torch-cam computes it
 * (torchcam/methods/gradient.py, SmoothGradCAMpp, at f44afef). For s = 1..S
 * the model runs on x + noise_s (noise ~ N(0, std^2) per input value) and
 * gives the layer's A_s and dA_s; with D2 = mean_s dA_s^2, D3 = mean_s dA_s^3
 * and A the clean activation,
 *   alpha = D2 / (2 D2 + sum_hw(D3 * A) + 1e-8),
 *   w_c = sum_hw alpha_c relu(dA_S),   raw = sum_c w_c A_S.
 * torch-cam's hooks keep the last noisy pass, so relu(dA_S) and the map's
 * activations A_S are the last sample's (the paper averages the gradient;
 * this follows torch-cam's numbers). The targets are fixed by the clean
 * input. Noise: tinycam's seeded generator, one per image seeded with
 * `seed`, drawn sample by sample over the image's values (row-major): a
 * batch equals single-image calls. Costs S forward and backward passes.
 */
function smoothGradCamPlusPlusLayer(options: SmoothGradCamPlusPlusOptions, samples: number, std: number, seed: number) {
  return (layer: LayerCapture, capture: Capture): LayerMapResult => {
    const a = layer.activation;
    const [n, c] = a.shape as [number, number];
    const hw = positions(a);
    const input = capture.input;
    const imageSize = input.size / n;
    const rngs = Array.from({ length: n }, () => new Rng(seed));
    const d2 = new Float64Array(a.size);
    const d3 = new Float64Array(a.size);
    let last: { activation: Tensor; gradient: Tensor } | null = null;
    for (let s = 0; s < samples; s++) {
      const noisy = new Float32Array(input.size);
      for (let i = 0; i < n; i++) {
        const rng = rngs[i]!;
        for (let p = i * imageSize; p < (i + 1) * imageSize; p++) noisy[p] = input.data[p]! + std * rng.normal();
      }
      const again = { output: capture.outputName, explainProbability: options.explainProbability, reshape: options.reshape, target: capture.classes ?? capture.target };
      const pass = captureLayers(capture.model, new Tensor(noisy, input.shape), [layer], again, { gradients: true, fn: 'smoothGradCamPlusPlus' }).layers[0]!;
      const g = pass.gradient!.data;
      for (let j = 0; j < g.length; j++) {
        const v = g[j]!;
        d2[j] = d2[j]! + v * v;
        d3[j] = d3[j]! + v * v * v;
      }
      last = { activation: pass.activation, gradient: pass.gradient! };
    }
    const weights = new Float32Array(n * c);
    for (let nc = 0; nc < n * c; nc++) {
      let cubic = 0;
      for (let p = nc * hw; p < (nc + 1) * hw; p++) cubic += (d3[p]! / samples) * a.data[p]!;
      let w = 0;
      for (let p = nc * hw; p < (nc + 1) * hw; p++) {
        const square = d2[p]! / samples;
        const alpha = square / (2 * square + cubic + 1e-8);
        w += alpha * Math.max(last!.gradient.data[p]!, 0);
      }
      weights[nc] = w;
    }
    const w = new Tensor(weights, [n, c]);
    return { raw: weightedSum(last!.activation, w), weights: w };
  };
}

/** Smooth Grad-CAM++ (torch-cam's variant): Grad-CAM++'s weights from gradients averaged over noisy inputs. */
export function smoothGradCamPlusPlus(model: Module, input: Tensor, options: SmoothGradCamPlusPlusOptions = {}): MapResult {
  const samples = positiveInteger(options.samples, 4, 'samples', 'smoothGradCamPlusPlus');
  const std = options.std ?? 0.3;
  if (!(std >= 0) || !Number.isFinite(std)) throw new ArgumentError(`smoothGradCamPlusPlus: std must be a finite number >= 0 (default 0.3); got ${String(std)}`);
  const seed = options.seed ?? 0;
  return explainWith(model, input, options, {
    name: 'smoothGradCamPlusPlus',
    gradients: false,
    layerMethod: smoothGradCamPlusPlusLayer(options, samples, std, seed),
  });
}
