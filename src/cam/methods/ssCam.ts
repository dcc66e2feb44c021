import { ArgumentError } from '../../tensor/errors.js';
import { Rng } from '../../tensor/random.js';
import { Tensor } from '../../tensor/tensor.js';
import type { Module } from '../../layers/module.js';
import type { Capture, LayerCapture } from '../capture.js';
import { weightedSum } from '../spatial.js';
import { explainWith, type LayerMapResult } from '../explain.js';
import { imageScores, positiveInteger, scoreCopies, softmaxRows, torchCamMasks } from '../maskedScores.js';
import type { LayerResult, MapOptions, MapResult } from '../types.js';

export interface SsCamOptions extends MapOptions {
  /** Noisy copies of every mask (default 35, as torch-cam). */
  samples?: number;
  /** Standard deviation of the noise added to the masks (default 2.0, as torch-cam). */
  std?: number;
  /** Seed of the noise (default 0): the same seed gives the same map. */
  seed?: number;
  /** Masked inputs per forward pass (default 32, as torch-cam). */
  batchSize?: number;
  onProgress?: (progress: { done: number; total: number; layer: string }) => void;
}

/** SS-CAM's results also carry each layer's scores [N, C]: the mean score increase of each channel's noisy masks. */
export interface SsCamLayerResult extends LayerResult {
  scores: Tensor;
}

/**
 * Wang et al. 2020, SS-CAM (Smoothed Score-CAM), as torch-cam computes it
 * (torchcam/methods/activation.py, SSCAM, at f44afef): with M_c torch-cam's
 * mask of channel c (torchCamMasks) and x the input,
 *   w = softmax_c( mean over samples of score(x * (M_c + noise)) - score(x) ),
 * noise ~ N(0, std^2) per mask pixel (the noisy mask is not clipped or
 * rescaled), raw = sum_c w_c A_c.
 *
 * Noise comes from tinycam's seeded generator, one generator per image
 * seeded with `seed`, drawn sample by sample, channel by channel, pixel by
 * pixel (row-major): a batch equals single-image calls. Costs
 * samples * C / batchSize forward passes per image and layer.
 */
function ssCamLayer(options: SsCamOptions, progress: { done: number; total: number }, scoresOut: Map<string, Tensor>) {
  const samples = positiveInteger(options.samples, 35, 'samples', 'ssCam');
  const batchSize = positiveInteger(options.batchSize, 32, 'batchSize', 'ssCam');
  const std = options.std ?? 2;
  const seed = options.seed ?? 0;
  if (!(std >= 0) || !Number.isFinite(std)) throw new ArgumentError(`ssCam: std must be a finite number >= 0 (default 2); got ${String(std)}`);
  return (layer: LayerCapture, capture: Capture): LayerMapResult => {
    const a = layer.activation;
    const [n, c] = a.shape as [number, number];
    const channels = capture.input.shape[1]!;
    const spatial = capture.input.shape.slice(2);
    const plane = spatial.reduce((p, d) => p * d, 1);
    const totals = new Float64Array(n * c);
    const baselines = imageScores(capture);
    for (let i = 0; i < n; i++) {
      const masks = torchCamMasks(a, i, spatial);
      const image = capture.input.data.subarray(i * channels * plane, (i + 1) * channels * plane);
      const baseline = baselines[i]!;
      const rng = new Rng(seed);
      const noisy = new Float32Array(c * plane);
      for (let s = 0; s < samples; s++) {
        for (let p = 0; p < noisy.length; p++) noisy[p] = masks[p]! + std * rng.normal();
        const scores = scoreCopies(capture, i, c, batchSize, (k, dst) => {
          for (let ch = 0; ch < channels; ch++) {
            for (let p = 0; p < plane; p++) dst[ch * plane + p] = image[ch * plane + p]! * noisy[k * plane + p]!;
          }
        }, (scored) => {
          progress.done += scored;
          options.onProgress?.({ done: progress.done, total: progress.total, layer: layer.name });
        });
        for (let k = 0; k < c; k++) totals[i * c + k] = totals[i * c + k]! + scores[k]! - baseline;
      }
    }
    const means = totals.map((t) => t / samples);
    const weights = new Tensor(softmaxRows(means, n, c), [n, c]);
    scoresOut.set(layer.name, new Tensor(Float32Array.from(means), [n, c]));
    return { raw: weightedSum(a, weights), weights };
  };
}

/** SS-CAM: Score-CAM with noise-smoothed masks. Gradient-free; costs `samples` times Score-CAM. */
export function ssCam(model: Module, input: Tensor, options: SsCamOptions = {}): MapResult & { layers: SsCamLayerResult[] } {
  const progress = { done: 0, total: 0 };
  const scores = new Map<string, Tensor>();
  const layerMethod = ssCamLayer(options, progress, scores);
  const samples = options.samples ?? 35;
  const result = explainWith(model, input, options, {
    name: 'ssCam',
    gradients: false,
    layerMethod: (layer, capture) => {
      if (progress.total === 0) progress.total = samples * capture.layers.reduce((s, l) => s + l.activation.shape[0]! * l.activation.shape[1]!, 0);
      return layerMethod(layer, capture);
    },
  });
  return { ...result, layers: result.layers.map((l) => ({ ...l, scores: scores.get(l.name)! })) };
}
