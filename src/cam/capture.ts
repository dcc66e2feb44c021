import { enableGrad, grad, noGrad } from '../tensor/autograd.js';
import { ArgumentError, ShapeError } from '../tensor/errors.js';
import { Tensor, shapeString } from '../tensor/tensor.js';
import type { Module } from '../layers/module.js';
import type { NamedLayer } from './layers.js';
import { runForExplanation } from './output.js';
import { squareGrid } from './reshape.js';
import { resolveClassTargets, rowIndices, scoreAndSeed, scoreRows } from './targets.js';
import type { OutputOptions, ReshapeTransform, Target } from './types.js';

/** What the capture saw at one layer: A and, when asked for, dA = d score / d A. */
export interface LayerCapture {
  name: string;
  module: Module;
  /** A [N, C, ...spatial] (after `reshape`): the layer's output (its last output when it runs more than once). */
  activation: Tensor;
  /** dA, same shape as A, or null when the method needs no gradient. */
  gradient: Tensor | null;
}

/** Everything a method may use: the captured layers and how to rerun the model. */
export interface Capture {
  model: Module;
  input: Tensor;
  /** The explained output (logits, or the probability when asked), detached. */
  output: Tensor;
  /** Its name among the model's outputs. */
  outputName: string;
  /** The explained output's logits, detached. */
  logits: Tensor;
  target: Target | undefined;
  /** Class index per image, or null for a target function. */
  classes: number[] | null;
  layers: LayerCapture[];
  /**
   * Rerun the model on `batch` without gradients (hooks the caller set stay
   * in force) and return the target's score per row; row r is a perturbed
   * copy of image `images[r]`. What Score-CAM and Ablation-CAM use.
   */
  score(batch: Tensor, images: readonly number[]): Float32Array;
}

/** Options the capture needs from the caller. */
export interface CaptureOptions extends OutputOptions {
  target?: Target;
  reshape?: ReshapeTransform;
}

/** Check that `input` is a batch [N, C, ...spatial] (1 to 3 spatial axes) with N >= 1. */
export function checkInput(input: unknown, fn: string): asserts input is Tensor {
  if (!(input instanceof Tensor)) {
    throw new ArgumentError(`${fn}: input must be a Tensor of shape [N, C, H, W]; got ${input === null ? 'null' : typeof input}`);
  }
  if (input.ndim < 3 || input.ndim > 5 || input.shape[0]! < 1) {
    throw new ShapeError(
      `${fn}: input has shape ${shapeString(input.shape)}; accepted: a batch of images [N, C, H, W] with N >= 1 (add a batch axis to a single [C, H, W] image), or of signals [N, C, L] or volumes [N, C, D, H, W]`,
    );
  }
}

/**
 * The spatial size of the inputs, what maps are resized to: the axes after
 * [N, C], or for a model that takes channels last (`inputLayout` 'NHWC',
 * TensorFlow.js models) the axes between N and C.
 */
