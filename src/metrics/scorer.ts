import { ArgumentError } from '../tensor/errors.js';
import { Tensor, shapeString } from '../tensor/tensor.js';
import { Module } from '../layers/module.js';
import { targetScorer } from '../cam/scorer.js';
import { TargetError } from '../cam/errors.js';
import type { Target } from '../cam/types.js';
import { ScoreError } from './errors.js';
import type { Scorable, ScoringOptions } from './types.js';

/** A target function as the metrics call it: the output rows and, per row, the image it belongs to. */
type RowTarget = (output: Tensor, images: readonly number[]) => Tensor;

/**
 * One score per input row for a fixed target: what every metric and
 * black-box method asks of a model. Created by `withScorer`, which also
 * scores the unperturbed input and fixes each image's class there.
 */
export interface Scorer {
  /** Images in the explained input. */
  readonly images: number;
  /** The class scored for each image, or null for a target function. */
  readonly classes: number[] | null;
  /** The target score of each unperturbed image. */
  readonly before: Float32Array;
  /** The model's output rows for the unperturbed input, [N, K]. */
  readonly output: Tensor;
  /** Inputs per model call. */
  readonly batchSize: number;
  /** Model calls and inputs scored so far (the unperturbed input included). */
  readonly cost: { forwardPasses: number; inputs: number };
  /** Scores of the rows of `batch` ([B, ...]); row r is a variant of image `images[r]`. */
  score(batch: Tensor, images: readonly number[]): Float32Array;
}

const DEFAULT_BATCH = 32;

function describe(value: unknown): string {
  if (value instanceof Tensor) return `a Tensor of shape ${shapeString(value.shape)}`;
  if (ArrayBuffer.isView(value)) return `a ${value.constructor.name} of length ${(value as unknown as ArrayLike<number>).length}`;
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  return value === null ? 'null' : typeof value;
}

/** The flat values a model or scoring function returned for `rows` inputs, checked. */
function valuesOf(result: unknown, rows: number, fn: string): Float32Array {
  let values: Float32Array;
  if (result instanceof Tensor) values = result.data;
  else if (result instanceof Float32Array) values = result;
  else if (result instanceof Float64Array || (Array.isArray(result) && result.every((v) => typeof v === 'number'))) values = Float32Array.from(result as ArrayLike<number>);
  else {
    throw new ScoreError(`${fn}: the model returned ${describe(result)} for a batch of ${rows}; accepted: a Tensor or Float32Array with one score per row (${rows}) or one row of K scores per input (${rows} x K)`);
  }
  if (values.length === 0 || values.length % rows !== 0) {
    throw new ScoreError(
      `${fn}: the model returned ${values.length} values for a batch of ${rows} input(s); accepted: ${rows} scores (one per input) or ${rows} x K values (K scores per input, row-major)`,
    );
  }
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i]!)) {
      throw new ScoreError(
        `${fn}: the model returned ${values[i]} for input ${Math.floor(i / (values.length / rows))} of a batch of ${rows}; scores must be finite numbers`,
      );
    }
  }
  return values;
}

/** Each image's class: the given index or indices, else the argmax of its output row. */
function resolveClasses(target: Target | undefined, output: Tensor, fn: string): number[] | null {
  const [n, k] = output.shape as [number, number];
  if (typeof target === 'function') return null;
  if (target === undefined) {
    const classes: number[] = [];
    for (let i = 0; i < n; i++) {
      let best = 0;
      for (let j = 1; j < k; j++) if (output.data[i * k + j]! > output.data[i * k + best]!) best = j;
      classes.push(best);
    }
    return classes;
  }
  if (typeof target !== 'number' && !Array.isArray(target)) {
    throw new TargetError(`${fn}: 'target' must be a class index, an array of class indices (one per image), or a function of the model's output`);
  }
  const list = typeof target === 'number' ? new Array<number>(n).fill(target) : [...(target as readonly number[])];
  if (list.length !== n) {
    throw new TargetError(`${fn}: 'target' lists ${list.length} class indices but the input has ${n} image(s); give one per image, one for all, or none (argmax)`);
  }
  list.forEach((c, i) => {
    if (!Number.isInteger(c) || c < 0 || c >= k) {
      throw new TargetError(`${fn}: target ${c} (image ${i}) is not a class index of this model's output; accepted: integers 0 to ${k - 1}`);
    }
  });
  return list;
}

function checkBatchSize(value: number | undefined, fn: string): number {
  const size = value ?? DEFAULT_BATCH;
  if (!Number.isInteger(size) || size < 1) throw new ArgumentError(`${fn}: batchSize must be a positive integer; got ${value}`);
  return size;
}

