import { GradError, ShapeError } from './errors.js';
import { Tensor, sameShape, shapeString } from './tensor.js';

/**
 * Reverse-mode autodiff, define-by-run.
 *
 * Every op computes its output and, next to it, a backward rule. When grad
 * mode is on and an input requires grad, `record()` attaches a `GradNode` to
 * the output: the op's name, its inputs and the rule. The nodes form the
 * graph; there is no global tape to clear, so a graph lives exactly as long
 * as the tensors that hold it.
 *
 * A backward rule gets the gradient of the output and a `needs` flag per
 * input, and returns one gradient per input (null where not needed). `grad()`
 * sets `needs` only for inputs on a path to the tensors asked for, so a
 * conv's filter gradient is never computed when only dA was asked (tfjs-core
 * prunes its tape the same way; PyTorch computes everything).
 */
export type BackwardRule = (gradOutput: Tensor, needs: readonly boolean[]) => (Tensor | null)[];

export interface GradNode {
  /** The op's name, e.g. 'conv2d'. */
  readonly op: string;
  readonly inputs: readonly Tensor[];
  readonly backward: BackwardRule;
  /**
   * The same op (same attributes) on other inputs of the same shapes. Set by
   * the ops whose attribution rules rerun them with modified weights (LRP's
   * gamma and alpha-beta rules): conv2d, convTranspose2d, linear, matmul.
   */
  readonly replay?: (inputs: readonly Tensor[]) => Tensor;
  /**
   * Forward mode: the output's derivative along the inputs' tangents (null:
   * a zero tangent). With `curvature`, what second derivatives need
   * (hessianVectorProduct); an op without a tangent rule has no second
   * derivatives in tinycam.
   */
  readonly tangent?: TangentRule;
  /**
   * The derivative of this op's backward rule along the inputs' tangents,
   * for a fixed gradOutput: d/dt backward_{x + t dx}(gradOutput). Absent
   * means zero: ops that are linear or piecewise linear in their inputs
   * (conv in x, ReLU, max-pool, pooling, shape ops, BatchNorm in eval mode).
   */
  readonly curvature?: CurvatureRule;
}

/** d output = tangent(d inputs): one tangent (or null for zero) per input. */
export type TangentRule = (tangents: readonly (Tensor | null)[]) => Tensor;

/** d/dt backward(gradOutput) along the inputs' tangents: one tensor (or null for zero) per input that `needs` asks for. */
export type CurvatureRule = (tangents: readonly (Tensor | null)[], gradOutput: Tensor, needs: readonly boolean[]) => (Tensor | null)[];

/** What an op may attach besides its backward rule (see GradNode). */
export interface RecordExtras {
  replay?: (inputs: readonly Tensor[]) => Tensor;
  tangent?: TangentRule;
  curvature?: CurvatureRule;
}

let gradEnabled = true;

/** Whether ops currently record the graph. */
export function isGradEnabled(): boolean {
  return gradEnabled;
}

/** Run `fn` without recording the graph (inference, optimiser steps, backward rules). */
export function noGrad<T>(fn: () => T): T {
  const previous = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = previous;
  }
}

/** Run `fn` with recording on, even inside `noGrad`. */
export function enableGrad<T>(fn: () => T): T {
  const previous = gradEnabled;
  gradEnabled = true;
  try {
    return fn();
  } finally {
    gradEnabled = previous;
  }
}

/**
 * Attach the op's backward rule to `output` if any input requires grad and
 * grad mode is on. Returns `output` for chaining. Ops call this once, right
 * after computing their output.
 */
export function record(
  op: string,
  output: Tensor,
  inputs: readonly Tensor[],
  backward: BackwardRule,
  extras?: RecordExtras,
): Tensor {
  if (!gradEnabled) return output;
  let any = false;
  for (const t of inputs) if (t.requiresGrad) any = true;
  if (!any) return output;
  output.requiresGrad = true;
  output.gradFn = extras ? { op, inputs, backward, ...extras } : { op, inputs, backward };
  return output;
}

