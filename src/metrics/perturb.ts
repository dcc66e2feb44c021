import { Tensor } from '../tensor/tensor.js';
import type { Layout } from './checks.js';
import type { Scorer } from './scorer.js';

/**
 * The masking code every perturbation metric and black-box method shares:
 * write perturbed copies of the input, score them in batches.
 */

/** out[c, p] = image[c, p] * weight[p]: the map (or a soft mask) broadcast over channels, in float32. */
export function multiplyInto(out: Float32Array, image: Float32Array, weight: ArrayLike<number>, layout: Layout): void {
  const { channels, positions } = layout;
  for (let c = 0; c < channels; c++) {
    const base = c * positions;
    for (let p = 0; p < positions; p++) out[base + p] = image[base + p]! * weight[p]!;
  }
}

/** out[c, p] = keep[p] ? image[c, p] : substrate[c, p] (a binary mask broadcast over channels). */
export function selectInto(out: Float32Array, image: Float32Array, substrate: Float32Array, keep: ArrayLike<number>, layout: Layout): void {
  const { channels, positions } = layout;
  for (let c = 0; c < channels; c++) {
    const base = c * positions;
    for (let p = 0; p < positions; p++) out[base + p] = keep[p] ? image[base + p]! : substrate[base + p]!;
  }
}

/**
 * Score `count` perturbed inputs, `scorer.batchSize` per model call.
 * `write(k, out)` writes the k-th input (C x H x W values) into `out` and
 * returns the index of the image it is a variant of. `onBatch` hears the
 * progress after every call.
 */
export function scoreVariants(
  scorer: Scorer,
  layout: Layout,
  count: number,
  write: (k: number, out: Float32Array) => number,
  onBatch?: (done: number, total: number) => void,
): Float32Array {
  const size = layout.channels * layout.positions;
  const scores = new Float32Array(count);
  for (let start = 0; start < count; start += scorer.batchSize) {
    const rows = Math.min(scorer.batchSize, count - start);
    const batch = new Float32Array(rows * size);
    const images: number[] = [];
    for (let r = 0; r < rows; r++) images.push(write(start + r, batch.subarray(r * size, (r + 1) * size)));
    scores.set(scorer.score(new Tensor(batch, [rows, layout.channels, layout.height, layout.width]), images), start);
    onBatch?.(start + rows, count);
  }
  return scores;
}
