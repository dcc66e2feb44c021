import { createImage, type RgbaImage } from '../image/index.js';
import { Tensor } from '../tensor/tensor.js';

/*
 * Pictures of input gradients ([C, H, W] for one image), as the reference
 * tools draw them.
 */

/**
 * captum's visualize_image_attr(method='heat_map', sign='absolute_value',
 * outlier_perc=2): the channels summed, the magnitude taken, and divided by
 * the value below which 98 % of the total magnitude lies (so a few extreme
 * pixels do not wash the rest out), clipped to [0, 1]. An all-zero
 * gradient gives an all-zero map. Returns [H, W].
 */
export function attributionMap(gradients: Tensor): Tensor {
  const [channels, height, width] = chw(gradients);
  const plane = height * width;
  const summed = new Float64Array(plane);
  for (let c = 0; c < channels; c++) for (let i = 0; i < plane; i++) summed[i]! += gradients.data[c * plane + i]!;
  for (let i = 0; i < plane; i++) summed[i] = Math.abs(summed[i]!);
  const threshold = cumulativeSumThreshold(summed, 98);
  const out = new Float32Array(plane);
  if (threshold > 0) for (let i = 0; i < plane; i++) out[i] = Math.min(1, summed[i]! / threshold);
  return new Tensor(out, [height, width]);
}

/** captum's _cumulative_sum_threshold: the smallest sorted value at which the running sum reaches `percentile` % of the total. */
function cumulativeSumThreshold(values: Float64Array, percentile: number): number {
  const sorted = Float64Array.from(values).sort();
  let total = 0;
  for (const v of sorted) total += v;
  const goal = total * 0.01 * percentile;
  let sum = 0;
  for (const v of sorted) {
    sum += v;
    if (sum >= goal) return v;
  }
  return sorted[sorted.length - 1] ?? 0;
}

/**
 * pytorch-grad-cam's deprocess_image (from keras-grad-cam): the gradient
 * centred on its mean, scaled to 0.1 standard deviations per unit around
 * mid-grey, clipped, as an RGB picture (one channel is shown as grey).
 */
export function gradientPicture(gradients: Tensor): RgbaImage {
  const [channels, height, width] = chw(gradients);
  const d = gradients.data;
  let mean = 0;
  for (let i = 0; i < d.length; i++) mean += d[i]!;
  mean /= d.length;
  let variance = 0;
  for (let i = 0; i < d.length; i++) variance += (d[i]! - mean) ** 2;
  const std = Math.sqrt(variance / d.length);
  const plane = height * width;
  const out = createImage(width, height);
  for (let i = 0; i < plane; i++) {
    for (let k = 0; k < 3; k++) {
      const v = d[(channels === 3 ? k : 0) * plane + i]!;
      const scaled = ((v - mean) / (std + 1e-5)) * 0.1 + 0.5;
      // np.uint8(np.clip(x, 0, 1) * 255): truncation.
      out.data[i * 4 + k] = Math.trunc(Math.min(1, Math.max(0, scaled)) * 255);
    }
    out.data[i * 4 + 3] = 255;
  }
  return out;
}

function chw(gradients: Tensor): [number, number, number] {
  const s = gradients.shape;
  const shape = s.length === 4 && s[0] === 1 ? s.slice(1) : s;
  if (shape.length !== 3) throw new Error(`expected gradients [C, H, W] or [1, C, H, W], got [${s.join(', ')}]`);
  return shape as [number, number, number];
}
