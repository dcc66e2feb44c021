import { ArgumentError } from '../tensor/errors.js';
import type { Tensor } from '../tensor/tensor.js';
import type { Module } from '../layers/module.js';
import { captureLayers, checkInput, inEvalMode, type Capture, type LayerCapture } from './capture.js';
import { locateDefaultLayer, resolveLayers } from './layers.js';
import type { MapOptions } from './types.js';

/**
 * Splitting one explanation's passes into shares, so that a worker pool can
 * run the shares of one image in parallel and join them into the result the
 * single-thread call gives. The methods that can (scoreCam, ablationCam,
 * smoothGrad, integratedGradients) export a `...Share` function (the passes
 * of one share) and a `...Joined` function (the result from every share's
 * work); the plain method is the same two steps with one share.
 */

/** Share `index` of `of` (0 <= index < of). */
export interface Share {
  index: number;
  of: number;
}

/** What one share of Score-CAM or Ablation-CAM computed at one layer: the scores of channels [start, end) of every image. */
export interface LayerScoresShare {
  layer: string;
  /** The layer's channel count C. */
  channels: number;
  start: number;
  end: number;
  /** [N, end - start]: image i's scores of channels start..end-1. */
  scores: Float32Array;
}

/**
 * Find the layers (the model's default one when none is named) and capture
 * them without gradients, as explainWith does before a method's formula:
 * what a share of Score-CAM or Ablation-CAM runs its passes on. Call it
 * inside `inEvalMode`. (Not shared with explainWith, whose three lines
 * stay inline so that an app bundling only gradCam does not grow.)
 */
export function captureForShare(model: Module, input: Tensor, options: MapOptions, fn: string): Capture {
  const layers = options.layer === undefined ? [locateDefaultLayer(model, input, fn, options.reshape)] : resolveLayers(model, options.layer, fn);
  return captureLayers(model, input, layers, options, { gradients: false, fn });
}

/**
 * The scores of image i with each of the layer's channels [from, to) masked
 * or ablated, `batchSize` copies per forward pass starting at `from`;
 * `onPass(count)` after each pass (scoreCam's maskedScores, ablationCam's
 * ablatedScores).
 */
export type ChannelScores = (
  layer: LayerCapture,
  capture: Capture,
  i: number,
  from: number,
  to: number,
  batchSize: number,
  onPass: (count: number) => void,
) => Float32Array;

/**
 * One share of a per-channel method's passes (Score-CAM's masks, Ablation-CAM's
 * ablations): the scores of the channels whose passes fall in `share`, at
 * every layer, for every image. Passes are split whole (see passesOf), so the
 * joined scores are the single-thread call's, bit for bit. `onProgress`
 * counts this share's copies (total: the share's own).
 */
export function channelScoresShare(
  model: Module,
  input: Tensor,
  options: MapOptions & { onProgress?: (progress: { done: number; total: number; layer: string }) => void },
  share: Share,
  fn: string,
  requestedBatch: number,
  scoresOf: ChannelScores,
): LayerScoresShare[] {
  checkInput(input, fn);
  checkShare(share, fn);
  return inEvalMode(model, () => {
    const capture = captureForShare(model, input, options, fn);
    const plans = capture.layers.map((layer) => {
      const [n, c] = layer.activation.shape as [number, number];
      const batchSize = Math.min(requestedBatch, capture.model.maxBatchSize() ?? Infinity);
      const [start, end] = itemsOf(c, batchSize, share);
      return { layer, n, c, batchSize, start, end };
    });
    const progress = { done: 0, total: plans.reduce((s, p) => s + p.n * (p.end - p.start), 0) };
    return plans.map(({ layer, n, c, batchSize, start, end }) => {
      const scores = new Float32Array(n * (end - start));
      const onPass = (count: number): void => {
        progress.done += count;
        options.onProgress?.({ done: progress.done, total: progress.total, layer: layer.name });
      };
      for (let i = 0; i < n; i++) scores.set(scoresOf(layer, capture, i, start, end, batchSize, onPass), i * (end - start));
      return { layer: layer.name, channels: c, start, end, scores };
    });
  });
}

export function checkShare(share: Share, fn: string): void {
  const ok = Number.isInteger(share?.of) && share.of >= 1 && Number.isInteger(share.index) && share.index >= 0 && share.index < share.of;
  if (!ok) throw new ArgumentError(`${fn}: a share must be { index, of } with integers 0 <= index < of; got ${JSON.stringify(share)}`);
}

/**
 * The forward passes [first, last) of `passes` that a share runs: contiguous,
 * in order, counts differing by at most one. Shares split whole passes, so
 * every pass holds the same rows as in the single-thread call and gives the
 * same bits.
 */
export function passesOf(passes: number, share: Share): [number, number] {
  return [Math.floor((passes * share.index) / share.of), Math.floor((passes * (share.index + 1)) / share.of)];
}

/** The items [from, to) of `count`, taken `batchSize` per pass, that a share's passes cover. */
export function itemsOf(count: number, batchSize: number, share: Share): [number, number] {
  const [first, last] = passesOf(Math.ceil(count / batchSize), share);
  return [Math.min(count, first * batchSize), Math.min(count, last * batchSize)];
}

/** Every layer's scores [N * C] from all the shares' LayerScoresShares (checked: each channel exactly once). */
export function joinLayerScores(shares: readonly (readonly LayerScoresShare[])[], fn: string): Map<string, Float32Array> {
  const joined = new Map<string, { channels: number; scores: Float32Array; covered: number }>();
  for (const share of shares) {
    for (const part of share) {
      const width = part.end - part.start;
      const images = width > 0 ? part.scores.length / width : 0;
      let entry = joined.get(part.layer);
      if (!entry && width > 0) {
        entry = { channels: part.channels, scores: new Float32Array(images * part.channels), covered: 0 };
        joined.set(part.layer, entry);
      }
      if (!entry || width === 0) continue;
      for (let i = 0; i < images; i++) entry.scores.set(part.scores.subarray(i * width, (i + 1) * width), i * part.channels + part.start);
      entry.covered += width;
    }
  }
  for (const [layer, entry] of joined) {
    if (entry.covered !== entry.channels) throw new ArgumentError(`${fn}: the shares cover ${entry.covered} of the ${entry.channels} channels of layer '${layer}'; give the scores of every share, each once`);
  }
  return new Map([...joined].map(([layer, entry]) => [layer, entry.scores]));
}

/** The given scores of one layer, checked against its shape [N, C]. */
export function givenScores(given: ReadonlyMap<string, Float32Array>, layer: string, n: number, c: number, fn: string): Float32Array {
  const scores = given.get(layer);
  if (!scores || scores.length !== n * c) {
    throw new ArgumentError(`${fn}: joined scores for layer '${layer}' must hold N x C = ${n * c} values; got ${scores ? scores.length : 'none'}`);
  }
  return scores;
}

/** Add the shares' float64 sums elementwise, in share order. */
export function addSums(sums: readonly Float64Array[], size: number, fn: string): Float64Array {
  const total = new Float64Array(size);
  for (const s of sums) {
    if (s.length !== size) throw new ArgumentError(`${fn}: a share's sums hold ${s.length} values; the input has ${size}`);
    for (let p = 0; p < size; p++) total[p] = total[p]! + s[p]!;
  }
  return total;
}
