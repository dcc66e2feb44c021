import { ArgumentError } from '../tensor/errors.js';
import { Tensor } from '../tensor/tensor.js';
import { baselineData, type Baseline } from './baseline.js';
import { checkImages, imageData } from './checks.js';
import type { BlackBoxResult } from './rise.js';
import { scoreVariants } from './perturb.js';
import { withScorer } from './scorer.js';
import type { Scorable, ScoringOptions } from './types.js';

/**
 * Occlusion (Zeiler & Fergus 2014) as captum's attr.Occlusion computes it:
 * slide a window over the input with a stride, replace what it covers with
 * the baseline, and give every covered element the drop of the score,
 * score(input) - score(occluded); an element's attribution is the mean over
 * the windows that covered it. Window positions along an axis of size D are
 * 0, s, 2s, ... for ceil((D - w) / s) + 1 positions; a window that runs past
 * the edge is cut there.
 */

export interface OcclusionOptions extends ScoringOptions {
  /** Window [h, w] over all channels, [c, h, w], or one number for a square window over all channels. */
  window: number | readonly number[];
  /** Step between windows: a number for every axis, [h, w] or [c, h, w] (default 1, as captum). */
  stride?: number | readonly number[];
  /** What the window is filled with (default 0). */
  baseline?: Baseline;
  onProgress?: (progress: { done: number; total: number }) => void;
}

export interface OcclusionResult extends BlackBoxResult {
  /** [N, C, H, W]: the attribution of each input element (captum's output). */
  attributions: Tensor;
}

function dims3(value: number | readonly number[], name: string, fn: string, channelDefault: number): [number, number, number] {
  const list = typeof value === 'number' ? [channelDefault, value, value] : value.length === 2 ? [channelDefault, ...value] : [...value];
  if (list.length !== 3 || !list.every((v) => Number.isInteger(v) && v >= 1)) {
    throw new ArgumentError(`${fn}: ${name} must be a positive integer, [h, w] or [c, h, w] of positive integers; got ${JSON.stringify(value)}`);
  }
  return list as [number, number, number];
}

/** occlusion(model, input, { window, stride, baseline }): attributions [N, C, H, W] and maps [N, H, W] (their mean over channels). */
export function occlusion(model: Scorable, input: Tensor, options: OcclusionOptions): OcclusionResult {
  const fn = 'occlusion';
  const layout = checkImages(input, fn);
  const { n, channels, height, width, positions } = layout;
  if (options === undefined || options.window === undefined) throw new ArgumentError(`${fn}: options.window is required: the occluding window [h, w] (over all channels) or [c, h, w]`);
  const window = dims3(options.window, 'window', fn, channels);
  const stride = dims3(options.stride ?? 1, 'stride', fn, typeof options.stride === 'number' ? options.stride : 1);
  const sizes = [channels, height, width];
  sizes.forEach((d, a) => {
    if (window[a]! > d) throw new ArgumentError(`${fn}: the window ${window.join('x')} is larger than the input's ${sizes.join('x')} along axis ${a}`);
    if (d > window[a]! && stride[a]! > window[a]!) throw new ArgumentError(`${fn}: stride ${stride[a]} is larger than the window ${window[a]} along axis ${a}; captum refuses this (elements would be skipped)`);
  });
  const counts = sizes.map((d, a) => Math.ceil((d - window[a]!) / stride[a]!) + 1) as [number, number, number];
  const perImage = counts[0] * counts[1] * counts[2];
  const baseline = baselineData(options.baseline, input, layout, fn);
  const size = channels * positions;
  /** The window of feature f: captum enumerates with the channel axis fastest. */
  const windowOf = (f: number) => {
    const c = (f % counts[0]) * stride[0];
    const rest = Math.floor(f / counts[0]);
    const y = (rest % counts[1]) * stride[1];
    const x = Math.floor(rest / counts[1]) * stride[2];
    return { c0: c, c1: Math.min(c + window[0], channels), y0: y, y1: Math.min(y + window[1], height), x0: x, x1: Math.min(x + window[2], width) };
  };
  return withScorer(model, input, options, fn, (scorer) => {
    const scores = scoreVariants(
      scorer,
      layout,
      n * perImage,
      (k, out) => {
        const i = Math.floor(k / perImage);
        const w = windowOf(k % perImage);
        out.set(imageData(input, layout, i));
        const base = baseline.subarray(i * size, (i + 1) * size);
        for (let c = w.c0; c < w.c1; c++) {
          for (let y = w.y0; y < w.y1; y++) {
            const row = c * positions + y * width;
            for (let x = w.x0; x < w.x1; x++) out[row + x] = base[row + x]!;
          }
        }
        return i;
      },
      (done, total) => options.onProgress?.({ done, total }),
    );
    const total = new Float64Array(input.size);
    const covered = new Float64Array(input.size);
    for (let k = 0; k < n * perImage; k++) {
      const i = Math.floor(k / perImage);
      const drop = scorer.before[i]! - scores[k]!;
      const w = windowOf(k % perImage);
      for (let c = w.c0; c < w.c1; c++) {
        for (let y = w.y0; y < w.y1; y++) {
          const row = i * size + c * positions + y * width;
          for (let x = w.x0; x < w.x1; x++) {
            total[row + x] = total[row + x]! + drop;
            covered[row + x] = covered[row + x]! + 1;
          }
        }
      }
    }
    const attributions = Float32Array.from(total, (v, e) => v / covered[e]!);
    return { attributions: new Tensor(attributions, input.shape), maps: channelMean(attributions, layout), targets: scorer.classes, scoreBefore: scorer.before, cost: { ...scorer.cost } };
  });
}

/** [N, H, W]: the mean over channels of [N, C, H, W] attributions. */
export function channelMean(attributions: Float32Array, layout: { n: number; channels: number; height: number; width: number; positions: number }): Tensor {
  const { n, channels, height, width, positions } = layout;
  const maps = new Float32Array(n * positions);
  for (let i = 0; i < n; i++) {
    for (let p = 0; p < positions; p++) {
      let s = 0;
      for (let c = 0; c < channels; c++) s += attributions[(i * channels + c) * positions + p]!;
      maps[i * positions + p] = s / channels;
    }
  }
  return new Tensor(maps, [n, height, width]);
}
