import { ArgumentError } from '../../tensor/errors.js';
import { softmax } from '../../tensor/ops/softmax.js';
import { Tensor } from '../../tensor/tensor.js';
import type { Module } from '../../layers/module.js';
import type { Capture, LayerCapture } from '../capture.js';
import { explainWith, type LayerMapResult } from '../explain.js';
import { channelScoresShare, givenScores, joinLayerScores, type LayerScoresShare, type Share } from '../shares.js';
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

/** Masked images per forward pass asked for (default 16), checked. */
function requestedBatch(options: ScoreCamOptions): number {
  const requested = options.batchSize ?? 16;
  if (!Number.isInteger(requested) || requested < 1) throw new ArgumentError(`scoreCam: batchSize must be a positive integer; got ${requested}`);
  return requested;
}

/**
 * The target scores of image i multiplied by the masks of channels
 * [from, to) of the layer, `batchSize` masks per forward pass starting at
 * `from`; `onPass(rows)` after each pass.
 */
function maskedScores(layer: LayerCapture, capture: Capture, i: number, from: number, to: number, batchSize: number, onPass: (rows: number) => void): Float32Array {
  const a = layer.activation;
  const imageShape = capture.input.shape.slice(1);
  // Channels come first, or last for a model that takes NHWC (TensorFlow.js).
  const channelsLast = capture.model.inputLayout === 'NHWC';
  const channels = channelsLast ? imageShape[imageShape.length - 1]! : imageShape[0]!;
  const size = channelsLast ? imageShape.slice(0, -1) : imageShape.slice(1);
  const count = size.reduce((p, d) => p * d, 1);
  const image = capture.input.data.subarray(i * channels * count, (i + 1) * channels * count);
  const scores = new Float32Array(to - from);
  for (let start = from; start < to; start += batchSize) {
    const rows = Math.min(batchSize, to - start);
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
    scores.set(capture.score(masked, new Array<number>(rows).fill(i)), start - from);
    onPass(rows);
  }
  return scores;
}

/**
 * Wang et al. 2020 as pytorch-grad-cam computes it: the target score of the
 * input multiplied by each channel's mask, softmax over channels gives the
 * weights, raw = sum_c w_c A_c. One forward pass per `batchSize` masks.
 * With `given` (a worker pool's joined shares), a layer's scores [N*C] are
 * taken from it instead of computed.
 */
function scoreCamLayer(options: ScoreCamOptions, progress: { done: number; total: number }, scoresOut: Map<string, Tensor>, given?: ReadonlyMap<string, Float32Array>) {
  const requested = requestedBatch(options);
  return (layer: LayerCapture, capture: Capture): LayerMapResult => {
    const a = layer.activation;
    const [n, c] = a.shape as [number, number];
    let scores: Float32Array;
    if (given) scores = givenScores(given, layer.name, n, c, 'scoreCam');
    else {
      const batchSize = Math.min(requested, capture.model.maxBatchSize() ?? Infinity);
      scores = new Float32Array(n * c);
      for (let i = 0; i < n; i++) {
        const onPass = (rows: number): void => {
          progress.done += rows;
          options.onProgress?.({ done: progress.done, total: progress.total, layer: layer.name });
        };
        scores.set(maskedScores(layer, capture, i, 0, c, batchSize, onPass), i * c);
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
  return scoreCamWith(model, input, options);
}

/**
 * Score-CAM from every share's scores (see scoreCamShare), joined:
 * the same result as scoreCam, bit for bit, with one forward pass (the
 * capture of A) instead of one per `batchSize` channels.
 */
export function scoreCamJoined(
  model: Module,
  input: Tensor,
  options: ScoreCamOptions,
  shares: readonly (readonly LayerScoresShare[])[],
): MapResult & { layers: ScoreCamLayerResult[] } {
  return scoreCamWith(model, input, options, joinLayerScores(shares, 'scoreCam'));
}

function scoreCamWith(model: Module, input: Tensor, options: ScoreCamOptions, given?: ReadonlyMap<string, Float32Array>): MapResult & { layers: ScoreCamLayerResult[] } {
  const scores = new Map<string, Tensor>();
  // The total is known once the layers are captured; count per layer as we go.
  const progress = { done: 0, total: 0 };
  const layerMethod = scoreCamLayer(options, progress, scores, given);
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

/**
 * One share of Score-CAM's masked passes (what a worker pool runs in one
 * worker): the scores of the channels whose passes fall in `share`, at every
 * layer, for every image. Passes are split whole (see passesOf), so the
 * joined scores are scoreCam's, bit for bit. `onProgress` counts this
 * share's masked images (total: the share's own).
 */
export function scoreCamShare(model: Module, input: Tensor, options: ScoreCamOptions, share: Share): LayerScoresShare[] {
  return channelScoresShare(model, input, options, share, 'scoreCam', requestedBatch(options), maskedScores);
}
