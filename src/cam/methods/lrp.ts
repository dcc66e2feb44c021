import { grad, noGrad, topologicalOrder, withBackwardOverride, type BackwardOverride, type GradNode } from '../../tensor/autograd.js';
import { ArgumentError } from '../../tensor/errors.js';
import { backwardOf, leafOf } from '../../tensor/tangent.js';
import { Tensor, sameShape } from '../../tensor/tensor.js';
import type { Module } from '../../layers/module.js';
import { ELEMENTWISE_OPS, scoredPass, type AttributionResult } from '../attribution.js';
import { checkInput, inEvalMode } from '../capture.js';
import type { GradientOptions } from '../types.js';

export type LrpRuleName = 'zero' | 'epsilon' | 'gamma' | 'alphaBeta';

/** A propagation rule for convolutions and dense layers, with its parameters. */
export type LrpRule =
  | { rule: 'zero' }
  | { rule: 'epsilon'; epsilon?: number }
  | { rule: 'gamma'; gamma?: number }
  | { rule: 'alphaBeta'; alpha?: number; beta?: number };

export interface LrpOptions extends GradientOptions {
  /** One rule for every convolution and dense layer (overrides `rules`). */
  rule?: LrpRule | LrpRuleName;
  /**
   * The rule per layer type (a composite, Montavon et al. 2019): by default
   * gamma (0.25) for convolutions and epsilon (1e-6) for dense layers
   * (Linear, Gemm, MatMul with a constant operand).
   */
  rules?: { conv?: LrpRule | LrpRuleName; dense?: LrpRule | LrpRuleName };
  /** Fold a BatchNorm into the convolution or Linear it follows (default true). */
  foldBatchNorm?: boolean;
}

type ResolvedRule = { rule: 'zero' } | { rule: 'epsilon'; epsilon: number } | { rule: 'gamma'; gamma: number } | { rule: 'alphaBeta'; alpha: number; beta: number };

const CONV_OPS = new Set(['conv2d', 'convTranspose2d']);
const DENSE_OPS = new Set(['linear', 'matmul']);
/** The stabiliser of the gamma and alpha-beta denominators (captum's). */
const STABILIZER = 1e-9;

function resolveRule(rule: LrpRule | LrpRuleName | undefined, fallback: ResolvedRule, fn: string): ResolvedRule {
  if (rule === undefined) return fallback;
  const r = typeof rule === 'string' ? ({ rule } as LrpRule) : rule;
  const finite = (name: string, v: number, min: number): number => {
    if (!Number.isFinite(v) || v < min) throw new ArgumentError(`${fn}: ${name} must be a finite number >= ${min}; got ${String(v)}`);
    return v;
  };
  switch (r?.rule) {
    case 'zero':
      return { rule: 'zero' };
    case 'epsilon':
      return { rule: 'epsilon', epsilon: finite('epsilon', r.epsilon ?? 1e-6, 0) };
    case 'gamma':
      return { rule: 'gamma', gamma: finite('gamma', r.gamma ?? 0.25, 0) };
    case 'alphaBeta': {
      const alpha = finite('alpha', r.alpha ?? 1, 0);
      const beta = finite('beta', r.beta ?? alpha - 1, 0);
      if (Math.abs(alpha - beta - 1) > 1e-12) throw new ArgumentError(`${fn}: the alpha-beta rule needs alpha - beta = 1 (so relevance is conserved); got alpha ${alpha}, beta ${beta}`);
      return { rule: 'alphaBeta', alpha, beta };
    }
    default:
      throw new ArgumentError(`${fn}: unknown LRP rule ${JSON.stringify(rule)}; accepted: 'zero', 'epsilon', 'gamma', 'alphaBeta' (or { rule, ...parameters })`);
  }
}

/** A BatchNorm folded into the convolution or Linear before it: its output and per-channel scale. */
interface Fold {
  output: Tensor;
  scale: Float32Array;
}

function map(t: Tensor, f: (v: number, i: number) => number): Tensor {
  return new Tensor(Float32Array.from(t.data, f), t.shape);
}

/** Per output channel c (axis 1 of [N, C, ...]): f(value, c). */
function perChannel(t: Tensor, f: (v: number, c: number) => number): Tensor {
  const c = t.shape[1] ?? 1;
  const inner = t.size / ((t.shape[0] ?? 1) * c);
  return map(t, (v, i) => f(v, Math.floor(i / inner) % c));
}

/**
 * The affine layer a conv/dense node computes, in the form the rules need:
 * its varying input `a` (index k), its weight operand and bias (BatchNorm
 * folded in: W~ = s W per output channel, b~ from the BatchNorm's output),
 * its output z, and replays with other weights.
 */
