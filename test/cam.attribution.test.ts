/**
 * DeepLIFT, DeepLiftShap, GradientShap and LRP: their identities
 * (completeness and conservation to 1e-4 relative; DeepLIFT on a linear
 * model and LRP-0 equal input x gradient; BatchNorm folding equals a model
 * folded by hand), an independent naive LRP on a dense network, batches,
 * and typed errors. Cross-checked against captum's formulas by
 * tools/crosscheck/attribution.py.
 */
import { describe, expect, it } from 'vitest';
import { deepLift, deepLiftShap, gradientShap, inputXGradient, lrp, saliency, type AttributionResult, type LrpOptions } from '../src/cam/index.js';
import { AdaptiveAvgPool2d, BatchNorm2d, Conv2d, Flatten, Linear, MaxPool2d, ReLU, Sequential } from '../src/layers/index.js';
import { Module } from '../src/layers/module.js';
import { ArgumentError, ShapeError } from '../src/tensor/errors.js';
import { add } from '../src/tensor/ops/elementwise.js';
import { concat } from '../src/tensor/ops/shape.js';
import { randn } from '../src/tensor/random.js';
import { Tensor } from '../src/tensor/tensor.js';

/** A block with a residual addition and a concatenation, the ops captum's hooks get wrong. */
class SkipAndConcat extends Module {
  readonly conv1: Conv2d;
  readonly conv2: Conv2d;
  readonly relu = new ReLU();
  constructor(channels: number, bias: boolean, seed: number) {
    super();
    this.conv1 = new Conv2d(channels, channels, 3, { padding: 1, bias, seed });
    this.conv2 = new Conv2d(channels, channels, 1, { bias, seed: seed + 1 });
  }
  override forward(x: Tensor): Tensor {
    // the same ReLU module is called three times (reused module)
    const y = this.relu.forward(add(this.conv1.forward(x), x));
    return concat([y, this.relu.forward(this.conv2.forward(this.relu.forward(y)))], 1);
  }
}

/** conv -> BN -> ReLU -> max-pool -> skip+concat block -> GAP -> Linear. `bias: false` makes every layer bias-free (BN shift 0). */
function network(bias: boolean): Module {
  const model = new Sequential({
    conv: new Conv2d(3, 4, 3, { padding: 1, bias, seed: 11 }),
    bn: new BatchNorm2d(4),
    relu: new ReLU(),
    pool: new MaxPool2d(2),
    block: new SkipAndConcat(4, bias, 12),
    gap: new AdaptiveAvgPool2d(1),
    flatten: new Flatten(),
    fc: new Linear(8, 5, { bias, seed: 14 }),
  });
  const bn = model.getModule('bn') as BatchNorm2d;
  bn.weight!.data.set(randn([4], { seed: 15 }).data); // some negative scales
  bn.running_var!.data.set([0.5, 2, 1.5, 0.8]);
  if (bias) {
    bn.bias!.data.set(randn([4], { seed: 16, std: 0.3 }).data);
    bn.running_mean!.data.set(randn([4], { seed: 17, std: 0.3 }).data);
  }
  return model.eval();
}

const input = randn([3, 3, 8, 8], { seed: 21 });
const targets = [0, 3, 1];

function sums(t: Tensor, n: number): number[] {
  const size = t.size / n;
  return Array.from({ length: n }, (_, i) => t.data.subarray(i * size, (i + 1) * size).reduce((s, v) => s + v, 0));
}

function expectClose(a: Tensor, b: Tensor, relative: number, what: string): void {
  const scale = Math.max(...Array.from(b.data, Math.abs), 1e-12);
  let worst = 0;
  for (let i = 0; i < a.size; i++) worst = Math.max(worst, Math.abs(a.data[i]! - b.data[i]!));
  expect(worst / scale, `${what}: max |a - b| / max|b| = ${(worst / scale).toExponential(2)}`).toBeLessThanOrEqual(relative);
}

/** |delta| <= 1e-4 * the quantity the attributions must sum to. */
function expectConserved(result: AttributionResult, totals: number[], what: string): void {
  const n = totals.length;
  const attributed = sums(result.gradients, n);
  totals.forEach((total, i) => {
    expect(Math.abs(result.delta.data[i]!), `${what}: delta of image ${i}`).toBeLessThanOrEqual(1e-4 * Math.abs(total) + 1e-7);
    expect(Math.abs(attributed[i]! - total), `${what}: image ${i} sums to ${attributed[i]} instead of ${total}`).toBeLessThanOrEqual(1e-4 * Math.abs(total) + 1e-7);
  });
}

