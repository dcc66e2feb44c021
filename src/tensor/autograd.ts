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
export function record(op: string, output: Tensor, inputs: readonly Tensor[], backward: BackwardRule): Tensor {
  if (!gradEnabled) return output;
  let any = false;
  for (const t of inputs) if (t.requiresGrad) any = true;
  if (!any) return output;
  output.requiresGrad = true;
  output.gradFn = { op, inputs, backward };
  return output;
}

/** Tensors reachable from `root` through gradFn, in an order where a tensor precedes its inputs. */
function topologicalOrder(root: Tensor): Tensor[] {
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
      const inputGrads = node.backward(g, needs);
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