/**
 * Give the node that just recorded `output` a tangent rule, for ops recorded
 * by helpers that do not see the op's options (interpolate's kernels).
 */
export function attachTangent(output: Tensor, tangent: TangentRule): Tensor {
  if (output.gradFn && !output.gradFn.tangent) output.gradFn = { ...output.gradFn, tangent };
  return output;
}

/**
 * An attribution rule in place of ops' own backward rules (DeepLIFT's
 * rescale rule, LRP's epsilon / gamma / alpha-beta rules): called for every
 * node a backward pass visits, with the node, its output and the gradient
 * arriving there; it returns the input gradients, or undefined to let the
 * op's own rule run.
 */
export type BackwardOverride = (
  node: GradNode,
  output: Tensor,
  gradOutput: Tensor,
  needs: readonly boolean[],
) => (Tensor | null)[] | undefined;

let backwardOverride: BackwardOverride | null = null;

/**
 * Run `fn` with `override` consulted before every backward rule (in `grad`
 * and `backward`), and put the previous override back afterwards, even when
 * `fn` throws: a rule is a local change, like the guided-backprop ReLU rule.
 */
export function withBackwardOverride<T>(override: BackwardOverride, fn: () => T): T {
  const previous = backwardOverride;
  backwardOverride = override;
  try {
    return fn();
  } finally {
    backwardOverride = previous;
  }
}

/** Whether a backward override is active (tests check that calls leave none behind). */
export function hasBackwardOverride(): boolean {
  return backwardOverride !== null;
}

/**
 * Tensors reachable from `root` through gradFn (only those that require
 * grad), in an order where a tensor precedes its inputs. Deterministic: two
 * graphs built by the same code on inputs of the same shapes list their
 * tensors in corresponding order (DeepLIFT pairs input and baseline this way).
 */
export function topologicalOrder(root: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const visited = new Set<Tensor>();
  // Iterative post-order DFS: deep networks must not overflow the JS stack.
  const stack: { t: Tensor; next: number }[] = [{ t: root, next: 0 }];
  visited.add(root);
  while (stack.length) {
    const top = stack[stack.length - 1]!;
    const inputs = top.t.gradFn?.inputs ?? [];
    if (top.next < inputs.length) {
      const child = inputs[top.next++]!;
      if (!visited.has(child) && child.requiresGrad) {
        visited.add(child);
        stack.push({ t: child, next: 0 });
      }
    } else {
      order.push(top.t);
      stack.pop();
    }
  }
  return order.reverse();
}

function accumulate(grads: Map<Tensor, Tensor>, t: Tensor, g: Tensor, op: string): void {
  if (!sameShape(g.shape, t.shape)) {
    throw new ShapeError(
      `backward of ${op} returned a gradient of shape ${shapeString(g.shape)} for an input of shape ${shapeString(t.shape)} (a bug in that op's backward rule)`,
    );
  }
  const previous = grads.get(t);
  if (!previous) {
    grads.set(t, g);
    return;
  }
  // Fan-out: gradients add up (micrograd's `+=`). Never write into a rule's
  // result in place: a rule may return its incoming gradient unchanged.
  const sum = new Float32Array(previous.data.length);
  const a = previous.data;
  const b = g.data;
  for (let i = 0; i < sum.length; i++) sum[i] = a[i]! + b[i]!;
  grads.set(t, new Tensor(sum, t.shape));
}

function seedGradient(output: Tensor, gradOutput: Tensor | undefined, fn: string): Tensor {
  if (gradOutput) {
    if (!sameShape(gradOutput.shape, output.shape)) {
      throw new ShapeError(
        `${fn}: gradOutput has shape ${shapeString(gradOutput.shape)} but the output has shape ${shapeString(output.shape)}`,
      );
    }
    return gradOutput;
  }
  if (output.size !== 1) {
    throw new GradError(
      `${fn}: the output has shape ${shapeString(output.shape)}; without gradOutput only a one-element output can be differentiated (reduce it with sum() first, or pass gradOutput)`,
    );
  }
  return new Tensor(Float32Array.of(1), output.shape);
}