function affineLayer(node: GradNode, output: Tensor, k: number, fold: Fold | undefined) {
  const a = node.inputs[k]!;
  const isMatmul = node.op === 'matmul';
  const weightIndex = isMatmul ? 1 - k : 1;
  let weight = node.inputs[weightIndex]!;
  let bias: Tensor | null = isMatmul ? null : (node.inputs[2] ?? null);
  const z = fold ? fold.output : output;
  const withInputs = (activation: Tensor, w: Tensor, b: Tensor | null): Tensor[] =>
    isMatmul ? (k === 0 ? [activation, w] : [w, activation]) : b ? [activation, w, b] : [activation, w];
  const forward = (activation: Tensor, w: Tensor, b: Tensor | null): Tensor => noGrad(() => node.replay!(withInputs(activation, w, b)));
  if (fold) {
    // W~[o, ...] = s_o W[o, ...]; b~ = each channel's z - W~ a (the BatchNorm's shift and the conv bias)
    const rows = weight.shape[0]!;
    const per = weight.size / rows;
    weight = map(weight, (v, i) => v * fold.scale[Math.floor(i / per)]!);
    const linearPart = forward(a, weight, null);
    const channels = z.shape[1]!;
    const sums = new Float64Array(channels);
    const counts = new Float64Array(channels);
    perChannel(z, (v, c) => {
      sums[c] = sums[c]! + v;
      counts[c] = counts[c]! + 1;
      return v;
    });
    perChannel(linearPart, (v, c) => {
      sums[c] = sums[c]! - v;
      return v;
    });
    bias = new Tensor(Float32Array.from(sums, (s, c) => s / counts[c]!), [channels]);
  }
  /** d/da of the layer with weight w at gradOutput s: w^T s. */
  const backward = (w: Tensor, s: Tensor): Tensor => backwardOf(() => node.replay!(withInputs(leafOf(a), w, null)), s, k);
  return { a, weight, bias, z, forward, backward };
}

/**
 * The LRP rules as a backward override. The gradient carried down is
 * relevance per unit of activation, m = R / a, so ops without a rule pass it
 * with their gradient, which is LRP-0 for them (pooling shares relevance in
 * proportion to the inputs, max-pooling gives it to the winner, a residual
 * addition z = a + b splits R into R a / z and R b / z, a concatenation keeps
 * each part's) and the attributions are x * m at the input. Rules:
 *   - convolutions and dense layers z = W a + b, by the rule of their kind,
 *     with R = z m (BatchNorm folded in when it follows directly):
 *       epsilon: m_a = W^T (m z / (z + eps sign(z)));
 *       gamma:   R_j = sum_k c_jk R_k / sum_j' c_j'k, the contributions c_jk = a_j w_jk
 *         with those of the output's sign boosted by gamma (for z_k > 0:
 *         a+ (w + gamma w+) + a- (w + gamma w-), bias b + gamma b+; for z_k < 0
 *         the mirror image), so the denominator never crosses 0; on
 *         non-negative inputs this is Montavon et al.'s gamma rule;
 *       alpha-beta: R_j = alpha sum_k (a_j w_jk)+ R_k / z+_k - beta sum_k (a_j w_jk)- R_k / z-_k,
 *         with (a w)+ = a+ w+ + a- w- and the biases' positive (negative) parts in z+ (z-);
 *       zero: the gradient (LRP-0).
 *   - a folded BatchNorm passes m through unchanged (its conv's rule uses
 *     the BatchNorm's output and the folded weights);
 *   - elementwise activations pass relevance unchanged: m_x = m_y y / x.
 */
