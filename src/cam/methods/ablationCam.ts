import { ArgumentError } from '../../tensor/errors.js';
import { Tensor } from '../../tensor/tensor.js';
import { withForwardHooks } from '../../layers/hooks.js';
import type { Module } from '../../layers/module.js';
import type { Capture, LayerCapture } from '../capture.js';
import { explainWith, type LayerMapResult } from '../explain.js';
import { channelScoresShare, givenScores, joinLayerScores, type LayerScoresShare, type Share } from '../shares.js';
import { weightedSum } from '../spatial.js';
import type { LayerResult, MapOptions, MapResult } from '../types.js';

/** Ablation-CAM's results also carry each layer's scores [N,C]: the target score with each channel ablated. */
export interface AblationCamLayerResult extends LayerResult {
  scores: Tensor;
}

export interface AblationCamOptions extends MapOptions {
  /** Ablated copies per forward pass (default 32). */
  batchSize?: number;
  onProgress?: (progress: { done: number; total: number; layer: string }) => void;
}

/**
 * The value an ablated channel takes, pytorch-grad-cam's rule
 * (pytorch_grad_cam/ablation_layer.py, AblationLayer, at 084273b): 0 when the
 * minimum of the image's layer output (over every channel and position) is
 * 0, as after a ReLU; otherwise that minimum minus 1e7, so that a layer whose
 * values can be negative really loses the channel (0 would be an ordinary
 * value there). Computed in float32, as torch does.
 */
export function ablationValue(activation: Float32Array): number {
  let lo = Infinity;
  for (const v of activation) if (v < lo) lo = v;
  return lo === 0 ? 0 : Math.fround(lo - 1e7);
}

/**
 * Desai & Ramaswamy 2020: w_c = (y - y_c) / y, where y is the target score
 * and y_c the score with channel c of the layer's output set to the ablation
 * value (see ablationValue); raw = sum_c w_c A_c. When y is 0 the weights are
 * all 0 (not NaN).
 *
 * Each ablated copy reruns the whole model with a forward hook replacing the
 * layer's output; a layer that runs more than once is ablated at every call,
 * each call with its own output's minimum.
 *
 * One departure from pytorch-grad-cam's code: its AblationLayer re-reads the
 * minimum of the batch it is writing after each ablated copy, so when the
 * minimum is not 0 the k-th copy of a forward batch gets min - k * 1e7 and
 * the weights depend on the batch size. Here every copy gets min - 1e7.
 */
function ablationCamLayer(
  options: AblationCamOptions,
  progress: { done: number; total: number },
  scoresOut: Map<string, Tensor>,
  given?: ReadonlyMap<string, Float32Array>,
) {
  const requested = requestedBatch(options);
  return (layer: LayerCapture, capture: Capture): LayerMapResult => {
    const a = layer.activation;
    const [n, c] = a.shape as [number, number];
    const originals = capture.score(capture.input, Array.from({ length: n }, (_, i) => i));
    let scores: Float32Array;
    if (given) scores = givenScores(given, layer.name, n, c, 'ablationCam');
    else {
      const batchSize = Math.min(requested, capture.model.maxBatchSize() ?? Infinity);
      scores = new Float32Array(n * c);
      const onPass = (count: number): void => {
        progress.done += count;
        options.onProgress?.({ done: progress.done, total: progress.total, layer: layer.name });
      };
      for (let i = 0; i < n; i++) scores.set(ablatedScores(layer, capture, i, 0, c, batchSize, onPass), i * c);
    }
    const weights = new Float32Array(n * c);
    for (let i = 0; i < n; i++) {
      const original = originals[i]!;
      for (let k = 0; k < c; k++) weights[i * c + k] = original === 0 ? 0 : (original - scores[i * c + k]!) / original;
    }
    const w = new Tensor(weights, [n, c]);
    scoresOut.set(layer.name, new Tensor(scores, [n, c]));
    return { raw: weightedSum(a, w), weights: w };
  };
}

/** Ablated copies per forward pass asked for (default 32), checked. */
function requestedBatch(options: AblationCamOptions): number {
  const requested = options.batchSize ?? 32;
  if (!Number.isInteger(requested) || requested < 1) throw new ArgumentError(`ablationCam: batchSize must be a positive integer; got ${requested}`);
  return requested;
}

