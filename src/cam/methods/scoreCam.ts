import { noGrad } from '../../tensor/autograd.js';
import { ArgumentError } from '../../tensor/errors.js';
import { interpolate } from '../../tensor/ops/interpolate.js';
import { Tensor } from '../../tensor/tensor.js';
import type { Module } from '../../layers/module.js';
import type { Capture, LayerCapture } from '../capture.js';
import { dims, weightedSum, weightsTensor } from '../channels.js';
import { explainWith, type LayerMapResult } from '../explain.js';
import { scoresFor } from '../targets.js';
import type { LayerResult, MapOptions, MapResult } from '../types.js';

export interface ScoreCamProgress {
  /** Masked images scored so far, over all layers and images. */
  done: number;
  total: number;
  layer: string;
}

export interface ScoreCamOptions extends MapOptions {
  /** Masked images per forward pass (default 16, as pytorch-grad-cam). */
  batchSize?: number;
  /** Called after every forward pass. */
  onProgress?: (progress: ScoreCamProgress) => void;
}

/** Score-CAM's results also carry each layer's scores [N,C]: the target score of each masked input. */
export interface ScoreCamLayerResult extends LayerResult {
  scores: Tensor;
}

/**
 * The masks of one image: its activations upsampled to the input size with
 * align_corners=True bilinear (torch.nn.UpsamplingBilinear2d), each channel
 * scaled by (x - min) / (max - min + 1e-8).
 */
function masksOf(a: Tensor, image: number, height: number, width: number): Float32Array {
  const { c, h, w, hw } = dims(a);
  const one = new Tensor(a.data.subarray(image * c * hw, (image + 1) * c * hw), [1, c, h, w]);
  const up = noGrad(() => interpolate(one, { size: [height, width], mode: 'bilinear', alignCorners: true })).data.slice();
  const size = height * width;
  for (let k = 0; k < c; k++) {
    let lo = Infinity;
    let hi = -Infinity;
    for (let p = k * size; p < (k + 1) * size; p++) {
      lo = Math.min(lo, up[p]!);
      hi = Math.max(hi, up[p]!);
    }
    const scale = hi - lo + 1e-8;
    for (let p = k * size; p < (k + 1) * size; p++) up[p] = (up[p]! - lo) / scale;
  }
  return up;
}

/**
 * Wang et al. 2020 as pytorch-grad-cam computes it: the target score of the
 * input multiplied by each channel's mask, softmax over channels gives the
 * weights, raw = sum_c w_c A_c. One forward pass per `batchSize` masks.
 */
function scoreCamLayer(options: ScoreCamOptions, progress: { done: number; total: number }, scoresOut: Map<string, Tensor>) {
  const requestedBatch = options.batchSize ?? 16;
  if (!Number.isInteger(requestedBatch) || requestedBatch < 1) {
    throw new ArgumentError(`scoreCam: batchSize must be a positive integer; got ${requestedBatch}`);
  }
  return (layer: LayerCapture, capture: Capture): LayerMapResult => {
    const batchSize = Math.min(requestedBatch, capture.model.maxBatchSize() ?? Infinity);
    const a = layer.activation;
    const { n, c } = dims(a);
    const [, channels, height, width] = capture.input.shape as [number, number, number, number];
    const size = height * width;
    const scores = new Float32Array(n * c);
    for (let i = 0; i < n; i++) {
      const masks = masksOf(a, i, height, width);
      const image = capture.input.data.subarray(i * channels * size, (i + 1) * channels * size);
      for (let start = 0; start < c; start += batchSize) {
        const count = Math.min(batchSize, c - start);
        const batch = new Float32Array(count * channels * size);
        for (let b = 0; b < count; b++) {
          const mask = (start + b) * size;
          for (let ch = 0; ch < channels; ch++) {
            const dst = (b * channels + ch) * size;
            const src = ch * size;
            for (let p = 0; p < size; p++) batch[dst + p] = image[src + p]! * masks[mask + p]!;
          }
        }
        const logits = noGrad(() => capture.model.forward(new Tensor(batch, [count, channels, height, width])));
        scores.set(scoresFor(capture.target, capture.classes ? capture.classes[i]! : null, logits), i * c + start);
        progress.done += count;
        options.onProgress?.({ done: progress.done, total: progress.total, layer: layer.name });
      }
    }
    // softmax over channels, per image
    const weights = new Float64Array(n * c);
    for (let i = 0; i < n; i++) {
      let top = -Infinity;
      for (let k = 0; k < c; k++) top = Math.max(top, scores[i * c + k]!);
      let total = 0;
      for (let k = 0; k < c; k++) total += weights[i * c + k] = Math.exp(scores[i * c + k]! - top);
      for (let k = 0; k < c; k++) weights[i * c + k] = weights[i * c + k]! / total;
    }
    scoresOut.set(layer.name, new Tensor(scores, [n, c]));
    return { raw: weightedSum(a, weights), weights: weightsTensor(weights, n, c) };
  };
}

/**
 * Score-CAM (pytorch-grad-cam's variant). Uses no gradients; costs one
 * forward pass per `batchSize` channels per image and layer. Each layer
 * result also has `scores` [N,C].
 */
export function scoreCam(model: Module, input: Tensor, options: ScoreCamOptions = {}): MapResult & { layers: ScoreCamLayerResult[] } {
  const scores = new Map<string, Tensor>();
  // The total is known once the layers are captured; count per layer as we go.
  const progress = { done: 0, total: 0 };
  const layerMethod = scoreCamLayer(options, progress, scores);
  const result = explainWith(model, input, options, {
    name: 'scoreCam',
    gradients: false,
    layerMethod: (layer, capture) => {
      if (progress.total === 0) progress.total = capture.layers.reduce((s, l) => s + l.activation.shape[0]! * l.activation.shape[1]!, 0);
      return layerMethod(layer, capture);
    },
  });
  return { ...result, layers: result.layers.map((l) => ({ ...l, scores: scores.get(l.name)! })) };
}