/**
 * Run backward rules from `output` down through `order` (output first, each
 * tensor before its inputs). `relevant(t)` says whether t's gradient is
 * needed at all; `visit(t, g)` sees each tensor's complete gradient once,
 * before it is pushed further down.
 */
function propagate(
  output: Tensor,
  seed: Tensor,
  order: readonly Tensor[],
  relevant: (t: Tensor) => boolean,
  visit: (t: Tensor, g: Tensor) => void,
): void {
  const grads = new Map<Tensor, Tensor>();
  grads.set(output, seed);
  noGrad(() => {
    for (const t of order) {
      const g = grads.get(t);
      if (!g) continue;
      // Intermediate gradients are dropped as soon as they are used, so
      // memory holds one frontier of the graph at a time.
      grads.delete(t);
      visit(t, g);
      const node = t.gradFn;
      if (!node) continue;
      const needs = node.inputs.map((input) => input.requiresGrad && relevant(input));
      if (!needs.some(Boolean)) continue;
      const inputGrads = backwardOverride?.(node, t, g, needs) ?? node.backward(g, needs);
      node.inputs.forEach((input, i) => {
        const ig = inputGrads[i];
        if (needs[i] && ig) accumulate(grads, input, ig, node.op);
      });
    }
  });
}

export interface GradOptions {
  /** Gradient of the output (defaults to 1 for a one-element output). */
  gradOutput?: Tensor;
}

/**
 * d output / d x for each x in `inputs`, visiting only the part of the graph
 * between them and `output`. An input the output does not depend on gets a
 * gradient of zeros. Nothing is written to `.grad`.
 */
export function grad(output: Tensor, inputs: readonly Tensor[], options: GradOptions = {}): Tensor[] {
  const seed = seedGradient(output, options.gradOutput, 'grad');
  const wanted = new Set(inputs);
  const results = new Map<Tensor, Tensor>();
  const order = topologicalOrder(output);
  // A tensor is relevant when some wanted tensor lies at or below it.
  const relevant = new Set<Tensor>();
  for (let i = order.length - 1; i >= 0; i--) {
    const t = order[i]!;
    if (wanted.has(t) || t.gradFn?.inputs.some((x) => relevant.has(x))) relevant.add(t);
  }
  // A wanted tensor may have wanted tensors below it, so propagation goes on
  // past it; its gradient is taken as it passes.
  propagate(output, seed, order, (t) => relevant.has(t), (t, g) => {
    if (wanted.has(t)) results.set(t, g);
  });
  return inputs.map((x) => results.get(x) ?? new Tensor(new Float32Array(x.size), x.shape));
}

/**
 * Backpropagate from `output` and add the gradient into `.grad` of every leaf
 * that requires grad (parameters, inputs made with `requireGrad()`), for training.
 */
export function backward(output: Tensor, options: GradOptions = {}): void {
  const seed = seedGradient(output, options.gradOutput, 'backward');
  if (!output.requiresGrad) {
    throw new GradError(
      'backward: the output does not require grad: no input of the computation requires grad, or it was computed inside noGrad()',
    );
  }
  const order = topologicalOrder(output);
  propagate(output, seed, order, () => true, (leaf, g) => {
    if (leaf.gradFn || !leaf.requiresGrad) return;
    if (!leaf.grad) {
      leaf.grad = new Tensor(g.data.slice(), leaf.shape);
    } else {
      const acc = leaf.grad.data;
      for (let i = 0; i < acc.length; i++) acc[i] = acc[i]! + g.data[i]!;
    }
  });
}

/**
 * Forward-mode derivative of `output` along `seeds` (tangents of tensors in
 * its graph, usually leaves): each op's tangent rule applied from the seeds
 * up. Throws a GradError naming the first op on the way that has no tangent
 * rule (a smooth non-linearity such as sigmoid or softmax, or an op not yet
 * covered); callers that can do without fall back on finite differences.
 */