/**
 * Run `body` with a scorer for `model` (a Module, in eval mode for the whole
 * call and restored afterwards, or a scoring function). The unperturbed
 * input is scored first: it fixes each image's class and `before`.
 */
export function withScorer<R>(model: Scorable, input: Tensor, options: ScoringOptions, fn: string, body: (scorer: Scorer) => R): R {
  const isModule = model instanceof Module;
  if (!isModule && typeof model !== 'function') {
    throw new ArgumentError(`${fn}: the model must be a tinycam Module or a scoring function (batch: Tensor) => Float32Array | Tensor; got ${describe(model)}`);
  }
  let batchSize = checkBatchSize(options.batchSize, fn);
  if (isModule) batchSize = Math.min(batchSize, (model as Module).maxBatchSize() ?? Infinity);
  if (isModule) {
    // A Module: the CAM core's scorer (output choice, probability, target helpers, eval mode).
    const cost = { forwardPasses: Math.ceil(input.shape[0]! / batchSize), inputs: input.shape[0]! };
    const core = targetScorer(model as Module, input, { target: options.target, output: options.output, explainProbability: options.explainProbability }, fn);
    const explained = core.explained;
    const n = input.shape[0]!;
    return body({
      images: n,
      classes: core.classes,
      before: core.scores,
      output: new Tensor(explained.data, [n, explained.size / n]),
      batchSize,
      cost,
      score: (batch, images) => {
        if (images.length !== batch.shape[0]) throw new ArgumentError(`${fn}: ${images.length} image indices for a batch of ${batch.shape[0]}`);
        cost.forwardPasses++;
        cost.inputs += images.length;
        const scores = core.score(batch, images);
        for (let r = 0; r < scores.length; r++) {
          if (!Number.isFinite(scores[r]!)) throw new ScoreError(`${fn}: the model scored ${scores[r]} for row ${r}; scores must be finite numbers`);
        }
        return scores;
      },
    });
  }
  const run = (): R => {
    const cost = { forwardPasses: 0, inputs: 0 };
    let perRow = 0;
    const call = (batch: Tensor): Float32Array => {
      const rows = batch.shape[0]!;
      const result = (model as (b: Tensor) => unknown)(batch);
      cost.forwardPasses++;
      cost.inputs += rows;
      const values = valuesOf(result, rows, fn);
      if (perRow !== 0 && values.length !== perRow * rows) {
        throw new ScoreError(`${fn}: the model returned ${values.length / rows} value(s) per input, but ${perRow} for the unperturbed input; it must return the same number for every batch`);
      }
      perRow = values.length / rows;
      return values;
    };
    const target = options.target;
    const pick = (values: Float32Array, images: readonly number[], classes: number[] | null): Float32Array => {
      const rows = images.length;
      if (classes === null) {
        const scores = (target as unknown as RowTarget)(new Tensor(values, [rows, perRow]), images);
        const data = scores instanceof Tensor ? scores.data : null;
        if (!data || data.length !== rows) {
          throw new TargetError(`${fn}: the target function returned ${describe(scores)} for ${rows} output row(s); it must return a Tensor with one score per row [${rows}]`);
        }
        for (let r = 0; r < rows; r++) {
          if (!Number.isFinite(data[r]!)) throw new ScoreError(`${fn}: the target function returned ${data[r]} for row ${r}; scores must be finite numbers`);
        }
        return Float32Array.from(data);
      }
      const out = new Float32Array(rows);
      for (let r = 0; r < rows; r++) out[r] = values[r * perRow + classes[images[r]!]!]!;
      return out;
    };
    const n = input.shape[0]!;
    const all = Array.from({ length: n }, (_, i) => i);
    const first: Float32Array[] = [];
    for (let start = 0; start < n; start += batchSize) {
      const count = Math.min(batchSize, n - start);
      const per = input.size / n;
      first.push(call(new Tensor(input.data.subarray(start * per, (start + count) * per), [count, ...input.shape.slice(1)])));
    }
    const flat = new Float32Array(n * perRow);
    let offset = 0;
    for (const part of first) {
      flat.set(part, offset);
      offset += part.length;
    }
    const output = new Tensor(flat, [n, perRow]);
    const classes = resolveClasses(target, output, fn);
    const before = pick(flat, all, classes);
    return body({
      images: n,
      classes,
      before,
      output,
      batchSize,
      cost,
      score: (batch, images) => {
        if (images.length !== batch.shape[0]) throw new ArgumentError(`${fn}: ${images.length} image indices for a batch of ${batch.shape[0]}`);
        return pick(call(batch), images, classes);
      },
    });
  };
  return run();
}
