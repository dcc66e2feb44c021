import { grad, topologicalOrder, withBackwardOverride, type BackwardOverride } from '../../tensor/autograd.js';
import { ArgumentError } from '../../tensor/errors.js';
import { Tensor, sameShape } from '../../tensor/tensor.js';
import type { Module } from '../../layers/module.js';
import { baselineOf, ELEMENTWISE_OPS, scoredPass, type AttributionResult } from '../attribution.js';
import { checkInput, inEvalMode } from '../capture.js';
import type { GradientOptions } from '../types.js';

export interface DeepLiftOptions extends GradientOptions {
  /** The reference input: a number (default 0), a tensor shaped like the input, or one image [1, C, H, W]. */
  baseline?: number | Tensor;
  /** |x - x'| below which a non-linearity's multiplier falls back to its gradient (default 1e-10, as captum). */
  eps?: number;
}

/** Reductions to one winner per output: captum's max-pool rule. */
const MAX_LIKE = new Set(['maxPool2d', 'globalMaxPool2d', 'max', 'min']);
/** Products of two varying tensors: the average of the two points' gradients is exact (bilinear). */
const BILINEAR = new Set(['mul', 'matmul']);

function elementwise(f: (k: number) => number, n: number, shape: readonly number[]): Tensor {
  const out = new Float32Array(n);
  for (let k = 0; k < n; k++) out[k] = f(k);
  return new Tensor(out, shape);
}

/**
 * The DeepLIFT rules as a backward override (Shrikumar et al. 2017; the
 * rescale rule, with captum's treatment of max-pooling). The gradient
 * carried down is the multiplier m = d(contribution) / d(difference):
 *   - an elementwise non-linearity y = f(x): m_x = m_y (y - y') / (x - x'),
 *     or its gradient where |x - x'| < eps;
 *   - a max (max-pool, global max-pool, max/min over axes): with
 *     M = max(y, y'), the difference splits as (M - y') routed to x's winners
 *     and (y - M) routed to x''s winners (each op's own backward), then
 *     divided by x - x' (captum's maxpool rule);
 *   - a product of two varying tensors (mul, matmul): the mean of the
 *     gradients at x and at x', exact for a bilinear op;
 *   - everything else (linear ops): the gradient, exact.
 * Primed values come from the baseline's own forward pass, paired tensor by
 * tensor with the input's (`pairs`).
 */
function deepLiftRule(pairs: ReadonlyMap<Tensor, Tensor>, eps: number): BackwardOverride {
  return (node, output, g, needs) => {
    const ref = pairs.get(output);
    const refNode = ref?.gradFn;
    if (!ref || !refNode) return undefined;
    const varying = needs.flatMap((need, k) => (need ? [k] : []));
    if (ELEMENTWISE_OPS.has(node.op) && varying.length === 1) {
      const k = varying[0]!;
      const x = node.inputs[k]!;
      const xr = refNode.inputs[k]!;
      if (!sameShape(x.shape, output.shape)) return undefined;
      const standard = node.backward(g, needs)[k]!;
      const inputGrads: (Tensor | null)[] = node.inputs.map(() => null);
      inputGrads[k] = elementwise(
        (i) => {
          const dx = x.data[i]! - xr.data[i]!;
          return Math.abs(dx) < eps ? standard.data[i]! : (g.data[i]! * (output.data[i]! - ref.data[i]!)) / dx;
        },
        x.size,
        x.shape,
      );
      return inputGrads;
    }
    if (MAX_LIKE.has(node.op) && varying.length === 1 && varying[0] === 0) {
      const x = node.inputs[0]!;
      const xr = refNode.inputs[0]!;
      const pick = node.op === 'min' ? Math.min : Math.max;
      const own = elementwise((i) => g.data[i]! * (pick(output.data[i]!, ref.data[i]!) - ref.data[i]!), g.size, g.shape);
      const theirs = elementwise((i) => g.data[i]! * (output.data[i]! - pick(output.data[i]!, ref.data[i]!)), g.size, g.shape);
      const contribution = node.backward(own, needs)[0]!;
      const refContribution = refNode.backward(theirs, needs)[0]!;
      const standard = node.backward(g, needs)[0]!;
      return [
        elementwise(
          (i) => {
            const dx = x.data[i]! - xr.data[i]!;
            return Math.abs(dx) < eps ? standard.data[i]! : (contribution.data[i]! + refContribution.data[i]!) / dx;
          },
          x.size,
          x.shape,
        ),
      ];
    }
    if (BILINEAR.has(node.op) && varying.length === 2) {
      const here = node.backward(g, needs);
      const there = refNode.backward(g, needs);
      return here.map((t, k) => (t && there[k] ? elementwise((i) => (t.data[i]! + there[k]!.data[i]!) / 2, t.size, t.shape) : null));
    }
    return undefined;
  };
}