export function tangentOf(output: Tensor, seeds: ReadonlyMap<Tensor, Tensor>): Tensor {
  const order = topologicalOrder(output);
  const tangents = new Map<Tensor, Tensor>(seeds);
  noGrad(() => {
    for (let i = order.length - 1; i >= 0; i--) {
      const t = order[i]!;
      if (tangents.has(t)) continue;
      const node = t.gradFn;
      if (!node) continue;
      const inputs = node.inputs.map((x) => tangents.get(x) ?? null);
      if (inputs.every((x) => x === null)) continue;
      if (!node.tangent) {
        throw new GradError(`tangentOf: op '${node.op}' has no tangent rule (only linear and piecewise-linear ops have one)`);
      }
      tangents.set(t, node.tangent(inputs));
    }
  });
  return tangents.get(output) ?? new Tensor(new Float32Array(output.size), output.shape);
}

/**
 * Second derivatives, forward over reverse: d/dt of (d <gradOutput, output>
 * / d wrt) at wrt + t direction, i.e. the Hessian of <gradOutput, output>
 * with respect to `wrt` times `direction`. Tangents run forward from `wrt`
 * (tangent rules), then one backward sweep carries each tensor's gradient g
 * and its derivative g': g'_in = backward(g'_out) + curvature(tangents, g_out).
 * Exact for every graph whose ops have tangent rules; throws a GradError
 * naming the first op on the path that has none.
 */
export function hessianVectorProduct(output: Tensor, wrt: Tensor, direction: Tensor, options: GradOptions = {}): Tensor {
  const seed = seedGradient(output, options.gradOutput, 'hessianVectorProduct');
  if (!sameShape(direction.shape, wrt.shape)) {
    throw new ShapeError(`hessianVectorProduct: direction has shape ${shapeString(direction.shape)} but the tensor it is taken along has shape ${shapeString(wrt.shape)}`);
  }
  const order = topologicalOrder(output);
  const relevant = new Set<Tensor>();
  for (let i = order.length - 1; i >= 0; i--) {
    const t = order[i]!;
    if (t === wrt || t.gradFn?.inputs.some((x) => relevant.has(x))) relevant.add(t);
  }
  const tangents = new Map<Tensor, Tensor>([[wrt, direction]]);
  const grads = new Map<Tensor, Tensor>([[output, seed]]);
  const dots = new Map<Tensor, Tensor>();
  let result: Tensor | undefined;
  const add = (map: Map<Tensor, Tensor>, t: Tensor, g: Tensor, op: string): void => accumulate(map, t, g, op);
  noGrad(() => {
    for (let i = order.length - 1; i >= 0; i--) {
      const t = order[i]!;
      const node = t.gradFn;
      if (tangents.has(t) || !node) continue;
      const inputs = node.inputs.map((x) => tangents.get(x) ?? null);
      if (inputs.every((x) => x === null)) continue;
      if (!node.tangent) throw new GradError(`hessianVectorProduct: op '${node.op}' has no second derivatives in tinycam (no tangent rule)`);
      tangents.set(t, node.tangent(inputs));
    }
    for (const t of order) {
      const g = grads.get(t);
      if (!g) continue;
      const dot = dots.get(t);
      grads.delete(t);
      dots.delete(t);
      if (t === wrt) result = dot;
      const node = t.gradFn;
      if (!node) continue;
      const needs = node.inputs.map((x) => x.requiresGrad && relevant.has(x));
      if (!needs.some(Boolean)) continue;
      const inputGrads = node.backward(g, needs);
      const inputDots = dot ? node.backward(dot, needs) : [];
      const inputTangents = node.inputs.map((x) => tangents.get(x) ?? null);
      const curvature = node.curvature && inputTangents.some((x) => x !== null) ? node.curvature(inputTangents, g, needs) : [];
      node.inputs.forEach((x, k) => {
        if (!needs[k]) return;
        const ig = inputGrads[k];
        if (ig) add(grads, x, ig, node.op);
        const id = inputDots[k];
        if (id) add(dots, x, id, node.op);
        const ic = curvature[k];
        if (ic) add(dots, x, ic, node.op);
      });
    }
  });
  return result ?? new Tensor(new Float32Array(wrt.size), wrt.shape);
}
