import { Tensor } from '../../tensor/tensor.js';
import type { Module } from '../../layers/module.js';
import type { Capture, LayerCapture } from '../capture.js';
import { weightedSum } from '../spatial.js';
import { explainWith, type LayerMapResult } from '../explain.js';
import { imageScores, scoreCopies, softmaxRows, torchCamMasks } from '../maskedScores.js';
import type { LayerResult, MapOptions, MapResult } from '../types.js';

/** What SS-CAM and IS-CAM report after every forward pass. */
export interface AveragedScoreCamProgress {
  /** Masked images scored so far, over all passes, layers and images. */
  done: number;
  total: number;
  layer: string;
}

/** Each layer result also carries the layer's scores [N, C]: the mean score increase of each channel's copies. */
export interface AveragedScoreCamLayerResult extends LayerResult {
  scores: Tensor;
}

/** Writes the masked copy of channel `k` (one image, [channels, ...spatial]) into `dst`. */
export type FillCopy = (k: number, dst: Float32Array) => void;

export interface AveragedScoreCamSpec {
  /** The public function's name, for errors. */
  name: string;
  /** Passes over all C masks per image and layer (SS-CAM's samples, IS-CAM's steps). */
  passes: number;
  /** Masked copies per forward pass. */
  batchSize: number;
  /**
   * Called once per image and layer with torch-cam's masks [C, plane] and
   * the image [channels, plane]; returns, for pass s = 0..passes-1 (called
   * in order), how that pass fills the copies.
   */
  image(masks: Float32Array, image: Float32Array, channels: number, plane: number): (pass: number) => FillCopy;
  onProgress?: (progress: AveragedScoreCamProgress) => void;
}

/**
 * The loop torch-cam's SS-CAM and IS-CAM share (torchcam/methods/activation.py,
 * SSCAM._get_score_weights and ISCAM._get_score_weights at f44afef): for
 * each image, `passes` rounds of scoring one modified masked copy per
 * channel; the weights are
 *   w = softmax_c( (1/passes) sum_s score(copy_{s,c}) - score(x) ),
 * raw = sum_c w_c A_c. The differences are averaged in float64 (torch-cam
 * sums them in float32). The copies run batched through Capture.score,
 * which records no graph (noGrad).
 */
export function averagedScoreCam(model: Module, input: Tensor, options: MapOptions, spec: AveragedScoreCamSpec): MapResult & { layers: AveragedScoreCamLayerResult[] } {
  const progress = { done: 0, total: 0 };
  const scoresOut = new Map<string, Tensor>();
  const layerMethod = (layer: LayerCapture, capture: Capture): LayerMapResult => {
    if (progress.total === 0) progress.total = spec.passes * capture.layers.reduce((s, l) => s + l.activation.shape[0]! * l.activation.shape[1]!, 0);
    const a = layer.activation;
    const [n, c] = a.shape as [number, number];
    const channels = capture.input.shape[1]!;
    const spatial = capture.input.shape.slice(2);
    const plane = spatial.reduce((p, d) => p * d, 1);
    const totals = new Float64Array(n * c);
    const baselines = imageScores(capture);
    const onBatch = (scored: number): void => {
      progress.done += scored;
      spec.onProgress?.({ done: progress.done, total: progress.total, layer: layer.name });
    };
    for (let i = 0; i < n; i++) {
      const masks = torchCamMasks(a, i, spatial);
      const image = capture.input.data.subarray(i * channels * plane, (i + 1) * channels * plane);
      const pass = spec.image(masks, image, channels, plane);
      const baseline = baselines[i]!;
      for (let s = 0; s < spec.passes; s++) {
        const scores = scoreCopies(capture, i, c, spec.batchSize, pass(s), onBatch);
        for (let k = 0; k < c; k++) totals[i * c + k] = totals[i * c + k]! + scores[k]! - baseline;
      }
    }
    const means = totals.map((t) => t / spec.passes);
    const weights = new Tensor(softmaxRows(means, n, c), [n, c]);
    scoresOut.set(layer.name, new Tensor(Float32Array.from(means), [n, c]));
    return { raw: weightedSum(a, weights), weights };
  };
  const result = explainWith(model, input, options, { name: spec.name, gradients: false, layerMethod });
  return { ...result, layers: result.layers.map((l) => ({ ...l, scores: scoresOut.get(l.name)! })) };
}
