import { Tensor, shapeString } from '../tensor/tensor.js';
import { TargetError } from './errors.js';
import type { Target, TargetFunction } from './types.js';

const HELPERS =
  'classifierTarget(c), softmaxTarget(c), restTarget(c), binaryTarget(c), rawTarget(), segmentationTarget(c, mask), similarityTarget(reference), boxTarget(box, c)';

/**
 * The number of classes when `output` is a classifier's score table: [N, K],
 * or [N, K, 1, ...] as a head of 1x1 convolutions and global pooling gives
 * (the ONNX model zoo's SqueezeNet and DenseNet-121). Otherwise null.
 */
export function classCount(output: Tensor): number | null {
  if (output.ndim < 2) return null;
  for (let axis = 2; axis < output.ndim; axis++) if (output.shape[axis] !== 1) return null;
  return output.shape[1]!;
}

/** Index of the largest score of each row (the first one on ties, as torch.argmax). */
export function argmaxPerRow(scores: Tensor): number[] {
  const n = scores.shape[0]!;
  const k = scores.size / n;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let j = 1; j < k; j++) if (scores.data[i * k + j]! > scores.data[i * k + best]!) best = j;
    out.push(best);
  }
  return out;
}

/**
 * The class index of each image, or null for a target function. Class
 * indices (and the default, the argmax) need a score table [N, K]; they are
 * checked against the number of classes and the batch size.
 */
export function resolveClassTargets(target: Target | undefined, output: Tensor, batch: number, fn: string): number[] | null {
  if (typeof target === 'function') return null;
  const n = output.shape[0]!;
  if (n !== batch) {
    throw new TargetError(
      `${fn}: the explained output has shape ${shapeString(output.shape)} for ${batch} image(s), so class indices do not apply (they need one row of class scores per image); pass a target function`,
    );
  }
  const k = classCount(output);
  if (k === null) {
    throw new TargetError(
      `${fn}: the explained output has shape ${shapeString(output.shape)}, not class scores [N, K], so ${target === undefined ? 'the default target (the argmax class)' : 'a class index'} does not apply; ` +
        `pass a target function, such as one of ${HELPERS}`,
    );
  }
  if (target === undefined) return argmaxPerRow(output);
  if (!Array.isArray(target) && typeof target !== 'number') {
    throw new TargetError(`${fn}: 'target' must be a class index, an array of class indices (one per image), or a target function such as ${HELPERS}`);
  }
  const list = typeof target === 'number' ? new Array<number>(n).fill(target) : [...(target as readonly number[])];
  if (list.length !== n) {
    throw new TargetError(`${fn}: 'target' lists ${list.length} class indices but the batch has ${n} image(s); give one index per image, a single index for all, or none (argmax)`);
  }
  list.forEach((t, i) => {
    if (!Number.isInteger(t) || t < 0 || t >= k) {
      throw new TargetError(`${fn}: target ${t} (image ${i}) is not a class index of this model; accepted: integers 0 to ${k - 1}`);
    }
  });
  return list;
}

/** [0, 1, ..., n - 1]: row r is image r. */
export function rowIndices(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

/** Every output of one forward pass by name, for targets that read several. */
export type OutputsByName = Readonly<Record<string, Tensor>>;

/** Call a target function and check that it returned one score per row (per entry of `images`). */
function callTarget(target: TargetFunction, output: Tensor, images: readonly number[], outputs: OutputsByName, fn: string): Tensor {
  const rows = images.length;
  const scores = target(output, images, outputs);
  if (!(scores instanceof Tensor) || scores.size !== rows || !(scores.ndim === 1 || (scores.ndim === 2 && scores.shape[1] === 1))) {
    const got = scores instanceof Tensor ? `shape ${shapeString(scores.shape)}` : typeof scores;
    throw new TargetError(`${fn}: the target function returned ${got}; it must return a Tensor of one score per row of the output, shape [${rows}] (or [${rows}, 1])`);
  }
  return scores;
}

/**
 * The scores to differentiate and the gradient to seed them with, so that
 * one backward pass gives each row the gradient of its own score (images
 * are independent in eval mode; pytorch-grad-cam sums the scores of the
 * batch). Row r belongs to image `images[r]` (by default row r is image r).
 * Class targets: the output with a one-hot seed at (r, class of its image).
 * A function: its [rows] scores with a seed of ones.
 */
export function scoreAndSeed(
  target: Target | undefined,
  classes: readonly number[] | null,
  output: Tensor,
  fn: string,
  images: readonly number[],
  outputs: OutputsByName,
): { scores: Tensor; seed: Tensor } {
  if (classes) {
    const k = output.size / output.shape[0]!;
    const seed = new Float32Array(output.size);
    images.forEach((image, r) => (seed[r * k + classOf(classes, image, r, fn)] = 1));
    return { scores: output, seed: new Tensor(seed, output.shape) };
  }
  const scores = callTarget(target as TargetFunction, output, images, outputs, fn);
  if (output.requiresGrad && !scores.requiresGrad) {
    throw new TargetError(
      `${fn}: the target function returned scores that are not computed from the output it was given (no gradient can flow); build them with tinycam's ops, e.g. sum(mul(output, mask), 1)`,
    );
  }
  return { scores, seed: new Tensor(new Float32Array(scores.size).fill(1), scores.shape) };
}

function classOf(classes: readonly number[], image: number, row: number, fn: string): number {
  const c = classes[image];
  if (c === undefined) throw new TargetError(`${fn}: row ${row} names image ${image}, but there are ${classes.length} image(s)`);
  return c;
}

/**
 * One score per row of `output`, row r belonging to image `images[r]` (for
 * methods and metrics that rerun the model on perturbed copies of images).
 */
export function scoreRows(
  target: Target | undefined,
  classes: readonly number[] | null,
  output: Tensor,
  images: readonly number[],
  outputs: OutputsByName,
  fn: string,
): Float32Array {
  if (classes) {
    const rows = output.shape[0]!;
    if (images.length !== rows) throw new TargetError(`${fn}: ${images.length} image indices for ${rows} rows of output; give one per row`);
    const k = output.size / rows;
    const out = new Float32Array(rows);
    for (let r = 0; r < rows; r++) out[r] = output.data[r * k + classOf(classes, images[r]!, r, fn)]!;
    return out;
  }
  return Float32Array.from(callTarget(target as TargetFunction, output, images, outputs, fn).data);
}
