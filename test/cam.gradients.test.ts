/**
 * Input-gradient methods on hand-set models: saliency, input x gradient,
 * guided backprop and deconvnet by hand; integrated gradients exact on a
 * linear model and complete on a ReLU one; SmoothGrad seeded; all batched.
 */
import { describe, expect, it } from 'vitest';
import {
  deconvnet,
  guidedBackprop,
  guidedGradCam,
  gradCam,
  inputXGradient,
  integratedGradients,
  saliency,
  smoothGrad,
  type GradientResult,
} from '../src/cam/index.js';
import { AdaptiveAvgPool2d, Flatten, Identity, Linear, ReLU, ReLU6, Sequential } from '../src/layers/index.js';
import type { Module } from '../src/layers/module.js';
import { noGrad } from '../src/tensor/autograd.js';
import { randn } from '../src/tensor/random.js';
import { Tensor, tensor } from '../src/tensor/tensor.js';

/** x [N,2,2,2] -> activation -> GAP -> fc with W = [[1, -2], [-3, 1]], b = [0.5, 0]. */
function handModel(activation: Module): Module {
  const fc = new Linear(2, 2);
  fc.weight.data.set([1, -2, -3, 1]);
  fc.bias!.data.set([0.5, 0]);
  return new Sequential({ act: activation, gap: new AdaptiveAvgPool2d(1), flatten: new Flatten(), fc });
}

const x = tensor([1, -2, 3, 0, 2, 2, -1, 4], [1, 2, 2, 2]);
const positive = [1, 0, 1, 0, 1, 1, 0, 1]; // x > 0

function expectValues(t: Tensor, expected: number[], tol = 1e-6): void {
  expect(t.size).toBe(expected.length);
  t.data.forEach((v, i) => expect(Math.abs(v - expected[i]!), `element ${i}: ${v} vs ${expected[i]}`).toBeLessThanOrEqual(tol));
}

describe('input gradients by hand (target 0: d logit / d x = W[0, c] / 4 where x > 0)', () => {
  const model = handModel(new ReLU());
  const w = [1 / 4, -2 / 4];
  const plain = positive.map((p, i) => p * w[Math.floor(i / 4)]!);
  it('saliency, and |saliency|', () => {
    const r = saliency(model, x, { target: 0 });
    expectValues(r.gradients, plain);
    expect(r.targets).toEqual([0]);
    expectValues(saliency(model, x, { target: 0, abs: true }).gradients, plain.map(Math.abs));
  });
  it('input x gradient', () => {
    expectValues(inputXGradient(model, x, { target: 0 }).gradients, plain.map((g, i) => g * x.data[i]!));
  });
  it('guided backprop passes only positive gradients where x > 0', () => {
    expectValues(guidedBackprop(model, x, { target: 0 }).gradients, plain.map((g) => Math.max(g, 0)));
  });
  it('deconvnet passes relu(grad) wherever x is', () => {
    expectValues(deconvnet(model, x, { target: 0 }).gradients, positive.map((_, i) => Math.max(w[Math.floor(i / 4)]!, 0)));
  });
  it('guided backprop leaves ReLU6 alone (then it equals saliency)', () => {
    const six = handModel(new ReLU6());
    expectValues(guidedBackprop(six, x, { target: 0 }).gradients, Array.from(saliency(six, x, { target: 0 }).gradients.data));
  });
  it('Guided Grad-CAM = Grad-CAM map x guided gradient, per channel', () => {
    const r = guidedGradCam(model, x, { layer: 'act', target: 0 });
    const gb = guidedBackprop(model, x, { target: 0 }).gradients;
    const m = gradCam(model, x, { layer: 'act', target: 0 }).maps;
    expectValues(r.gradients, Array.from(gb.data, (g, i) => g * m.data[i % 4]!));
  });
});

