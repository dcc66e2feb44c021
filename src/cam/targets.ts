import { ShapeError } from '../tensor/errors.js';
import { Tensor, shapeString } from '../tensor/tensor.js';
import { TargetError } from './errors.js';
import type { Target } from './types.js';

/** Check that the model returned logits [N,K] for an input of N images. */
export function checkLogits(logits: Tensor, batch: number, fn: string): void {
  if (logits.ndim !== 2 || logits.shape[0] !== batch) {
    throw new ShapeError(
      `${fn}: the model returned shape ${shapeString(logits.shape)} for ${batch} image(s); the methods need logits [N, K] = [${batch}, K]`,
    );
  }
}

/** Index of the largest logit of each row (the first one on ties, as torch.argmax). */
export function argmaxPerRow(logits: Tensor): number[] {
  const [n, k] = logits.shape as [number, number];
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let j = 1; j < k; j++) if (logits.data[i * k + j]! > logits.data[i * k + best]!) best = j;
    out.push(best);
  }
  return out;
}

/**
 * The class index of each image, or null for a target function. Class
 * indices are checked against the number of classes and the batch size.
 */
export function resolveClassTargets(target: Target | undefined, logits: Tensor, fn: string): number[] | null {
  const [n, k] = logits.shape as [number, number];
  if (typeof target === 'function') return null;
  if (target === undefined) return argmaxPerRow(logits);
  if (!Array.isArray(target) && typeof target !== 'number') {
    throw new TargetError(`${fn}: 'target' must be a class index, an array of class indices (one per image), or a function from logits to scores`);
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

/**
 * The scores to differentiate and the gradient to seed them with. For class
 * targets: the logits with a one-hot seed at (i, target_i), which gives each
 * image the gradient of its own score in one backward pass (images are
 * independent in eval mode). For a function: its [N] scores with a seed of ones.
 */
export function scoreAndSeed(
  target: Target | undefined,
  classes: number[] | null,
  logits: Tensor,
  fn: string,
): { scores: Tensor; seed: Tensor } {
  const [n, k] = logits.shape as [number, number];
  if (classes) {
    const seed = new Float32Array(n * k);
    classes.forEach((c, i) => (seed[i * k + c] = 1));
    return { scores: logits, seed: new Tensor(seed, logits.shape) };
  }
  const scores = (target as (l: Tensor) => Tensor)(logits);
  if (!(scores instanceof Tensor) || scores.size !== n || !(scores.ndim === 1 || (scores.ndim === 2 && scores.shape[1] === 1))) {
    const got = scores instanceof Tensor ? `shape ${shapeString(scores.shape)}` : typeof scores;
    throw new TargetError(`${fn}: the target function returned ${got}; it must return a Tensor of one score per image, shape [${n}] (or [${n}, 1])`);
  }
  if (logits.requiresGrad && !scores.requiresGrad) {
    throw new TargetError(
      `${fn}: the target function returned scores that are not computed from the logits it was given (no gradient can flow); build them with tinycam's ops, e.g. sum(mul(logits, mask), 1)`,
    );
  }
  return { scores, seed: new Tensor(new Float32Array(n).fill(1), scores.shape) };
}

/** One score per row of `logits` for image `image`'s target (used by methods that rerun the model). */
export function scoresFor(target: Target | undefined, classIndex: number | null, logits: Tensor): Float32Array {
  const [rows, k] = logits.shape as [number, number];
  if (classIndex !== null) {
    const out = new Float32Array(rows);
    for (let r = 0; r < rows; r++) out[r] = logits.data[r * k + classIndex]!;
    return out;
  }
  const scores = (target as (l: Tensor) => Tensor)(logits);
  if (scores.size !== rows) {
    throw new TargetError(`the target function returned ${scores.size} scores for ${rows} rows of logits; it must return one score per row`);
  }
  return Float32Array.from(scores.data);
}