function logitsOf(model: Module, x: Tensor): Float32Array {
  return saliency(model, x).logits.data;
}

describe('DeepLIFT', () => {
  it('equals input x gradient on a bias-free linear model with a zero baseline, and (x - x\') W with any baseline', () => {
    const model = new Sequential(new Flatten(), new Linear(3 * 8 * 8, 5, { bias: false, seed: 3 })).eval();
    expectClose(deepLift(model, input, { target: targets }).gradients, inputXGradient(model, input, { target: targets }).gradients, 1e-6, 'zero baseline');
    const baseline = randn([1, 3, 8, 8], { seed: 4 });
    const grads = saliency(model, input, { target: targets }).gradients;
    const expected = new Tensor(Float32Array.from(input.data, (v, i) => (v - baseline.data[i % 192]!) * grads.data[i]!), input.shape);
    expectClose(deepLift(model, input, { target: targets, baseline }).gradients, expected, 1e-6, 'baseline');
  });
  it('sums to score(x) - score(baseline) on a network with biases, BatchNorm, max-pooling, a skip, a concatenation and a reused ReLU', () => {
    const model = network(true);
    const baseline = randn([3, 3, 8, 8], { seed: 5, std: 0.5 });
    const result = deepLift(model, input, { target: targets, baseline });
    const f = logitsOf(model, input);
    const fb = logitsOf(model, baseline);
    expectConserved(result, targets.map((t, i) => f[i * 5 + t]! - fb[i * 5 + t]!), 'deepLift');
  });
  it('a batch equals single-image calls; the default target is the argmax', () => {
    const model = network(true);
    const batch = deepLift(model, input, { baseline: 0.1 });
    for (let i = 0; i < 3; i++) {
      const one = deepLift(model, new Tensor(input.data.slice(i * 192, (i + 1) * 192), [1, 3, 8, 8]), { baseline: 0.1 });
      expect(one.targets).toEqual([batch.targets![i]]);
      expectClose(new Tensor(batch.gradients.data.slice(i * 192, (i + 1) * 192), [192]), new Tensor(one.gradients.data, [192]), 1e-6, `image ${i}`);
    }
  });
  it('refuses a baseline of the wrong shape and a negative eps', () => {
    const model = network(true);
    expect(() => deepLift(model, input, { baseline: randn([2, 3, 8, 8]) })).toThrow(ShapeError);
    expect(() => deepLift(model, input, { eps: -1 })).toThrow(ArgumentError);
  });
});

describe('DeepLiftShap', () => {
  const model = network(true);
  const baselines = randn([4, 3, 8, 8], { seed: 6, std: 0.5 });
  it('is the mean of DeepLIFT over the baselines, and sums to score(x) - mean score(b)', () => {
    const result = deepLiftShap(model, input, { baselines, target: targets, batchSize: 5 });
    const mean = new Float32Array(input.size);
    for (let b = 0; b < 4; b++) {
      const one = deepLift(model, input, { target: targets, baseline: new Tensor(baselines.data.slice(b * 192, (b + 1) * 192), [1, 3, 8, 8]) });
      one.gradients.data.forEach((v, i) => (mean[i] = mean[i]! + v / 4));
    }
    expectClose(result.gradients, new Tensor(mean, input.shape), 1e-5, 'mean of DeepLIFT');
    const f = logitsOf(model, input);
    const fb = logitsOf(model, baselines);
    expectConserved(result, targets.map((t, i) => f[i * 5 + t]! - [0, 1, 2, 3].reduce((s, b) => s + fb[b * 5 + t]!, 0) / 4), 'deepLiftShap');
  });
  it('needs a set of baselines [B, C, H, W]', () => {
    expect(() => deepLiftShap(model, input, { baselines: randn([4, 3, 8]) })).toThrow(/baselines must be a tensor \[B, 3, 8, 8\]/);
  });
});

