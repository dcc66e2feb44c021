import { ArgumentError } from '../../tensor/errors.js';
import { Rng } from '../../tensor/random.js';
import { Tensor } from '../../tensor/tensor.js';
import type { Module } from '../../layers/module.js';
import { checkInput } from '../capture.js';
import { targetScorer, type Scorer } from '../scorer.js';
import { addSums, checkShare, passesOf, type Share } from '../shares.js';
import type { GradientOptions, GradientResult } from '../types.js';
import { saliency } from './saliency.js';

/** Any input-gradient method: saliency, inputXGradient, guidedBackprop, deconvnet, integratedGradients… */
export type GradientMethod<O extends GradientOptions> = (model: Module, input: Tensor, options: O) => GradientResult;

export interface SmoothGradOptions<O extends GradientOptions = GradientOptions> extends GradientOptions {
  /** The method to smooth (default saliency). */
  method?: GradientMethod<O>;
  /** Options passed to the method (its target and output are set by smoothGrad). */
  methodOptions?: Omit<O, keyof GradientOptions>;
  /** Noisy copies averaged (default 25). */
  samples?: number;
  /** Noise std as a fraction of each image's value range, max - min (default 0.15, Smilkov et al.). */
  noiseLevel?: number;
  /** Seed of the noise (default 0): the same seed gives the same result. */
  seed?: number;
  /** Average squared gradients (SmoothGrad-Squared); default false. */
  squared?: boolean;
}

/**
 * Smilkov et al. 2017: the mean of a gradient method over `samples` copies
 * of the input with Gaussian noise of std noiseLevel * (max - min) per image.
 * The targets are fixed from the clean input's logits, so the noise cannot
 * change which class is explained.
 */
export function smoothGrad<O extends GradientOptions = GradientOptions>(
  model: Module,
  input: Tensor,
  options: SmoothGradOptions<O> = {},
): GradientResult {
  const { samples, noiseLevel, scorer } = prepare(model, input, options);
  return finish(input, noisySums(model, input, options, noiseLevel, scorer, 0, samples), samples, scorer);
}

/**
 * One share of SmoothGrad's samples (what a worker pool runs in one worker):
 * the float64 sum of the method's gradients (or their squares) over the
 * samples in `share`, with the very noise smoothGrad draws for them (the
 * generator is advanced past the earlier samples' draws).
 */
export function smoothGradShare<O extends GradientOptions = GradientOptions>(model: Module, input: Tensor, options: SmoothGradOptions<O>, share: Share): Float64Array {
  checkShare(share, 'smoothGrad');
  const { samples, noiseLevel, scorer } = prepare(model, input, options);
  const [from, to] = passesOf(samples, share);
  return noisySums(model, input, options, noiseLevel, scorer, from, to);
}

/**
 * SmoothGrad from every share's sums (see smoothGradShare), added in share
 * order: smoothGrad's result up to the order of the float64 sum (one forward
 * pass, for the targets, instead of `samples` gradients).
 */
export function smoothGradJoined<O extends GradientOptions = GradientOptions>(
  model: Module,
  input: Tensor,
  options: SmoothGradOptions<O>,
  shares: readonly Float64Array[],
): GradientResult {
  const { samples, scorer } = prepare(model, input, options);
  return finish(input, addSums(shares, input.size, 'smoothGrad'), samples, scorer);
}

function prepare<O extends GradientOptions>(model: Module, input: Tensor, options: SmoothGradOptions<O>): { samples: number; noiseLevel: number; scorer: Scorer } {
  const fn = 'smoothGrad';
  checkInput(input, fn);
  const samples = options.samples ?? 25;
  const noiseLevel = options.noiseLevel ?? 0.15;
  if (!Number.isInteger(samples) || samples < 1) throw new ArgumentError(`${fn}: samples must be a positive integer; got ${samples}`);
  if (!(noiseLevel >= 0) || !Number.isFinite(noiseLevel)) throw new ArgumentError(`${fn}: noiseLevel must be a finite number >= 0; got ${noiseLevel}`);
  return { samples, noiseLevel, scorer: targetScorer(model, input, options, fn) };
}

/** The float64 sum of the method's gradients (or squares) over samples [from, to) of the noise drawn from `seed`. */
function noisySums<O extends GradientOptions>(
  model: Module, input: Tensor, options: SmoothGradOptions<O>, noiseLevel: number, scorer: Scorer, from: number, to: number,
): Float64Array {
  const method = (options.method ?? saliency) as GradientMethod<O>;
  const target = scorer.target;
  const n = input.shape[0]!;
  const imageSize = input.size / n;
  const sigma = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let lo = Infinity;
    let hi = -Infinity;
    for (let p = i * imageSize; p < (i + 1) * imageSize; p++) {
      lo = Math.min(lo, input.data[p]!);
      hi = Math.max(hi, input.data[p]!);
    }
    sigma[i] = noiseLevel * (hi - lo);
  }
  const rng = new Rng(options.seed ?? 0);
  // Sample s draws input.size normals in order: skip the draws of samples before `from`.
  for (let d = from * input.size; d > 0; d--) rng.normal();
  const total = new Float64Array(input.size);
  for (let s = from; s < to; s++) {
    const noisy = new Float32Array(input.size);
    for (let p = 0; p < input.size; p++) noisy[p] = input.data[p]! + sigma[Math.floor(p / imageSize)]! * rng.normal();
    const result = method(model, new Tensor(noisy, input.shape), { ...(options.methodOptions ?? {}), target, output: scorer.output, explainProbability: options.explainProbability } as O);
    const g = result.gradients.data;
    if (options.squared) for (let p = 0; p < g.length; p++) total[p] = total[p]! + g[p]! * g[p]!;
    else for (let p = 0; p < g.length; p++) total[p] = total[p]! + g[p]!;
  }
  return total;
}

function finish(input: Tensor, total: Float64Array, samples: number, scorer: Scorer): GradientResult {
  const mean = new Float32Array(input.size);
  for (let p = 0; p < mean.length; p++) mean[p] = total[p]! / samples;
  return { gradients: new Tensor(mean, input.shape), targets: scorer.classes, logits: scorer.logits, output: scorer.output };
}