describe('integrated gradients', () => {
  it('are exact on a linear model: (x - baseline) * W[t] / hw', () => {
    const model = handModel(new Identity());
    const baseline = tensor([0.5, 0, 0, 0, 0, 1, 0, 0], [1, 2, 2, 2]);
    const r = integratedGradients(model, x, { target: 1, baseline, steps: 7, batchSize: 3 });
    const w = [-3 / 4, 1 / 4];
    expectValues(r.gradients, Array.from(x.data, (v, i) => (v - baseline.data[i]!) * w[Math.floor(i / 4)]!), 1e-6);
  });
  it('sum to score(x) - score(baseline) on a ReLU model (completeness), batched like single calls', () => {
    const model = handModel(new ReLU());
    const input = randn([3, 2, 2, 2], { seed: 3 });
    const r = integratedGradients(model, input, { target: [0, 1, 0], steps: 400, batchSize: 64 });
    const logits = noGrad(() => model.forward(input));
    const atZero = noGrad(() => model.forward(new Tensor(new Float32Array(24), [3, 2, 2, 2])));
    [0, 1, 0].forEach((t, i) => {
      let total = 0;
      for (let p = 0; p < 8; p++) total += r.gradients.data[i * 8 + p]!;
      expect(total).toBeCloseTo(logits.data[i * 2 + t]! - atZero.data[i * 2 + t]!, 3);
      const one = integratedGradients(model, new Tensor(input.data.slice(i * 8, i * 8 + 8), [1, 2, 2, 2]), { target: t, steps: 400 });
      expectValues(new Tensor(r.gradients.data.slice(i * 8, i * 8 + 8), [8]), Array.from(one.gradients.data), 1e-6);
    });
  });
  it('reject a misshaped baseline and bad steps', () => {
    const model = handModel(new ReLU());
    expect(() => integratedGradients(model, x, { baseline: randn([2, 2]) })).toThrow(/baseline has shape \[2, 2\]; accepted/);
    expect(() => integratedGradients(model, x, { steps: 0 })).toThrow(/steps must be a positive integer/);
  });
});

describe('SmoothGrad', () => {
  const model = handModel(new ReLU());
  const input = randn([2, 2, 2, 2], { seed: 8 });
  it('is reproducible with a seed and changes with it', () => {
    const a = smoothGrad(model, input, { seed: 1, samples: 10 });
    const b = smoothGrad(model, input, { seed: 1, samples: 10 });
    const c = smoothGrad(model, input, { seed: 2, samples: 10 });
    expect(Array.from(a.gradients.data)).toEqual(Array.from(b.gradients.data));
    expect(Array.from(a.gradients.data)).not.toEqual(Array.from(c.gradients.data));
  });
  it('with zero noise equals the method itself; on a linear model equals it for any noise', () => {
    const base = saliency(model, input);
    expectValues(smoothGrad(model, input, { noiseLevel: 0, samples: 3 }).gradients, Array.from(base.gradients.data));
    const lin = handModel(new Identity());
    const noisy = smoothGrad(lin, input, { samples: 5, noiseLevel: 0.5, target: [0, 1] });
    expectValues(noisy.gradients, Array.from(saliency(lin, input, { target: [0, 1] }).gradients.data));
  });
  it('averages any gradient method; targets fixed from the clean input', () => {
    const r: GradientResult = smoothGrad(model, input, { method: guidedBackprop, samples: 4, seed: 3 });
    expect(r.targets).toEqual(saliency(model, input).targets);
    expect(r.gradients.data.every((v) => v >= 0)).toBe(true); // guided gradients are >= 0 at the input here (no weights below the ReLU)
    const ig = smoothGrad(model, input, { method: integratedGradients, methodOptions: { steps: 4 }, samples: 2 });
    expect(ig.gradients.shape).toEqual([2, 2, 2, 2]);
  });
});

describe('a batch equals single-image calls', () => {
  const model = handModel(new ReLU());
  const input = randn([3, 2, 2, 2], { seed: 5 });
  for (const method of [saliency, inputXGradient, guidedBackprop, deconvnet]) {
    it(method.name, () => {
      const batch = method(model, input, { target: [1, 0, 1] });
      [1, 0, 1].forEach((t, i) => {
        const one = method(model, new Tensor(input.data.slice(i * 8, i * 8 + 8), [1, 2, 2, 2]), { target: t });
        expectValues(new Tensor(batch.gradients.data.slice(i * 8, i * 8 + 8), [8]), Array.from(one.gradients.data));
      });
    });
  }
});
