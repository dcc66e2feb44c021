import { add, div, maximum, mul, sqrt } from '../tensor/ops/elementwise.js';
import { sum } from '../tensor/ops/reduce.js';
import { reshape } from '../tensor/ops/shape.js';
import { logSoftmax, softmax } from '../tensor/ops/softmax.js';
import { ArgumentError } from '../tensor/errors.js';
import { Tensor, shapeString } from '../tensor/tensor.js';
import { TargetError } from './errors.js';
import { classCount } from './targets.js';
import type { TargetFunction } from './types.js';

/**
 * Target helpers with pytorch-grad-cam's semantics (utils/model_targets.py at
 * 084273b), each a TargetFunction: from the explained output of a batch of
 * rows to one score per row. Where pytorch-grad-cam takes one target object
 * per image, these take one value for every image or one per image, indexed
 * by the `images` argument (row r is a copy of image images[r]).
 */

/** A class index for every image, or one per image. */
export type ClassChoice = number | readonly number[];

/** The class for the image of each row. */
function classesOfRows(choice: ClassChoice, images: readonly number[], fn: string): number[] {
  return images.map((image) => {
    const c = typeof choice === 'number' ? choice : choice[image];
    if (c === undefined) throw new TargetError(`${fn}: no class given for image ${image}; give one class index, or one per image (${(choice as readonly number[]).length} given)`);
    return c;
  });
}

function checkChoice(choice: ClassChoice, fn: string): void {
  const list = typeof choice === 'number' ? [choice] : choice;
  if (!Array.isArray(list) && typeof choice !== 'number') throw new ArgumentError(`${fn}: the class must be an index or an array of indices (one per image)`);
  for (const c of list) {
    if (!Number.isInteger(c) || c < 0) throw new ArgumentError(`${fn}: class ${c} is not a class index; accepted: integers >= 0`);
  }
}

/** The output as a score table [rows, K] (a [rows, K, 1, 1] head flattened), or a typed error. */
function scoreTable(output: Tensor, fn: string): Tensor {
  const k = classCount(output);
  if (k === null) {
    throw new TargetError(`${fn}: needs class scores [N, K]; the explained output has shape ${shapeString(output.shape)} (for other outputs use rawTarget, segmentationTarget, similarityTarget or boxTarget)`);
  }
  return output.ndim === 2 ? output : reshape(output, [output.shape[0]!, k]);
}

/** sum_k table[r, k] * onehot(class of row r): the chosen column of each row, differentiably. */
function pickColumns(table: Tensor, classes: readonly number[], fn: string): Tensor {
  const [rows, k] = table.shape as [number, number];
  const mask = new Float32Array(rows * k);
  classes.forEach((c, r) => {
    if (c >= k) throw new TargetError(`${fn}: class ${c} is beyond the ${k} classes of the output; accepted: 0 to ${k - 1}`);
    mask[r * k + c] = 1;
  });
  return sum(mul(table, new Tensor(mask, [rows, k])), 1);
}

/** ClassifierOutputTarget: the (pre-softmax) score of class c. */
export function classifierTarget(c: ClassChoice): TargetFunction {
  checkChoice(c, 'classifierTarget');
  return (output, images) => pickColumns(scoreTable(output, 'classifierTarget'), classesOfRows(c, images, 'classifierTarget'), 'classifierTarget');
}

/** ClassifierOutputSoftmaxTarget: softmax(scores)[c], the probability of class c. */
export function softmaxTarget(c: ClassChoice): TargetFunction {
  checkChoice(c, 'softmaxTarget');
  return (output, images) => pickColumns(softmax(scoreTable(output, 'softmaxTarget'), 1), classesOfRows(c, images, 'softmaxTarget'), 'softmaxTarget');
}

/**
 * ClassifierOutputReST (Ji et al. 2025): the logit minus the cross-entropy
 * of class c, z_c - CE(z, c) = z_c + log softmax(z)_c = 2 z_c - logsumexp(z).
 */
export function restTarget(c: ClassChoice): TargetFunction {
  checkChoice(c, 'restTarget');
  return (output, images) => {
    const table = scoreTable(output, 'restTarget');
    const classes = classesOfRows(c, images, 'restTarget');
    return add(pickColumns(table, classes, 'restTarget'), pickColumns(logSoftmax(table, 1), classes, 'restTarget'));
  };
}

/** The output with each row flattened: [rows, values per row]. */
function rowsOf(output: Tensor): Tensor {
  return output.ndim === 2 ? output : reshape(output, [output.shape[0]!, output.size / output.shape[0]!]);
}

/**
 * BinaryClassifierOutputTarget: for a model with one output per image (a
 * sigmoid classifier's logit, a regression), the output for class 1 and its
 * negation for class 0, so class 0 explains what lowers the score.
 */
