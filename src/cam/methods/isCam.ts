import { Tensor } from '../../tensor/tensor.js';
import type { Module } from '../../layers/module.js';
import type { Capture, LayerCapture } from '../capture.js';
import { weightedSum } from '../spatial.js';
import { explainWith, type LayerMapResult } from '../explain.js';
import { imageScores, positiveInteger, scoreCopies, softmaxRows, torchCamMasks } from '../maskedScores.js';
import type { LayerResult, MapOptions, MapResult } from '../types.js';

export interface IsCamOptions extends MapOptions {
  /** Integration steps (default 10, torch-cam's num_samples). */
  steps?: number;
  /** Masked inputs per forward pass (default 32, as torch-cam). */
  batchSize?: number;
  onProgress?: (progress: { done: number; total: number; layer: string }) => void;
}

/** IS-CAM's results also carry each layer's scores [N, C]: the mean score increase over the steps. */
export interface IsCamLayerResult extends LayerResult {
  scores: Tensor;
}

/**
 * Naidu et al. 2020, IS-CAM (Integrated Score-CAM), as torch-cam computes it
 * (torchcam/methods/activation.py, ISCAM, at f44afef): with M_c torch-cam's
 * mask of channel c (torchCamMasks), x the input and N steps,
 *   w = softmax_c( (1/N) sum_{i=1..N} score(a_i x * M_c) - score(x) ),
 *   a_i = sum_{j=1..i} j / N,
 * raw = sum_c w_c A_c. The coefficient is torch-cam's running sum, which
 * grows past 1 (to (N + 1) / 2): the paper's integral would use i / N.
 * Deterministic; costs N * C / batchSize forward passes per image and layer.
 */
function isCamLayer(options: IsCamOptions, progress: { done: number; total: number }, scoresOut: Map<string, Tensor>) {
  const steps = positiveInteger(options.steps, 10, 'steps', 'isCam');
  const batchSize = positiveInteger(options.batchSize, 32, 'batchSize', 'isCam');
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
      let coefficient = 0;
      for (let s = 0; s < steps; s++) {
        coefficient += (s + 1) / steps;
        // torch-cam scales the float32 masked input: coeff * (mask * x)
        const scale = coefficient;
        const scores = scoreCopies(capture, i, c, batchSize, (k, dst) => {
          for (let ch = 0; ch < channels; ch++) {
            for (let p = 0; p < plane; p++) dst[ch * plane + p] = scale * Math.fround(image[ch * plane + p]! * masks[k * plane + p]!);
          }
        }, (scored) => {
          progress.done += scored;
          options.onProgress?.({ done: progress.done, total: progress.total, layer: layer.name });
        });
        for (let k = 0; k < c; k++) totals[i * c + k] = totals[i * c + k]! + scores[k]! - baseline;
      }
    }
    const means = totals.map((t) => t / steps);
    const weights = new Tensor(softmaxRows(means, n, c), [n, c]);
    scoresOut.set(layer.name, new Tensor(Float32Array.from(means), [n, c]));
    return { raw: weightedSum(a, weights), weights };
  };
}

/** IS-CAM: Score-CAM with the masked input scaled in steps. Gradient-free; costs `steps` times Score-CAM. */
export function isCam(model: Module, input: Tensor, options: IsCamOptions = {}): MapResult & { layers: IsCamLayerResult[] } {
  const progress = { done: 0, total: 0 };
  const scores = new Map<string, Tensor>();
  const layerMethod = isCamLayer(options, progress, scores);
  const steps = options.steps ?? 10;
  const result = explainWith(model, input, options, {
    name: 'isCam',
    gradients: false,
    layerMethod: (layer, capture) => {
      if (progress.total === 0) progress.total = steps * capture.layers.reduce((s, l) => s + l.activation.shape[0]! * l.activation.shape[1]!, 0);
      return layerMethod(layer, capture);
    },
  });
  return { ...result, layers: result.layers.map((l) => ({ ...l, scores: scores.get(l.name)! })) };
}