/**
 * Input and baseline graphs, paired tensor by tensor: the same model code on
 * inputs of the same shape records the same ops in the same order.
 */
function pairGraphs(root: Tensor, refRoot: Tensor, fn: string): Map<Tensor, Tensor> {
  const order = topologicalOrder(root);
  const refOrder = topologicalOrder(refRoot);
  const mismatch = (): never => {
    throw new ArgumentError(
      `${fn}: the model computed different operations for the input and for the baseline (data-dependent control flow), so DeepLIFT cannot pair them; use integratedGradients instead`,
    );
  };
  if (order.length !== refOrder.length) mismatch();
  const pairs = new Map<Tensor, Tensor>();
  order.forEach((t, i) => {
    const r = refOrder[i]!;
    if (!sameShape(t.shape, r.shape) || (t.gradFn?.op ?? null) !== (r.gradFn?.op ?? null)) mismatch();
    pairs.set(t, r);
  });
  return pairs;
}

/**
 * DeepLIFT for a batch against baselines of the same shape (one per row):
 * attributions = (x - x') * the multipliers of deepLiftRule. Call inside
 * inEvalMode. `classes` fixes class targets (null for a target function,
 * undefined to resolve against the input's logits).
 */
export function deepLiftAttributions(
  model: Module,
  input: Tensor,
  baselines: Float32Array,
  options: GradientOptions,
  classes: number[] | null | undefined,
  eps: number,
  fn: string,
  images?: readonly number[],
): { attributions: Float32Array; delta: Float32Array; logits: Tensor; output: string; classes: number[] | null; gap: Float64Array } {
  const main = scoredPass(model, input, options, classes, fn, images);
  const ref = scoredPass(model, new Tensor(baselines, input.shape), { ...options, output: main.output }, main.classes, fn, images);
  const pairs = pairGraphs(main.scores, ref.scores, fn);
  const [multipliers] = withBackwardOverride(deepLiftRule(pairs, eps), () => grad(main.scores, [main.x], { gradOutput: main.seed }));
  const n = input.shape[0]!;
  const size = input.size / n;
  const attributions = new Float32Array(input.size);
  const delta = new Float32Array(n);
  const gap = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let total = 0;
    for (let p = i * size; p < (i + 1) * size; p++) {
      const value = (input.data[p]! - baselines[p]!) * multipliers!.data[p]!;
      attributions[p] = value;
      total += value;
    }
    gap[i] = main.rowScores[i]! - ref.rowScores[i]!;
    delta[i] = total - gap[i]!;
  }
  return { attributions, delta, logits: main.logits.detach(), output: main.output, classes: main.classes, gap };
}

export function checkEps(eps: number | undefined, fn: string): number {
  const value = eps ?? 1e-10;
  if (!(value >= 0) || !Number.isFinite(value)) throw new ArgumentError(`${fn}: eps must be a finite number >= 0 (default 1e-10); got ${String(value)}`);
  return value;
}

/**
 * Shrikumar et al. 2017, DeepLIFT with the rescale rule, by modified
 * backward rules (see deepLiftRule): one forward pass for the input, one for
 * the baseline, one backward pass, for the whole batch. Attributions sum to
 * score(x) - score(baseline) (`delta` holds the difference: 0 up to
 * rounding on networks of ReLU-like activations, max-pooling and linear
 * ops; softmax, LayerNorm and other ops without a rule use their gradient
 * and break the sum). Rules are installed for the call only and removed in
 * `finally`. Works on any tinycam Module or ONNX graph: the rules act on
 * the recorded ops, so skip connections, reused modules and functional
 * activations need nothing special.
 */
export function deepLift(model: Module, input: Tensor, options: DeepLiftOptions = {}): AttributionResult {
  const fn = 'deepLift';
  checkInput(input, fn);
  const eps = checkEps(options.eps, fn);
  const baselines = baselineOf(options.baseline, input, fn);
  return inEvalMode(model, () => {
    const r = deepLiftAttributions(model, input, baselines, options, undefined, eps, fn);
    return {
      gradients: new Tensor(r.attributions, input.shape),
      delta: new Tensor(r.delta, [input.shape[0]!]),
      targets: r.classes,
      logits: r.logits,
      output: r.output,
    };
  });
}
