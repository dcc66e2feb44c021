import { Tensor } from '../../tensor/tensor.js';
import type { Module } from '../../layers/module.js';
import { baselineSet, type AttributionResult } from '../attribution.js';
import { checkInput, inEvalMode } from '../capture.js';
import { positiveInteger } from '../maskedScores.js';
import { targetScorer } from '../scorer.js';
import type { GradientOptions } from '../types.js';
import { checkEps, deepLiftAttributions } from './deepLift.js';

export interface DeepLiftShapOptions extends GradientOptions {
  /** The reference images [B, C, H, W] (a sample of the data distribution). */
  baselines: Tensor;
  /** Input-baseline pairs per forward pass (default 32). */
  batchSize?: number;
  /** As deepLift's (default 1e-10). */
  eps?: number;
}

/**
 * Lundberg & Lee 2017, DeepLiftShap (DeepSHAP): the mean of DeepLIFT's
 * attributions over a set of baselines, as captum's DeepLiftShap: every
 * image is paired with every baseline, the pairs run through deepLift's
 * rules in batches, and each image's attributions are averaged over its B
 * baselines. They sum to score(x) - mean_b score(b) (`delta` holds the
 * difference). Targets are fixed by the input's own logits.
 */
export function deepLiftShap(model: Module, input: Tensor, options: DeepLiftShapOptions): AttributionResult {
  const fn = 'deepLiftShap';
  checkInput(input, fn);
  const set = baselineSet(options?.baselines, input, fn);
  const eps = checkEps(options.eps, fn);
  const requested = positiveInteger(options.batchSize, 32, 'batchSize', fn);
  const n = input.shape[0]!;
  const b = set.shape[0]!;
  const size = input.size / n;
  const scorer = targetScorer(model, input, options, fn);
  const classes = scorer.classes;
  const run = { ...options, output: scorer.output };
  return inEvalMode(model, () => {
    const limit = Math.max(1, Math.min(requested, model.maxBatchSize() ?? Infinity));
    const totals = new Float64Array(input.size);
    const delta = new Float32Array(n);
    // pairs in order (image, baseline); each batch takes the next `limit` of them
    for (let first = 0; first < n * b; first += limit) {
      const count = Math.min(limit, n * b - first);
      const x = new Float32Array(count * size);
      const refs = new Float32Array(count * size);
      const images: number[] = [];
      for (let r = 0; r < count; r++) {
        const image = Math.floor((first + r) / b);
        const baseline = (first + r) % b;
        images.push(image);
        x.set(input.data.subarray(image * size, (image + 1) * size), r * size);
        refs.set(set.data.subarray(baseline * size, (baseline + 1) * size), r * size);
      }
      const shape = [count, ...input.shape.slice(1)];
      const part = deepLiftAttributions(model, new Tensor(x, shape), refs, run, classes, eps, fn, images);
      images.forEach((image, r) => {
        for (let p = 0; p < size; p++) totals[image * size + p] = totals[image * size + p]! + part.attributions[r * size + p]!;
        delta[image] = delta[image]! + part.delta[r]! / b;
      });
    }
    return {
      gradients: new Tensor(Float32Array.from(totals, (v) => v / b), input.shape),
      delta: new Tensor(delta, [n]),
      targets: classes,
      logits: scorer.logits,
      output: scorer.output,
    };
  });
}
