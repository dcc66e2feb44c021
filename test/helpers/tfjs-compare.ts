/**
 * Comparisons of a tinycam TensorFlow.js model with TensorFlow.js itself:
 * outputs, and A and dA = d score / d A at a layer (score: the sum over
 * images of one class's logit, before a final softmax).
 */
import { expect } from 'vitest';
import { enableGrad, grad } from '../../src/tensor/autograd.js';
import { mul } from '../../src/tensor/ops/elementwise.js';
import { sum } from '../../src/tensor/ops/reduce.js';
import { permute } from '../../src/tensor/ops/shape.js';
import { Tensor } from '../../src/tensor/tensor.js';
import type { TfjsLayersModel, TfjsModel } from '../../src/tfjs/index.js';
import { activationAndGradient, tf } from './tfjs.js';

/** max |got - ref| / max |ref| (the tests' relative error). */
export function relativeError(got: Tensor, ref: Tensor): number {
  expect([...got.shape]).toEqual([...ref.shape]);
  let worst = 0;
  let scale = 0;
  for (let i = 0; i < ref.size; i++) {
    worst = Math.max(worst, Math.abs(got.data[i]! - ref.data[i]!));
    scale = Math.max(scale, Math.abs(ref.data[i]!));
  }
  return worst / Math.max(scale, 1e-30);
}

export function expectClose(got: Tensor, ref: Tensor, tolerance = 1e-4, what = ''): number {
  const e = relativeError(got, ref);
  expect(e, `${what}: relative error ${e}`).toBeLessThanOrEqual(tolerance);
  return e;
}

/** A tfjs [N, H, W, C] tensor as tinycam hooks see it, [N, C, H, W] (other ranks as they are). */
export function asStored(t: Tensor, channelsLast: boolean): Tensor {
  return channelsLast && t.ndim === 4 ? permute(t, [0, 3, 1, 2]) : t;
}

/** score(output) = sum_n output[n, classes[n]]. */
export function classScore(classes: readonly number[]): (output: tf.Tensor) => tf.Scalar {
  return (output) => {
    const k = output.shape[1]!;
    const mask = new Float32Array(output.shape[0]! * k);
    classes.forEach((c, n) => (mask[n * k + c] = 1));
    return tf.sum(tf.mul(output, tf.tensor(mask, [output.shape[0]!, k]))) as tf.Scalar;
  };
}

/**
 * tinycam's A and dA at `layer` for the same score: the hook makes A a leaf
 * of the graph, the score is taken on the logits before a final softmax
 * (forwardOutputs), and grad gives dA.
 */
export function tinycamActivationAndGradient(
  model: TfjsModel,
  input: Tensor,
  layer: string,
  classes: readonly number[],
): { logits: Tensor; activation: Tensor; gradient: Tensor } {
  let activation: Tensor | null = null;
  const handle = model.layer(layer).registerForwardHook((_m, _inputs, output) => {
    activation = output.requireGrad();
    return activation;
  });
  try {
    return enableGrad(() => {
      const [first] = model.forwardOutputs(input);
      const logits = first!.logits ?? first!.value;
      const k = logits.shape[1]!;
      const mask = new Float32Array(logits.size);
      classes.forEach((c, n) => (mask[n * k + c] = 1));
      const score = sum(mul(logits, new Tensor(mask, logits.shape)));
      const [dA] = grad(score, [activation!]);
      return { logits: logits.detach(), activation: activation!.detach(), gradient: dA!.detach() };
    });
  } finally {
    handle.remove();
  }
}

/**
 * Check a loaded model against tfjs: outputs within 1e-4, and at each layer
 * A and dA (of the class score on the logits) within 1e-4.
 */
export function compareWithTfjs(
  reference: tf.LayersModel,
  ours: TfjsLayersModel,
  input: Tensor,
  options: { layers: string[]; classes: number[]; beforeSoftmax: boolean; tolerance?: number },
): { output: number; layers: Record<string, { activation: number; gradient: number }> } {
  const tolerance = options.tolerance ?? 1e-4;
  const channelsLast = ours.layout.channelsLast;
  const ref = tf.tidy(() => Float32Array.from((reference.predict(tf.tensor(input.data, [...input.shape])) as tf.Tensor).dataSync()));
  const got = ours.forward(input);
  const output = expectClose(got, new Tensor(ref, got.shape), tolerance, 'output');
  const layers: Record<string, { activation: number; gradient: number }> = {};
  for (const layer of options.layers) {
    const theirs = activationAndGradient(reference, input, layer, classScore(options.classes), { beforeSoftmax: options.beforeSoftmax });
    const mine = tinycamActivationAndGradient(ours, input, layer, options.classes);
    expectClose(mine.logits, theirs.output, tolerance, `logits (${layer})`);
    layers[layer] = {
      activation: expectClose(mine.activation, asStored(theirs.activation, channelsLast), tolerance, `A at ${layer}`),
      gradient: expectClose(mine.gradient, asStored(theirs.gradient, channelsLast), tolerance, `dA at ${layer}`),
    };
  }
  return { output, layers };
}