/**
 * The target scores of image i with each channel of [from, to) of the
 * layer's output ablated, `batchSize` copies per forward pass starting at
 * `from`; `onPass(count)` after each pass.
 */
function ablatedScores(layer: LayerCapture, capture: Capture, i: number, from: number, to: number, batchSize: number, onPass: (count: number) => void): Float32Array {
  const n = capture.input.shape[0]!;
  const imageShape = capture.input.shape.slice(1);
  const imageSize = capture.input.size / n;
  const image = capture.input.data.subarray(i * imageSize, (i + 1) * imageSize);
  const scores = new Float32Array(to - from);
  for (let start = from; start < to; start += batchSize) {
    const count = Math.min(batchSize, to - start);
    const batch = new Float32Array(count * imageSize);
    for (let b = 0; b < count; b++) batch.set(image, b * imageSize);
    // Copy b of the batch has channel start + b of the layer's output ablated.
    const ablate = (_m: Module, _inputs: readonly Tensor[], output: Tensor): Tensor => {
      const data = output.data.slice();
      const per = output.size / (output.shape[0]! * output.shape[1]!);
      const oc = output.shape[1]!;
      for (let b = 0; b < count; b++) {
        const value = ablationValue(output.data.subarray(b * oc * per, (b + 1) * oc * per));
        data.fill(value, (b * oc + start + b) * per, (b * oc + start + b + 1) * per);
      }
      return new Tensor(data, output.shape);
    };
    const ablated = withForwardHooks([[layer.name, layer.module]], (_name, m, inputs, output) => ablate(m, inputs, output), () =>
      capture.score(new Tensor(batch, [count, ...imageShape]), new Array<number>(count).fill(i)),
    );
    scores.set(ablated.subarray(0, count), start - from);
    onPass(count);
  }
  return scores;
}

/**
 * Ablation-CAM. Uses no gradients; one forward pass per `batchSize` channels
 * per image and layer. Each layer result also has `scores` [N,C].
 */
export function ablationCam(model: Module, input: Tensor, options: AblationCamOptions = {}): MapResult & { layers: AblationCamLayerResult[] } {
  return ablationCamWith(model, input, options);
}

/**
 * Ablation-CAM from every share's scores (see ablationCamShare), joined: the
 * same result as ablationCam, bit for bit, with two forward passes (the
 * capture and the unablated score) instead of one per `batchSize` channels.
 */
export function ablationCamJoined(
  model: Module,
  input: Tensor,
  options: AblationCamOptions,
  shares: readonly (readonly LayerScoresShare[])[],
): MapResult & { layers: AblationCamLayerResult[] } {
  return ablationCamWith(model, input, options, joinLayerScores(shares, 'ablationCam'));
}

function ablationCamWith(model: Module, input: Tensor, options: AblationCamOptions, given?: ReadonlyMap<string, Float32Array>): MapResult & { layers: AblationCamLayerResult[] } {
  const progress = { done: 0, total: 0 };
  const scores = new Map<string, Tensor>();
  const layerMethod = ablationCamLayer(options, progress, scores, given);
  const result = explainWith(model, input, options, {
    name: 'ablationCam',
    gradients: false,
    layerMethod: (layer, capture) => {
      if (progress.total === 0) progress.total = capture.layers.reduce((s, l) => s + l.activation.shape[0]! * l.activation.shape[1]!, 0);
      return layerMethod(layer, capture);
    },
  });
  return { ...result, layers: result.layers.map((l) => ({ ...l, scores: scores.get(l.name)! })) };
}

/**
 * One share of Ablation-CAM's ablated passes (what a worker pool runs in one
 * worker): the scores of the channels whose passes fall in `share`, at every
 * layer, for every image; passes split whole, so the joined scores are
 * ablationCam's, bit for bit. `onProgress` counts this share's copies.
 */
export function ablationCamShare(model: Module, input: Tensor, options: AblationCamOptions, share: Share): LayerScoresShare[] {
  return channelScoresShare(model, input, options, share, 'ablationCam', requestedBatch(options), ablatedScores);
}