function lrpRule(rules: { conv: ResolvedRule; dense: ResolvedRule }, folds: ReadonlyMap<Tensor, Fold>, foldedOutputs: ReadonlySet<Tensor>): BackwardOverride {
  return (node, output, g, needs) => {
    if (foldedOutputs.has(output)) return node.inputs.map((_, k) => (k === 0 && needs[0] ? g : null));
    const varying = needs.flatMap((need, k) => (need ? [k] : []));
    if (varying.length !== 1) return undefined;
    const k = varying[0]!;
    if (ELEMENTWISE_OPS.has(node.op)) {
      const x = node.inputs[k]!;
      if (!sameShape(x.shape, output.shape)) return undefined;
      const inputGrads: (Tensor | null)[] = node.inputs.map(() => null);
      inputGrads[k] = map(x, (v, i) => (v === 0 ? 0 : (g.data[i]! * output.data[i]!) / v));
      return inputGrads;
    }
    const kind = CONV_OPS.has(node.op) ? 'conv' : DENSE_OPS.has(node.op) ? 'dense' : null;
    if (!kind || !node.replay || (kind === 'conv' && k !== 0) || (node.op === 'linear' && k !== 0)) return undefined;
    const rule = rules[kind];
    const fold = folds.get(output);
    if (rule.rule === 'zero' && !fold) return undefined;
    const layer = affineLayer(node, output, k, fold);
    const relevance = map(layer.z, (v, i) => v * g.data[i]!);
    const result: (Tensor | null)[] = node.inputs.map(() => null);
    if (rule.rule === 'zero' || rule.rule === 'epsilon') {
      const eps = rule.rule === 'epsilon' ? rule.epsilon : 0;
      const s = map(layer.z, (z, i) => (z === 0 && eps === 0 ? 0 : relevance.data[i]! / (z + (z < 0 ? -eps : eps))));
      result[k] = layer.backward(layer.weight, s);
    } else if (rule.rule === 'gamma') {
      // Contributions with the output's sign are boosted: W + gamma W+ on positive inputs and
      // W + gamma W- on negative ones for a positive output, the other way round for a negative one.
      const boostUp = map(layer.weight, (w) => w + rule.gamma * Math.max(w, 0));
      const boostDown = map(layer.weight, (w) => w + rule.gamma * Math.min(w, 0));
      const aPlus = map(layer.a, (v) => Math.max(v, 0));
      const aMinus = map(layer.a, (v) => Math.min(v, 0));
      const anyNegative = aMinus.data.some((v) => v < 0);
      const add = (x: Tensor, y: Tensor | null): Tensor => (y ? map(x, (v, i) => v + y.data[i]!) : x);
      const bias = (f: (b: number) => number) => layer.bias && map(layer.bias, (b) => b + rule.gamma * f(b));
      const zUp = add(layer.forward(aPlus, boostUp, bias((b) => Math.max(b, 0))), anyNegative ? layer.forward(aMinus, boostDown, null) : null);
      const zDown = add(layer.forward(aPlus, boostDown, bias((b) => Math.min(b, 0))), anyNegative ? layer.forward(aMinus, boostUp, null) : null);
      // z > 0: zUp >= z > 0; z < 0: zDown <= z < 0, so the denominators keep away from 0
      const sUp = map(layer.z, (z, i) => (z > 0 ? relevance.data[i]! / (zUp.data[i]! + STABILIZER) : 0));
      const sDown = map(layer.z, (z, i) => (z < 0 ? relevance.data[i]! / (zDown.data[i]! - STABILIZER) : 0));
      const positiveInputs = add(layer.backward(boostUp, sUp), layer.backward(boostDown, sDown));
      const negativeInputs = anyNegative ? add(layer.backward(boostDown, sUp), layer.backward(boostUp, sDown)) : null;
      result[k] = map(layer.a, (v, i) => (v > 0 ? positiveInputs.data[i]! : v < 0 ? negativeInputs!.data[i]! : 0));
    } else {
      const positive = map(layer.weight, (w) => Math.max(w, 0));
      const negative = map(layer.weight, (w) => Math.min(w, 0));
      const aPlus = map(layer.a, (v) => Math.max(v, 0));
      const aMinus = map(layer.a, (v) => Math.min(v, 0));
      const anyNegative = aMinus.data.some((v) => v < 0);
      const sum = (...ts: (Tensor | null)[]): Tensor => {
        const parts = ts.filter((t): t is Tensor => t !== null);
        return map(parts[0]!, (_, i) => parts.reduce((s, t) => s + t.data[i]!, 0));
      };
      const zPlus = sum(layer.forward(aPlus, positive, layer.bias && map(layer.bias, (b) => Math.max(b, 0))), anyNegative ? layer.forward(aMinus, negative, null) : null);
      const zMinus = sum(layer.forward(aPlus, negative, layer.bias && map(layer.bias, (b) => Math.min(b, 0))), anyNegative ? layer.forward(aMinus, positive, null) : null);
      const sPlus = map(zPlus, (z, i) => (z > 0 ? relevance.data[i]! / (z + STABILIZER) : 0));
      const sMinus = map(zMinus, (z, i) => (z < 0 ? relevance.data[i]! / (z - STABILIZER) : 0));
      const plusPos = layer.backward(positive, sPlus);
      const plusNeg = anyNegative ? layer.backward(negative, sPlus) : null;
      const minusNeg = rule.beta > 0 ? layer.backward(negative, sMinus) : null;
      const minusPos = rule.beta > 0 && anyNegative ? layer.backward(positive, sMinus) : null;
      result[k] = map(layer.a, (v, i) => {
        if (v === 0) return 0;
        const pos = v > 0;
        const gain = pos ? plusPos.data[i]! : plusNeg!.data[i]!;
        const loss = rule.beta > 0 ? (pos ? minusNeg!.data[i]! : minusPos!.data[i]!) : 0;
        return rule.alpha * gain - rule.beta * loss;
      });
    }
    return result;
  };
}

