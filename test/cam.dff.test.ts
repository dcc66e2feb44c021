/**
 * Deep Feature Factorization and the NMF under it: numpy's RandomState
 * stream (scikit-learn's random start), convergence on non-negative data of
 * known rank, the factors reconstructing the activations, the concepts'
 * class scores. tools/crosscheck/gen_methods.py + compare_methods.ts compare
 * with scikit-learn and pytorch-grad-cam's dff() on torchvision models.
 */
import { describe, expect, it } from 'vitest';
import { deepFeatureFactorization } from '../src/cam/index.js';
import { nmf, NumpyRandomState } from '../src/cam/nmf.js';
import { AdaptiveAvgPool2d, Conv2d, Flatten, Linear, ReLU, Sequential } from '../src/layers/index.js';
import { Rng, randn } from '../src/tensor/random.js';
import { Tensor } from '../src/tensor/tensor.js';

describe('NumpyRandomState', () => {
  it("gives numpy.random.RandomState(0)'s random_sample and standard_normal streams", () => {
    // numpy 1.24: RandomState(0).random_sample(3) and a fresh RandomState(0).standard_normal(5)
    const r = new NumpyRandomState(0);
    expect([r.randomSample(), r.randomSample(), r.randomSample()]).toEqual([0.5488135039273248, 0.7151893663724195, 0.6027633760716439]);
    const s = new NumpyRandomState(0);
    expect(Array.from({ length: 5 }, () => s.standardNormal())).toEqual([1.764052345967664, 0.4001572083672233, 0.9787379841057392, 2.240893199201458, 1.8675579901499675]);
  });
});

describe('nmf', () => {
  it('recovers a non-negative matrix of rank k (relative error < 1e-3) and never goes negative', () => {
    const rng = new Rng(3);
    const rows = 12;
    const cols = 30;
    const k = 3;
    const w = Array.from({ length: rows * k }, () => rng.uniform());
    const h = Array.from({ length: k * cols }, () => (rng.uniform() < 0.3 ? 0 : rng.uniform()));
    const x = new Float32Array(rows * cols);
    for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) for (let t = 0; t < k; t++) x[i * cols + j] = x[i * cols + j]! + w[i * k + t]! * h[t * cols + j]!;
    const result = nmf(x, rows, cols, k, { tolerance: 1e-8, maxIterations: 2000 });
    expect(result.relativeError).toBeLessThan(1e-3);
    expect(result.w.every((v) => v >= 0) && result.h.every((v) => v >= 0)).toBe(true);
  });
  it('stops at the tolerance: more components reconstruct better, and all-zero data gives zero factors', () => {
    const x = Float32Array.from({ length: 8 * 20 }, (_, i) => Math.abs(Math.sin(i * 0.37)) + (i % 5) * 0.1);
    const errors = [1, 2, 4].map((k) => nmf(x, 8, 20, k).relativeError);
    expect(errors[1]!).toBeLessThan(errors[0]!);
    expect(errors[2]!).toBeLessThan(errors[1]!);
    const zero = nmf(new Float32Array(12), 3, 4, 2);
    expect(zero.relativeError).toBe(0);
    expect(zero.w.every((v) => v === 0)).toBe(true);
  });
});

describe('deepFeatureFactorization', () => {
  const model = new Sequential({
    conv: new Conv2d(3, 6, 3, { padding: 1, seed: 2 }),
    relu: new ReLU(),
    gap: new AdaptiveAvgPool2d(1),
    flatten: new Flatten(),
    fc: new Linear(6, 4, { seed: 3 }),
  }).eval();
  const input = randn([2, 3, 6, 6], { seed: 4 });

  it('the concepts and their maps reconstruct the activations (the reported NMF error), maps in [0, 1]', () => {
    const r = deepFeatureFactorization(model, input, { layer: 'relu', components: 3 });
    expect(r.concepts.shape).toEqual([6, 3]);
    expect(r.raw.shape).toEqual([2, 3, 6, 6]);
    expect(r.maps.shape).toEqual([2, 3, 6, 6]);
    expect(r.maps.data.every((v) => v >= 0 && v <= 1)).toBe(true);
    // A [N, C, h, w]; offset = each channel's minimum over the batch; A - offset ~ (concepts - offset) H
    let a: Tensor | null = null;
    const handle = model.getModule('relu')!.registerForwardHook((_m, _i, out) => void (a = out));
    model.forward(input);
    handle.remove();
    const act = a!.data;
    const offset = Array.from({ length: 6 }, (_, c) => Math.min(...[0, 1].flatMap((i) => Array.from(act.subarray((i * 6 + c) * 36, (i * 6 + c + 1) * 36)))));
    let residual = 0;
    let norm = 0;
    for (let i = 0; i < 2; i++) {
      for (let c = 0; c < 6; c++) {
        for (let p = 0; p < 36; p++) {
          let s = 0;
          for (let t = 0; t < 3; t++) s += (r.concepts.data[c * 3 + t]! - offset[c]!) * r.raw.data[(i * 3 + t) * 36 + p]!;
          const x = act[(i * 6 + c) * 36 + p]! - offset[c]!;
          residual += (x - s) ** 2;
          norm += x * x;
        }
      }
    }
    expect(Math.abs(Math.sqrt(residual / norm) - r.reconstructionError)).toBeLessThan(1e-5);
    expect(r.reconstructionError).toBeLessThan(0.5);
    // with as many concepts as channels the factorisation is (nearly) exact
    expect(deepFeatureFactorization(model, input, { layer: 'relu', components: 6, tolerance: 1e-10, maxIterations: 3000 }).reconstructionError).toBeLessThan(0.05);
  });
  it("scores each concept with the model's classifier (found as CAM finds it), a given module, or a function", () => {
    const r = deepFeatureFactorization(model, input, { layer: 'relu', components: 3 });
    const fc = model.getModule('fc') as Linear;
    const expected: number[] = [];
    for (let t = 0; t < 3; t++) {
      for (let k = 0; k < 4; k++) {
        let s = fc.bias!.data[k]!;
        for (let c = 0; c < 6; c++) s += fc.weight.data[k * 6 + c]! * r.concepts.data[c * 3 + t]!;
        expected.push(s);
      }
    }
    for (const scores of [r.scores!, deepFeatureFactorization(model, input, { layer: 'relu', components: 3, classifier: 'fc' }).scores!]) {
      expect(scores.shape).toEqual([3, 4]);
      scores.data.forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 5));
    }
    const custom = deepFeatureFactorization(model, input, { layer: 'relu', components: 3, classifier: (concepts) => concepts });
    expect(custom.scores!.shape).toEqual([3, 6]);
    expect(deepFeatureFactorization(model, input, { layer: 'relu', components: 3, classifier: false }).scores).toBeNull();
    // a layer with no classifier after its global average: no scores
    expect(deepFeatureFactorization(model, input, { layer: 'conv', components: 2 }).scores).toBeNull();
  });
  it('refuses a list of layers and a bad number of components', () => {
    expect(() => deepFeatureFactorization(model, input, { layer: ['relu', 'conv'] as never })).toThrow(/one layer/);
    expect(() => deepFeatureFactorization(model, input, { components: 0 })).toThrow(/components must be a positive integer/);
  });
});