export function inputSpatialShape(model: Module, input: Tensor): number[] {
  return model.inputLayout === 'NHWC' ? input.shape.slice(1, -1) : input.shape.slice(2);
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
 * The method's view of a layer's output: after `reshape`, [N, C, ...spatial]
 * with the input's number of spatial axes. A token layer [N, T, C] of an
 * image model without a reshape gets an error that says which one to use.
 */
function asChannelsFirst(a: Tensor, layer: NamedLayer, input: Tensor, reshape: ReshapeTransform | undefined, fn: string): Tensor {
  const where = `layer '${layer.name}' (${layer.module.typeName})`;
  if (reshape) {
    const out = reshape(a);
    if (!(out instanceof Tensor) || out.ndim !== input.ndim || out.shape[0] !== a.shape[0]) {
      const got = out instanceof Tensor ? shapeString(out.shape) : typeof out;
      throw new ShapeError(
        `${fn}: the 'reshape' transform turned ${where}'s output ${shapeString(a.shape)} into ${got}; it must give [N, C, ...spatial] with N = ${a.shape[0]} and ${input.ndim - 2} spatial axes, as the input has`,
      );
    }
    return out;
  }
  if (a.ndim === input.ndim) return a;
  if (a.ndim === 3 && input.ndim === 4) {
    const tokens = a.shape[1]!;
    const grid = squareGrid(tokens - 1);
    const hint = grid
      ? `reshape: vitReshape() (${tokens} tokens = 1 class token + a ${grid[0]}x${grid[1]} grid)`
      : squareGrid(tokens)
        ? `reshape: vitReshape({ prefixTokens: 0 }) or swinReshape() (${tokens} tokens = a square grid)`
        : `reshape: vitReshape({ grid: [rows, columns], prefixTokens }) with rows * columns + prefixTokens = ${tokens}`;
    throw new ShapeError(`${fn}: ${where} outputs tokens ${shapeString(a.shape)}, not [N, C, h, w]; pass ${hint}`);
  }
  throw new ShapeError(
    `${fn}: ${where} outputs shape ${shapeString(a.shape)}; this method needs a layer whose output is [N, C, ...spatial] with ${input.ndim - 2} spatial axes like the input ${shapeString(input.shape)} (a convolution or a block of them), or a 'reshape' transform that makes it one`,
  );
}

/** Sets requiresGrad off on every parameter that has it on; returns the function that turns them back on. */
function freezeParameters(model: Module): () => void {
  const frozen = model.parameters().filter((p) => p.requiresGrad);
  for (const p of frozen) p.requiresGrad = false;
  return () => {
    for (const p of frozen) p.requiresGrad = true;
  };
}

/**
 * The one capture mechanism. Hooks the layers, runs the forward pass, picks
 * the output and the target and, when `gradients` is set, computes dA for
 * every layer with the pruned `grad` (no weight gradients, backward stops at
 * the layers). The hooks are removed in `finally`, even when something
 * throws. Call it inside `inEvalMode`.
 *
 * A layer that runs more than once in one forward pass (a shared module) is
 * captured at its last call.
 */
export function captureLayers(
  model: Module,
  input: Tensor,
  layers: readonly NamedLayer[],
  options: CaptureOptions,
  how: { gradients: boolean; fn: string },
): Capture {
  const { gradients, fn } = how;
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
  let run: ReturnType<typeof runForExplanation>;
  let emitted: Tensor[];
  // Only dA at the layers is asked for, so the ops that run before a layer
  // need no graph. With the parameters frozen for the forward pass they
  // record none (unless the input requires grad): the hooks above make each
  // layer's output the leaf the graph starts from, and the activations
  // before it are freed as the pass goes instead of held until the backward.
  const thaw = gradients ? freezeParameters(model) : null;
  try {
    run = gradients ? enableGrad(() => runForExplanation(model, input, options, fn)) : noGrad(() => runForExplanation(model, input, options, fn));
    emitted = layers.map((layer, i) => {
      const a = activations[i];
      if (!a) {
        throw new ArgumentError(`${fn}: layer '${layer.name}' (${layer.module.typeName}) did not run during the forward pass; choose a module the model calls`);
      }
      return a;
    });
  } finally {
    thaw?.();
    for (const h of handles) h.remove();
  }
  // Shapes are checked before the backward pass, so a wrong layer fails fast.
  const views = emitted.map((a, i) => asChannelsFirst(a.detach(), layers[i]!, input, options.reshape, fn));
  const images = rowIndices(input.shape[0]!);
  const classes = resolveClassTargets(options.target, run.explained, images.length, fn);
  let grads: (Tensor | null)[] = emitted.map(() => null);
  if (gradients) {
    const { scores, seed } = enableGrad(() => scoreAndSeed(options.target, classes, run.explained, fn, images, run.outputs));
    grads = grad(scores, emitted, { gradOutput: seed }).map((g, i) => (g ? asChannelsFirst(g.detach(), layers[i]!, input, options.reshape, fn) : null));
  }
  const outputName = run.name;
  return {
    model,
    input,
    output: run.explained.detach(),
    outputName,
    logits: run.logits.detach(),
    target: options.target,
    classes,
    layers: layers.map((layer, i) => ({ name: layer.name, module: layer.module, activation: views[i]!, gradient: grads[i] ?? null })),
    score: (batch, rows) => {
      const again = noGrad(() => runForExplanation(model, batch, { ...options, output: outputName }, fn));
      return scoreRows(options.target, classes, again.explained, rows, again.outputs, fn);
    },
  };
}