/**
 * BatchNorms (in eval mode) that directly follow a conv2d or linear whose
 * output nothing else uses: the conv's output -> the fold, and the set of
 * BatchNorm outputs that pass relevance through.
 */
function findFolds(root: Tensor): { folds: Map<Tensor, Fold>; foldedOutputs: Set<Tensor> } {
  const order = topologicalOrder(root);
  const consumers = new Map<Tensor, number>();
  for (const t of order) for (const x of t.gradFn?.inputs ?? []) consumers.set(x, (consumers.get(x) ?? 0) + 1);
  const folds = new Map<Tensor, Fold>();
  const foldedOutputs = new Set<Tensor>();
  for (const t of order) {
    const node = t.gradFn;
    // eval-mode BatchNorm is affine, which its tangent rule marks
    if (node?.op !== 'batchNorm' || !node.tangent) continue;
    const u = node.inputs[0]!;
    const producer = u.gradFn;
    if (!producer?.replay || (producer.op !== 'conv2d' && producer.op !== 'linear') || consumers.get(u) !== 1 || u.ndim < 2) continue;
    if (producer.op === 'linear' && u.ndim !== 2) continue;
    const ones = new Tensor(new Float32Array(t.size).fill(1), t.shape);
    const dx = noGrad(() => node.backward(ones, node.inputs.map((_, k) => k === 0)))[0]!;
    const channels = t.shape[1]!;
    const inner = t.size / (t.shape[0]! * channels);
    folds.set(u, { output: t, scale: Float32Array.from({ length: channels }, (_, c) => dx.data[c * inner]!) });
    foldedOutputs.add(t);
  }
  return { folds, foldedOutputs };
}

/**
 * Bach et al. 2015 / Montavon et al. 2019, Layer-wise Relevance Propagation,
 * by modified backward rules (see lrpRule): one forward and one backward
 * pass for the whole batch, on any tinycam Module or ONNX graph (the rules
 * act on the recorded ops: skip connections, reused modules and functional
 * activations need nothing special). The relevance of the target's score is
 * redistributed down to the input; attributions sum to the score up to what
 * biases and epsilon absorb (`delta` = sum - score: 0 up to rounding for
 * LRP-0 and LRP-epsilon as epsilon -> 0 on ReLU networks without biases).
 * Rules are installed for the call only and removed in `finally`.
 */
export function lrp(model: Module, input: Tensor, options: LrpOptions = {}): AttributionResult {
  const fn = 'lrp';
  checkInput(input, fn);
  const defaults = { conv: { rule: 'gamma', gamma: 0.25 } as ResolvedRule, dense: { rule: 'epsilon', epsilon: 1e-6 } as ResolvedRule };
  const one = options.rule === undefined ? undefined : resolveRule(options.rule, defaults.conv, fn);
  const rules = {
    conv: one ?? resolveRule(options.rules?.conv, defaults.conv, fn),
    dense: one ?? resolveRule(options.rules?.dense, defaults.dense, fn),
  };
  return inEvalMode(model, () => {
    const pass = scoredPass(model, input, options, undefined, fn);
    const { folds, foldedOutputs } = options.foldBatchNorm === false ? { folds: new Map(), foldedOutputs: new Set<Tensor>() } : findFolds(pass.scores);
    const [m] = withBackwardOverride(lrpRule(rules, folds, foldedOutputs), () => grad(pass.scores, [pass.x], { gradOutput: pass.seed }));
    const n = input.shape[0]!;
    const size = input.size / n;
    const relevance = new Float32Array(input.size);
    const delta = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      let total = 0;
      for (let p = i * size; p < (i + 1) * size; p++) {
        relevance[p] = input.data[p]! * m!.data[p]!;
        total += relevance[p]!;
      }
      delta[i] = total - pass.rowScores[i]!;
    }
    return { gradients: new Tensor(relevance, input.shape), delta: new Tensor(delta, [n]), targets: pass.classes, logits: pass.logits.detach(), output: pass.output };
  });
}