export function binaryTarget(c: ClassChoice): TargetFunction {
  checkChoice(c, 'binaryTarget');
  return (output, images) => {
    const table = rowsOf(output);
    if (table.shape[1] !== 1) {
      throw new TargetError(`binaryTarget: needs one output value per image; the explained output has shape ${shapeString(output.shape)} (for class scores use classifierTarget)`);
    }
    const signs = Float32Array.from(classesOfRows(c, images, 'binaryTarget'), (k) => (k === 1 ? 1 : -1));
    return mul(reshape(table, [table.shape[0]!]), new Tensor(signs, [signs.length]));
  };
}

/**
 * RawScoresOutputTarget: the output itself. For an output with several
 * values per image (pytorch-grad-cam would fail to backpropagate), their sum.
 */
export function rawTarget(): TargetFunction {
  return (output) => sum(rowsOf(output), 1);
}

/** A per-image tensor argument given for every image ([...shape]) or one per image ([N, ...shape]). */
function perImage(value: Tensor, shape: readonly number[], images: readonly number[], what: string, fn: string): Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  const fits = (s: readonly number[]) => s.length === shape.length && s.every((d, i) => d === shape[i]);
  if (fits(value.shape)) {
    const out = new Float32Array(images.length * size);
    for (let r = 0; r < images.length; r++) out.set(value.data, r * size);
    return new Tensor(out, [images.length, ...shape]);
  }
  if (value.ndim === shape.length + 1 && fits(value.shape.slice(1))) {
    const out = new Float32Array(images.length * size);
    images.forEach((image, r) => {
      if (image >= value.shape[0]!) throw new TargetError(`${fn}: no ${what} for image ${image}; ${value.shape[0]} given`);
      out.set(value.data.subarray(image * size, (image + 1) * size), r * size);
    });
    return new Tensor(out, [images.length, ...shape]);
  }
  throw new TargetError(`${fn}: the ${what} has shape ${shapeString(value.shape)}; accepted: [${shape.join(', ')}] for every image or [N, ${shape.join(', ')}] one per image`);
}

/**
 * SemanticSegmentationTarget: the sum of class c's scores over the pixels of
 * `mask` (1 inside, 0 outside; weights in between are allowed). The output
 * is [N, K, H, W] (or [N, K, ...spatial]); the mask [H, W] for every image or
 * [N, H, W] one per image.
 */
export function segmentationTarget(c: ClassChoice, mask: Tensor): TargetFunction {
  checkChoice(c, 'segmentationTarget');
  if (!(mask instanceof Tensor)) throw new ArgumentError('segmentationTarget: the mask must be a Tensor [H, W] or [N, H, W]');
  return (output, images) => {
    if (output.ndim < 3) {
      throw new TargetError(`segmentationTarget: needs a per-pixel output [N, K, H, W]; the explained output has shape ${shapeString(output.shape)}`);
    }
    const [rows, k] = output.shape as [number, number];
    const spatial = output.shape.slice(2);
    const masks = perImage(mask, spatial, images, 'mask', 'segmentationTarget');
    const size = masks.size / rows;
    const weights = new Float32Array(output.size);
    classesOfRows(c, images, 'segmentationTarget').forEach((cls, r) => {
      if (cls >= k) throw new TargetError(`segmentationTarget: class ${cls} is beyond the ${k} classes of the output; accepted: 0 to ${k - 1}`);
      weights.set(masks.data.subarray(r * size, (r + 1) * size), (r * k + cls) * size);
    });
    return sum(rowsOf(mul(output, new Tensor(weights, output.shape))), 1);
  };
}

/**
 * The cosine similarity of each image's output (an embedding [N, D], or any
 * shape, flattened) with `reference` ([D] for every image, or [N, D] one per
 * image): x.y / max(|x| |y|, 1e-8), as torch.nn.CosineSimilarity and
 * pytorch-grad-cam's SimilarityToConceptTarget.
 */
export function similarityTarget(reference: Tensor): TargetFunction {
  if (!(reference instanceof Tensor)) throw new ArgumentError('similarityTarget: the reference must be a Tensor [D] or [N, D]');
  return (output, images) => {
    const x = rowsOf(output);
    const dims = x.shape[1]!;
    const y = perImage(reference.ndim === 1 ? reference : reshape(reference, [reference.shape[0]!, reference.size / reference.shape[0]!]), [dims], images, 'reference', 'similarityTarget');
    const dot = sum(mul(x, y), 1);
    const norms = mul(sqrt(sum(mul(x, x), 1)), sqrt(sum(mul(y, y), 1)));
    return div(dot, maximum(norms, 1e-8));
  };
}