describe('GradientShap', () => {
  it('on a linear model with one baseline: (x - b) W exactly, delta 0; seeded draws', () => {
    const model = new Sequential(new Flatten(), new Linear(192, 5, { seed: 8 })).eval();
    const baseline = randn([1, 3, 8, 8], { seed: 9 });
    const result = gradientShap(model, input, { baselines: baseline, target: targets, samples: 3 });
    const grads = saliency(model, input, { target: targets }).gradients;
    expectClose(result.gradients, new Tensor(Float32Array.from(input.data, (v, i) => (v - baseline.data[i % 192]!) * grads.data[i]!), input.shape), 1e-5, 'linear');
    for (const d of result.delta.data) expect(Math.abs(d)).toBeLessThan(1e-4);
  });
  it('the same seed gives the same attributions, another seed others; a batch equals single calls', () => {
    const model = network(true);
    const baselines = randn([3, 3, 8, 8], { seed: 10 });
    const options = { baselines, std: 0.1, samples: 4, target: targets };
    const a = gradientShap(model, input, options);
    expect(Array.from(gradientShap(model, input, options).gradients.data)).toEqual(Array.from(a.gradients.data));
    expect(Array.from(gradientShap(model, input, { ...options, seed: 1 }).gradients.data)).not.toEqual(Array.from(a.gradients.data));
    const one = gradientShap(model, new Tensor(input.data.slice(192, 384), [1, 3, 8, 8]), { ...options, target: targets[1] });
    expectClose(new Tensor(a.gradients.data.slice(192, 384), [192]), new Tensor(one.gradients.data, [192]), 1e-6, 'image 1');
  });
});

/** Naive LRP on a bias-free two-layer dense ReLU network, straight from the formulas (float64). */
function naiveDenseLrp(x: number[], w1: number[][], w2: number[][], target: number, rule: 'epsilon' | 'gamma' | 'alphaBeta', p: number): number[] {
  const layer = (a: number[], w: number[][]) => w.map((row) => row.reduce((s, v, j) => s + v * a[j]!, 0));
  const h = layer(x, w1).map((v) => Math.max(v, 0));
  const out = layer(h, w2);
  // top (dense, epsilon p = 1e-9 always here): relevance of the hidden units
  const rOut = out.map((_, k) => (k === target ? out[k]! : 0));
  const rHidden = h.map((hj, j) => w2.reduce((s, row, k) => s + (hj * row[j]! * rOut[k]!) / (out[k]! + 1e-9 * Math.sign(out[k]! || 1)), 0));
  // bottom layer (its input x has both signs) by `rule`
  const z = layer(x, w1);
  return x.map((xi, i) =>
    w1.reduce((s, row, j) => {
      if (rule === 'epsilon') return s + (xi * row[i]! * rHidden[j]!) / (z[j]! + p * Math.sign(z[j]! || 1));
      if (rule === 'gamma') {
        // contributions of the output's sign boosted: the generalised gamma rule
        const c = (m: number) => {
          const a = x[m]!;
          const w = row[m]!;
          const same = z[j]! > 0 ? (a > 0 ? Math.max(w, 0) : Math.min(w, 0)) : a > 0 ? Math.min(w, 0) : Math.max(w, 0);
          return a * (w + p * same);
        };
        const zg = row.reduce((t, _, m) => t + c(m), 0);
        return s + (c(i) * rHidden[j]!) / zg;
      }
      const pos = (m: number) => Math.max(x[m]! * row[m]!, 0);
      const neg = (m: number) => Math.min(x[m]! * row[m]!, 0);
      const zp = row.reduce((t, _, m) => t + pos(m), 0);
      const zn = row.reduce((t, _, m) => t + neg(m), 0);
      const alpha = p;
      const beta = alpha - 1;
      return s + alpha * (zp > 0 ? (pos(i) * rHidden[j]!) / zp : 0) - beta * (zn < 0 ? (neg(i) * rHidden[j]!) / zn : 0);
    }, 0),
  );
}

