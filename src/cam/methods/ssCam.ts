import { ArgumentError } from '../../tensor/errors.js';
import { Rng } from '../../tensor/random.js';
import type { Tensor } from '../../tensor/tensor.js';
import type { Module } from '../../layers/module.js';
import { positiveInteger } from '../maskedScores.js';
import type { MapOptions, MapResult } from '../types.js';
import { averagedScoreCam, type AveragedScoreCamLayerResult, type AveragedScoreCamProgress } from './averagedScoreCam.js';

export interface SsCamOptions extends MapOptions {
  /** Noisy copies of every mask (default 35, as torch-cam). */
  samples?: number;
  /** Standard deviation of the noise added to the masks (default 2.0, as torch-cam). */
  std?: number;
  /** Seed of the noise (default 0): the same seed gives the same map. */
  seed?: number;
  /** Masked inputs per forward pass (default 32, as torch-cam). */
  batchSize?: number;
  onProgress?: (progress: AveragedScoreCamProgress) => void;
}

/** SS-CAM's results also carry each layer's scores [N, C]: the mean score increase of each channel's noisy masks. */
export type SsCamLayerResult = AveragedScoreCamLayerResult;

/**
 * Wang et al. 2020, SS-CAM (Smoothed Score-CAM), as torch-cam computes it
 * (torchcam/methods/activation.py, SSCAM, at f44afef): with M_c torch-cam's
 * mask of channel c (torchCamMasks) and x the input,
 *   w = softmax_c( mean over samples of score(x * (M_c + noise)) - score(x) ),
 * noise ~ N(0, std^2) per mask pixel (the noisy mask is not clipped or
 * rescaled), raw = sum_c w_c A_c. The loop is averagedScoreCam's.
 *
 * Noise comes from tinycam's seeded generator, one generator per image
 * seeded with `seed`, drawn sample by sample, channel by channel, pixel by
 * pixel (row-major): a batch equals single-image calls. Gradient-free;
 * costs samples * C / batchSize forward passes per image and layer
 * (`samples` times Score-CAM).
 */
export function ssCam(model: Module, input: Tensor, options: SsCamOptions = {}): MapResult & { layers: SsCamLayerResult[] } {
  const samples = positiveInteger(options.samples, 35, 'samples', 'ssCam');
  const batchSize = positiveInteger(options.batchSize, 32, 'batchSize', 'ssCam');
  const std = options.std ?? 2;
  const seed = options.seed ?? 0;
  if (!(std >= 0) || !Number.isFinite(std)) throw new ArgumentError(`ssCam: std must be a finite number >= 0 (default 2); got ${String(std)}`);
  return averagedScoreCam(model, input, options, {
    name: 'ssCam',
    passes: samples,
    batchSize,
    onProgress: options.onProgress,
    image: (masks, image, channels, plane) => {
      const rng = new Rng(seed);
      const noisy = new Float32Array(masks.length);
      return () => {
        // one sample: fresh noise on every mask, then x * (M_c + noise) per channel
        for (let p = 0; p < noisy.length; p++) noisy[p] = masks[p]! + std * rng.normal();
        return (k, dst) => {
          const mask = noisy.subarray(k * plane, (k + 1) * plane);
          for (let ch = 0; ch < channels; ch++) {
            const src = image.subarray(ch * plane, (ch + 1) * plane);
            const out = dst.subarray(ch * plane, (ch + 1) * plane);
            for (let p = 0; p < plane; p++) out[p] = src[p]! * mask[p]!;
          }
        };
      };
    },
  });
}
