import { ArgumentError } from '../../tensor/errors.js';
import { softmax } from '../../tensor/ops/softmax.js';
import { Tensor } from '../../tensor/tensor.js';
import type { Module } from '../../layers/module.js';
import type { Capture, LayerCapture } from '../capture.js';
import { explainWith, type LayerMapResult } from '../explain.js';
import { resizeMaps } from '../postprocess.js';
import { positions, weightedSum } from '../spatial.js';
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
 * The masks of channels [start, start + c) of one image: its activations
 * [c, ...spatial] upsampled to the input's spatial size with
 * align_corners=True (torch.nn.UpsamplingBilinear2d), each channel scaled by
 * (x - min) / (max - min + 1e-8). [c, ...input spatial]. Made one forward
 * pass's worth at a time: all 512 masks of a ResNet's layer4 at 224x224 would
 * hold 103 MB (twice that while made); each channel's mask is its own.
 */
function masksOf(a: Tensor, image: number, size: readonly number[], start: number, c: number): Float32Array {
  const plane = positions(a);
  const first = (image * a.shape[1]! + start) * plane;
  const channels = new Tensor(a.data.subarray(first, first + c * plane), [c, ...a.shape.slice(2)]);
  const resized = resizeMaps(channels, size, { alignCorners: true });
  // Scaled in place below: copy only when no resize happened (the data is then the activations').
  const up = resized === channels ? resized.data.slice() : resized.data;
  const count = size.reduce((p, d) => p * d, 1);
  for (let k = 0; k < c; k++) {
    let lo = Infinity;
    let hi = -Infinity;
    for (let p = k * count; p < (k + 1) * count; p++) {
      lo = Math.min(lo, up[p]!);
      hi = Math.max(hi, up[p]!);
    }
    const scale = hi - lo + 1e-8;
    for (let p = k * count; p < (k + 1) * count; p++) up[p] = (up[p]! - lo) / scale;
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
    const [n, c] = a.shape as [number, number];
    const imageShape = capture.input.shape.slice(1);
    // Channels come first, or last for a model that takes NHWC (TensorFlow.js).
    const channelsLast = capture.model.inputLayout === 'NHWC';
    const channels = channelsLast ? imageShape[imageShape.length - 1]! : imageShape[0]!;
    const size = channelsLast ? imageShape.slice(0, -1) : imageShape.slice(1);
    const count = size.reduce((p, d) => p * d, 1);
    const scores = new Float32Array(n * c);
    for (let i = 0; i < n; i++) {
      const image = capture.input.data.subarray(i * channels * count, (i + 1) * channels * count);
      for (let start = 0; start < c; start += batchSize) {
        const rows = Math.min(batchSize, c - start);
        const masks = masksOf(a, i, size, start, rows);
        const batch = new Float32Array(rows * channels * count);
        for (let b = 0; b < rows; b++) {
          const mask = b * count;
          if (channelsLast) {
            const dst = b * channels * count;
            for (let p = 0; p < count; p++) {
              for (let ch = 0; ch < channels; ch++) batch[dst + p * channels + ch] = image[p * channels + ch]! * masks[mask + p]!;
            }
            continue;
          }
          for (let ch = 0; ch < channels; ch++) {
            const dst = (b * channels + ch) * count;
            const src = ch * count;
            for (let p = 0; p < count; p++) batch[dst + p] = image[src + p]! * masks[mask + p]!;
          }
        }
        const masked = new Tensor(batch, [rows, ...imageShape]);
        scores.set(capture.score(masked, new Array<number>(rows).fill(i)), i * c + start);
        progress.done += rows;
        options.onProgress?.({ done: progress.done, total: progress.total, layer: layer.name });
      }
    }
    const scoreTensor = new Tensor(scores, [n, c]);
    scoresOut.set(layer.name, scoreTensor);
    const weights = softmax(scoreTensor, 1);
    return { raw: weightedSum(a, weights), weights };
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
