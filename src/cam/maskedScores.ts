import { ArgumentError } from '../tensor/errors.js';
import { Tensor } from '../tensor/tensor.js';
import type { Capture } from './capture.js';
import { resizeMaps } from './postprocess.js';
import { positions } from './spatial.js';
import { rowIndices } from './targets.js';

/**
 * What the methods that rerun the model on perturbed copies of one image
 * share (torch-cam's SS-CAM and IS-CAM): the masks and the batched scoring.
 */

/**
 * torch-cam's Score-CAM masks of image `image` (torchcam/methods/activation.py,
 * ScoreCAM._get_weights): each channel of A min-max scaled at the layer's
 * resolution, (x - min) / (max - min + 1e-8), then resized to the input's
 * spatial size with linear interpolation, align_corners=False (bilinear for
 * images). [C, ...input spatial] flat. (pytorch-grad-cam resizes first, with
 * align_corners=True, then scales: see scoreCam.)
 */
export function torchCamMasks(a: Tensor, image: number, size: readonly number[]): Float32Array {
  const c = a.shape[1]!;
  const hw = positions(a);
  const scaled = a.data.slice(image * c * hw, (image + 1) * c * hw);
  for (let k = 0; k < c; k++) {
    let lo = Infinity;
    let hi = -Infinity;
    for (let p = k * hw; p < (k + 1) * hw; p++) {
      lo = Math.min(lo, scaled[p]!);
      hi = Math.max(hi, scaled[p]!);
    }
    const scale = hi - lo + 1e-8;
    for (let p = k * hw; p < (k + 1) * hw; p++) scaled[p] = (scaled[p]! - lo) / scale;
  }
  return resizeMaps(new Tensor(scaled, [c, ...a.shape.slice(2)]), size).data;
}

/** A positive integer option (e.g. batchSize), or a typed error naming the method. */
export function positiveInteger(value: number | undefined, fallback: number, name: string, fn: string): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < 1) throw new ArgumentError(`${fn}: ${name} must be a positive integer (default ${fallback}); got ${String(v)}`);
  return v;
}

/**
 * The target score of `count` modified copies of image `image`: `fill(copy,
 * dst)` writes copy `copy` (one image, [C, ...spatial]) into `dst`; the
 * copies run through capture.score in batches of at most `batchSize` (and
 * the model's maxBatchSize). `onBatch(count)` is called after each pass.
 */
export function scoreCopies(
  capture: Capture,
  image: number,
  count: number,
  batchSize: number,
  fill: (copy: number, dst: Float32Array) => void,
  onBatch?: (scored: number) => void,
): Float32Array {
  const imageShape = capture.input.shape.slice(1);
  const size = capture.input.size / capture.input.shape[0]!;
  const limit = Math.min(batchSize, capture.model.maxBatchSize() ?? Infinity);
  const scores = new Float32Array(count);
  for (let start = 0; start < count; start += limit) {
    const n = Math.min(limit, count - start);
    const batch = new Float32Array(n * size);
    for (let b = 0; b < n; b++) fill(start + b, batch.subarray(b * size, (b + 1) * size));
    scores.set(capture.score(new Tensor(batch, [n, ...imageShape]), new Array<number>(n).fill(image)), start);
    onBatch?.(n);
  }
  return scores;
}

/** The target score of every image itself (torch-cam's baseline scores). */
export function imageScores(capture: Capture): Float32Array {
  return capture.score(capture.input, rowIndices(capture.input.shape[0]!));
}

/** softmax over each row of [rows, cols] (float64), the weights of the Score-CAM family. */
export function softmaxRows(values: Float64Array, rows: number, cols: number): Float32Array {
  const out = new Float64Array(values.length);
  for (let r = 0; r < rows; r++) {
    let top = -Infinity;
    for (let k = 0; k < cols; k++) top = Math.max(top, values[r * cols + k]!);
    let total = 0;
    for (let k = 0; k < cols; k++) total += out[r * cols + k] = Math.exp(values[r * cols + k]! - top);
    for (let k = 0; k < cols; k++) out[r * cols + k] = out[r * cols + k]! / total;
  }
  return Float32Array.from(out);
}
