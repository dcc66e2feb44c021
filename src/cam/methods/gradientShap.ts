import { grad } from '../../tensor/autograd.js';
import { ArgumentError } from '../../tensor/errors.js';
import { Rng } from '../../tensor/random.js';
import { Tensor } from '../../tensor/tensor.js';
import type { Module } from '../../layers/module.js';
import { baselineSet, scoredPass, type AttributionResult } from '../attribution.js';
import { checkInput, inEvalMode } from '../capture.js';
import { positiveInteger } from '../maskedScores.js';
import { targetScorer } from '../scorer.js';
import type { GradientOptions } from '../types.js';

export interface GradientShapOptions extends GradientOptions {
  /** The reference images [B, C, H, W] to draw baselines from. */
  baselines: Tensor;
  /** Random points per image (default 5, as captum). */
  samples?: number;
  /** Standard deviation of Gaussian noise added to the input, in its units (default 0, as captum). */
  std?: number;
  /** Seed of the draws (default 0): the same seed gives the same attributions. */
  seed?: number;
  /** Points per forward pass (default 32). */
  batchSize?: number;
}

/**
 * Lundberg & Lee 2017, GradientSHAP, as captum's GradientShap: for each image
 * and each of `samples` draws, a baseline b from the set (uniformly), a
 * noisy input x~ = x + N(0, std^2) and alpha ~ U(0, 1); the gradient at
 * b + alpha (x~ - b) times (x~ - b); attributions are the mean over draws.
 * Their sum approximates score(x) - E_b score(b) in expectation; `delta` is
 * the sum minus the mean over draws of score(x~) - score(b), which is 0 for
 * a linear model.
 *
 * Draws: one tinycam generator per image seeded with `seed`; per sample the
 * baseline index (rng.int(B)), then alpha (rng.uniform()), then the noise
 * (rng.normal() per input value, only when std > 0). A batch equals
 * single-image calls.
 */
export function gradientShap(model: Module, input: Tensor, options: GradientShapOptions): AttributionResult {
  const fn = 'gradientShap';
  checkInput(input, fn);
  const set = baselineSet(options?.baselines, input, fn);
  const samples = positiveInteger(options.samples, 5, 'samples', fn);
  const requested = positiveInteger(options.batchSize, 32, 'batchSize', fn);
  const std = options.std ?? 0;
  if (!(std >= 0) || !Number.isFinite(std)) throw new ArgumentError(`${fn}: std must be a finite number >= 0 (default 0); got ${String(std)}`);
  const seed = options.seed ?? 0;
  const n = input.shape[0]!;
  const size = input.size / n;
  const b = set.shape[0]!;
  const scorer = targetScorer(model, input, options, fn);
  const classes = scorer.classes;
  const run = { ...options, output: scorer.output };
  return inEvalMode(model, () => {
    // The draws, image by image.
    const draws: { image: number; noisy: Float32Array; baseline: number; alpha: number }[] = [];
    for (let i = 0; i < n; i++) {
      const rng = new Rng(seed);
      const image = input.data.subarray(i * size, (i + 1) * size);
      for (let s = 0; s < samples; s++) {
        const baseline = rng.int(b);
        const alpha = rng.uniform();
        const noisy = std > 0 ? Float32Array.from(image, (v) => v + std * rng.normal()) : image.slice();
        draws.push({ image: i, noisy, baseline, alpha });
      }
    }
    const limit = Math.max(1, Math.min(requested, model.maxBatchSize() ?? Infinity));
    const totals = new Float64Array(input.size);
    const delta = new Float64Array(n);
    const scoreOf = (rows: Float32Array, count: number, images: readonly number[]): Float32Array =>
      scorer.score(new Tensor(rows, [count, ...input.shape.slice(1)]), images);
    for (let first = 0; first < draws.length; first += limit) {
      const batch = draws.slice(first, first + limit);
      const count = batch.length;
      const points = new Float32Array(count * size);
      const noisyRows = new Float32Array(count * size);
      const baselineRows = new Float32Array(count * size);
      batch.forEach((d, r) => {
        const ref = set.data.subarray(d.baseline * size, (d.baseline + 1) * size);
        for (let p = 0; p < size; p++) points[r * size + p] = ref[p]! + d.alpha * (d.noisy[p]! - ref[p]!);
        noisyRows.set(d.noisy, r * size);
        baselineRows.set(ref, r * size);
      });
      const images = batch.map((d) => d.image);
      const pass = scoredPass(model, new Tensor(points, [count, ...input.shape.slice(1)]), run, classes, fn, images);
      const [gradients] = grad(pass.scores, [pass.x], { gradOutput: pass.seed });
      const baselineScores = scoreOf(baselineRows, count, images);
      const gap = scoreOf(noisyRows, count, images).map((v, r) => v - baselineScores[r]!);
      batch.forEach((d, r) => {
        let total = 0;
        for (let p = 0; p < size; p++) {
          const value = gradients!.data[r * size + p]! * (d.noisy[p]! - baselineRows[r * size + p]!);
          totals[d.image * size + p] = totals[d.image * size + p]! + value;
          total += value;
        }
        delta[d.image] = delta[d.image]! + (total - gap[r]!) / samples;
      });
    }
    return {
      gradients: new Tensor(Float32Array.from(totals, (v) => v / samples), input.shape),
      delta: new Tensor(Float32Array.from(delta), [n]),
      targets: classes,
      logits: scorer.logits,
      output: scorer.output,
    };
  });
}