describe('LRP', () => {
  it('LRP-0 equals input x gradient (here on a network with biases too)', () => {
    for (const bias of [false, true]) {
      const model = network(bias);
      expectClose(lrp(model, input, { rule: 'zero', target: targets }).gradients, inputXGradient(model, input, { target: targets }).gradients, 1e-5, `bias ${bias}`);
    }
  });
  for (const [name, options] of [
    ['epsilon (1e-9)', { rule: { rule: 'epsilon', epsilon: 1e-9 } }],
    ['gamma', { rule: 'gamma' }],
    ['alpha1-beta0', { rule: 'alphaBeta' }],
    ['the default composite (gamma for convolutions, epsilon for dense layers)', {}],
  ] as [string, LrpOptions][]) {
    it(`${name}: relevance sums to the score on a bias-free ReLU network with BatchNorm, a skip and a concatenation`, () => {
      const model = network(false);
      const result = lrp(model, input, { ...options, target: targets });
      const f = logitsOf(model, input);
      expectConserved(result, targets.map((t, i) => f[i * 5 + t]!), name);
      expect(result.gradients.data.every(Number.isFinite)).toBe(true);
    });
  }
  // (alpha-beta with beta > 0 does not conserve where a unit has no negative contributions: it passes alpha R
  // there; it is checked against the naive implementation instead.)
  for (const [rule, p] of [['epsilon', 0.3], ['gamma', 0.25], ['alphaBeta', 2]] as const) {
    it(`${rule} equals a naive implementation on a dense network (epsilon 1e-9 on the top layer)`, () => {
      const w1 = [[0.5, -1, 0.3], [-0.2, 0.8, 0.9], [1.1, 0.4, -0.6], [0.7, 0.2, 0.1]];
      const w2 = [[0.3, -0.5, 0.9, 0.2], [-0.4, 0.6, 0.1, 0.8]];
      const second = new Linear(4, 2, { bias: false });
      second.weight.data.set(w2.flat());
      const bottomRule = rule === 'epsilon' ? { rule: 'epsilon' as const, epsilon: p } : rule === 'gamma' ? { rule: 'gamma' as const, gamma: p } : { rule: 'alphaBeta' as const, alpha: p, beta: p - 1 };
      // The bottom layer as a 1x1 convolution on a [1, 3, 1, 1] input gets the conv rule; the top Linear epsilon 1e-9.
      const conv = new Conv2d(3, 4, 1, { bias: false });
      conv.weight.data.set(w1.flat());
      const asConv = new Sequential(conv, new ReLU(), new Flatten(), second).eval();
      const image = new Tensor(Float32Array.from([0.9, -0.4, 1.3]), [1, 3, 1, 1]);
      const result = lrp(asConv, image, { target: 1, rules: { conv: bottomRule, dense: { rule: 'epsilon', epsilon: 1e-9 } } });
      const expected = naiveDenseLrp([0.9, -0.4, 1.3], w1, w2, 1, rule, p);
      result.gradients.data.forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 5));
    });
  }
  it('folding BatchNorm into the conv before it equals a model folded by hand', () => {
    const model = network(true);
    const conv = model.getModule('conv') as Conv2d;
    const bn = model.getModule('bn') as BatchNorm2d;
    const folded = network(true);
    const foldedConv = folded.getModule('conv') as Conv2d;
    const scale = Array.from({ length: 4 }, (_, c) => bn.weight!.data[c]! / Math.sqrt(bn.running_var!.data[c]! + bn.eps));
    foldedConv.weight.data.set(conv.weight.data.map((v, i) => v * scale[Math.floor(i / 27)]!));
    foldedConv.bias!.data.set(Array.from({ length: 4 }, (_, c) => scale[c]! * (conv.bias!.data[c]! - bn.running_mean!.data[c]!) + bn.bias!.data[c]!));
    const identity = folded.getModule('bn') as BatchNorm2d;
    identity.weight!.data.fill(1);
    identity.bias!.data.fill(0);
    identity.running_mean!.data.fill(0);
    identity.running_var!.data.fill(1 - identity.eps);
    for (const rule of ['epsilon', 'gamma', 'alphaBeta'] as const) {
      const options: LrpOptions = { rule: rule === 'epsilon' ? { rule, epsilon: 0.1 } : rule, target: targets };
      expectClose(lrp(model, input, options).gradients, lrp(folded, input, options).gradients, 2e-5, `${rule}, folded in the rule vs by hand`);
    }
    // and without folding the epsilon rule sees the conv's own output: a different answer
    const unfolded = lrp(model, input, { rule: { rule: 'epsilon', epsilon: 0.1 }, target: targets, foldBatchNorm: false }).gradients;
    const byRule = lrp(model, input, { rule: { rule: 'epsilon', epsilon: 0.1 }, target: targets }).gradients;
    expect(unfolded.data.some((v, i) => Math.abs(v - byRule.data[i]!) > 1e-4)).toBe(true);
  });
  it('a batch equals single-image calls', () => {
    const model = network(true);
    const batch = lrp(model, input, { target: targets });
    for (let i = 0; i < 3; i++) {
      const one = lrp(model, new Tensor(input.data.slice(i * 192, (i + 1) * 192), [1, 3, 8, 8]), { target: targets[i] });
      expectClose(new Tensor(batch.gradients.data.slice(i * 192, (i + 1) * 192), [192]), new Tensor(one.gradients.data, [192]), 1e-6, `image ${i}`);
    }
  });
  it('refuses unknown rules and alpha - beta != 1', () => {
    const model = network(true);
    expect(() => lrp(model, input, { rule: 'z+' as never })).toThrow(/unknown LRP rule "z\+"/);
    expect(() => lrp(model, input, { rule: { rule: 'alphaBeta', alpha: 2, beta: 2 } })).toThrow(/alpha - beta = 1/);
  });
});
