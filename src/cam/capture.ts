import { enableGrad, grad, noGrad } from '../tensor/autograd.js';
import { ArgumentError, ShapeError } from '../tensor/errors.js';
import { Tensor, shapeString } from '../tensor/tensor.js';
import type { Module } from '../layers/module.js';
import type { NamedLayer } from './layers.js';
import { checkLogits, resolveClassTargets, scoreAndSeed } from './targets.js';
import type { Target } from './types.js';

/** What the capture saw at one layer: A and, when asked for, dA = d score / d A. */
export interface LayerCapture {
  name: string;
  module: Module;
  /** A [N,C,h,w]: the layer's output (its last output when it runs more than once). */
  activation: Tensor;
  /** dA, same shape as A, or null when the method needs no gradient. */
  gradient: Tensor | null;
}

/** Everything a method may use: the captured layers and how to rerun the model. */
export interface Capture {
  model: Module;
  input: Tensor;
  /** [N,K], detached from the graph. */
  logits: Tensor;
  target: Target | undefined;
  /** Class index per image, or null for a target function. */
  classes: number[] | null;
  layers: LayerCapture[];
}

/** Check that `input` is a batch of images [N,C,H,W] with N >= 1. */
export function checkInput(input: unknown, fn: string): asserts input is Tensor {
  if (!(input instanceof Tensor)) {
    throw new ArgumentError(`${fn}: input must be a Tensor of shape [N, C, H, W]; got ${input === null ? 'null' : typeof input}`);
  }
  if (input.ndim !== 4 || input.shape[0]! < 1) {
    throw new ShapeError(
      `${fn}: input has shape ${shapeString(input.shape)}; accepted: a batch of images [N, C, H, W] with N >= 1 (add a batch axis to a single [C, H, W] image)`,
    );
  }
}

/**
 * [height, width] of the input images: axes 2 and 3 of [N, C, H, W], or
 * axes 1 and 2 for a model that takes NHWC (`inputLayout`, TensorFlow.js models).
 */
export function inputImageSize(model: Module, input: Tensor): [number, number] {
  return model.inputLayout === 'NHWC' ? [input.shape[1]!, input.shape[2]!] : [input.shape[2]!, input.shape[3]!];
}

/**
 * Run `fn` with every module of `model` in evaluation mode, then give each
 * module back its own training flag, even when `fn` throws. Explanations are
 * always computed in eval mode: BatchNorm uses its running statistics and
 * Dropout passes through, so images of a batch are independent and a call
 * does not change BatchNorm's statistics.
 */
export function inEvalMode<T>(model: Module, fn: () => T): T {
  const modules = model.modules();
  const flags = modules.map((m) => m.training);
  try {
    model.eval();
    return fn();
  } finally {
    modules.forEach((m, i) => (m.training = flags[i]!));
  }
}

/**
 * The one capture mechanism. Hooks the layers, runs the forward pass, picks
 * the target and, when `gradients` is set, computes dA for every layer with
 * the pruned `grad` (no weight gradients, backward stops at the layers).
 * The hooks are removed in `finally`, even when something throws. Call it
 * inside `inEvalMode`.
 *
 * A layer that runs more than once in one forward pass (a shared module) is
 * captured at its last call.
 */
export function captureLayers(
  model: Module,
  input: Tensor,
  layers: readonly NamedLayer[],
  target: Target | undefined,
  options: { gradients: boolean; fn: string },
): Capture {
  const { gradients, fn } = options;
  const activations = new Array<Tensor | null>(layers.length).fill(null);
  const handles = layers.map((layer, i) =>
    layer.module.registerForwardHook((_m, _inputs, output) => {
      // A frozen model on a plain input records no graph: make the layer's
      // output a leaf that requires grad so the rest of the forward pass does.
      const tracked = gradients && !output.requiresGrad ? output.requireGrad() : output;
      activations[i] = tracked;
      return tracked === output ? undefined : tracked;
    }),
  );
  try {
    const logits = gradients ? enableGrad(() => model.forward(input)) : noGrad(() => model.forward(input));
    checkLogits(logits, input.shape[0]!, fn);
    const captured = layers.map((layer, i) => {
      const a = activations[i];
      if (!a) {
        throw new ArgumentError(`${fn}: layer '${layer.name}' (${layer.module.typeName}) did not run during the forward pass; choose a module the model calls`);
      }
      if (a.ndim !== 4) {
        throw new ShapeError(
          `${fn}: layer '${layer.name}' (${layer.module.typeName}) outputs shape ${shapeString(a.shape)}; this method needs a layer whose output is 4-D [N, C, h, w], such as a convolution or a block of them`,
        );
      }
      return a;
    });
    const classes = resolveClassTargets(target, logits, fn);
    let grads: (Tensor | null)[] = captured.map(() => null);
    if (gradients) {
      const { scores, seed } = enableGrad(() => scoreAndSeed(target, classes, logits, fn));
      grads = grad(scores, captured, { gradOutput: seed });
    }
    return {
      model,
      input,
      logits: logits.detach(),
      target,
      classes,
      layers: layers.map((layer, i) => ({
        name: layer.name,
        module: layer.module,
        activation: captured[i]!.detach(),
        gradient: grads[i] ? grads[i]!.detach() : null,
      })),
    };
  } finally {
    for (const h of handles) h.remove();
  }
}
