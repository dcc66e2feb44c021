import type { Tensor } from '../../tensor/tensor.js';
import type { Module } from '../../layers/module.js';
import { positiveInteger } from '../maskedScores.js';
import type { MapOptions, MapResult } from '../types.js';
import { averagedScoreCam, type AveragedScoreCamLayerResult, type AveragedScoreCamProgress } from './averagedScoreCam.js';

export interface IsCamOptions extends MapOptions {
  /** Integration steps (default 10, torch-cam's num_samples). */
  steps?: number;
  /** Masked inputs per forward pass (default 32, as torch-cam). */
  batchSize?: number;
  onProgress?: (progress: AveragedScoreCamProgress) => void;
}

/** IS-CAM's results also carry each layer's scores [N, C]: the mean score increase over the steps. */
export type IsCamLayerResult = AveragedScoreCamLayerResult;

/**
 * Naidu et al. 2020, IS-CAM (Integrated Score-CAM), as torch-cam computes it
 * (torchcam/methods/activation.py, ISCAM, at f44afef): with M_c torch-cam's
 * mask of channel c (torchCamMasks), x the input and N steps,
 *   w = softmax_c( (1/N) sum_{i=1..N} score(a_i x * M_c) - score(x) ),
 *   a_i = sum_{j=1..i} j / N,
 * raw = sum_c w_c A_c. The coefficient is torch-cam's running sum, which
 * grows past 1 (to (N + 1) / 2): the paper's integral would use i / N.
 * The loop is averagedScoreCam's. Deterministic; costs N * C / batchSize
 * forward passes per image and layer (`steps` times Score-CAM).
 */
export function isCam(model: Module, input: Tensor, options: IsCamOptions = {}): MapResult & { layers: IsCamLayerResult[] } {
  const steps = positiveInteger(options.steps, 10, 'steps', 'isCam');
  const batchSize = positiveInteger(options.batchSize, 32, 'batchSize', 'isCam');
  return averagedScoreCam(model, input, options, {
    name: 'isCam',
    passes: steps,
    batchSize,
    onProgress: options.onProgress,
    image: (masks, image, channels, plane) => {
      let coefficient = 0;
      return (s) => {
        coefficient += (s + 1) / steps;
        const scale = coefficient;
        return (k, dst) => {
          const mask = masks.subarray(k * plane, (k + 1) * plane);
          for (let ch = 0; ch < channels; ch++) {
            const src = image.subarray(ch * plane, (ch + 1) * plane);
            const out = dst.subarray(ch * plane, (ch + 1) * plane);
            // torch-cam scales the float32 masked input: coeff * (mask * x)
            for (let p = 0; p < plane; p++) out[p] = scale * Math.fround(src[p]! * mask[p]!);
          }
        };
      };
    },
  });
}
