import { describe, expect, it } from 'vitest';
import { Adam, AdamW, SGD } from '../src/optim/index.js';
import { backward } from '../src/tensor/autograd.js';
import { ArgumentError } from '../src/tensor/errors.js';
import { mul, sub } from '../src/tensor/ops/elementwise.js';
import { Parameter, Tensor, tensor } from '../src/tensor/tensor.js';
import { randn } from '../src/tensor/random.js';
import { crossEntropy } from '../src/tensor/ops/softmax.js';
import { argmax } from '../src/tensor/ops/reduce.js';
import { BatchNorm2d, Conv2d, Flatten, Linear, MaxPool2d, ReLU, Sequential } from '../src/layers/index.js';
import type { Optimizer } from '../src/optim/index.js';

const param = (...values: number[]): Parameter => new Parameter(Float32Array.from(values), [values.length]);

/** Feed the given gradients one step at a time and record the parameter after each step. */
function run(opt: Optimizer, p: Parameter, grads: number[][]): number[][] {
  return grads.map((g) => {
    p.grad = tensor(g);
    opt.step();
    return Array.from(p.data);
  });
}

function expectSteps(actual: number[][], expected: number[][], digits = 6): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((row, i) => row.forEach((v, j) => expect(v, `step ${i + 1}, element ${j}`).toBeCloseTo(expected[i]![j]!, digits)));
}

describe('SGD (PyTorch formulas, hand-computed)', () => {
  it('plain SGD: p -= lr * g', () => {
    const p = param(1, -2);
    const steps = run(new SGD([p], { lr: 0.1 }), p, [[0.5, 1], [-1, 0]]);
    expectSteps(steps, [[0.95, -2.1], [1.05, -2.1]]);
  });

  it('momentum with weight decay', () => {
    // lr 0.1, momentum 0.9, weight decay 0.01, p0 = 1, grads 0.5, -1, 2:
    // 1: g = 0.5 + 0.01*1 = 0.51;            buf = 0.51;                         p = 1 - 0.051 = 0.949
    // 2: g = -1 + 0.01*0.949 = -0.99051;     buf = 0.9*0.51 - 0.99051 = -0.53151;  p = 0.949 + 0.053151 = 1.002151
    // 3: g = 2 + 0.01*1.002151 = 2.01002151; buf = 0.9*-0.53151 + g = 1.53166251;  p = 1.002151 - 0.153166251 = 0.848984749
    const p = param(1);
    const steps = run(new SGD([p], { lr: 0.1, momentum: 0.9, weightDecay: 0.01 }), p, [[0.5], [-1], [2]]);
    expectSteps(steps, [[0.949], [1.002151], [0.848984749]]);
  });

  it('nesterov momentum', () => {
    // lr 0.1, momentum 0.5, p0 = 2, grads 1, 1:
    // 1: buf = 1;                 g = 1 + 0.5*1 = 1.5;   p = 2 - 0.15 = 1.85
    // 2: buf = 0.5*1 + 1 = 1.5;   g = 1 + 0.5*1.5 = 1.75; p = 1.85 - 0.175 = 1.675
    const p = param(2);
    const steps = run(new SGD([p], { lr: 0.1, momentum: 0.5, nesterov: true }), p, [[1], [1]]);
    expectSteps(steps, [[1.85], [1.675]]);
  });

  it('dampening applies from the second step on (the first buffer is the gradient itself)', () => {
    // lr 1, momentum 0.9, dampening 0.5: buf1 = 1 -> p = -1; buf2 = 0.9 + 0.5*1 = 1.4 -> p = -2.4
    const p = param(0);
    const steps = run(new SGD([p], { lr: 1, momentum: 0.9, dampening: 0.5 }), p, [[1], [1]]);
    expectSteps(steps, [[-1], [-2.4]]);
  });

  it('maximize ascends', () => {
    const p = param(1);
    expectSteps(run(new SGD([p], { lr: 0.5, maximize: true }), p, [[2]]), [[2]]);
  });

  it('rejects bad hyper-parameters with ArgumentError', () => {
    const p = param(1);
    expect(() => new SGD([p], { lr: -1 })).toThrow(ArgumentError);
    expect(() => new SGD([p], { lr: 0.1, nesterov: true })).toThrow(/nesterov needs momentum > 0/);
    expect(() => new SGD([], { lr: 0.1 })).toThrow(/empty parameter list/);
  });
});

describe('Adam and AdamW (PyTorch formulas, hand-computed)', () => {
  // lr 0.1, betas (0.9, 0.999), eps 1e-8, p0 = 1, grads 0.5, -1, 0.25.
  // 1: m = 0.05, v = 0.00025; m^ = 0.5, v^ = 0.25; p = 1 - 0.1 * 0.5 / (0.5 + 1e-8) = 0.900000002
  // 2: m = 0.045 - 0.1 = -0.055, v = 0.00024975 + 0.001 = 0.00124975;
  //    m^ = -0.055 / 0.19 = -0.2894737, v^ = 0.00124975 / 0.001999 = 0.6251876, sqrt = 0.7906881
  //    p = 0.9 + 0.1 * 0.2894737 / 0.7906881 = 0.9366104
  // 3: (same recurrences) p = 0.9502794
  it('Adam', () => {
    const p = param(1);
    const steps = run(new Adam([p], { lr: 0.1 }), p, [[0.5], [-1], [0.25]]);
    expectSteps(steps, [[0.900000002], [0.9366103542], [0.9502794203]]);
  });

  it('Adam with weight decay adds it to the gradient', () => {
    // 1: g = 0.5 + 0.1*1 = 0.6 -> first step moves by lr * g/|g| = 0.1 (up to eps): p = 0.9
    // 2: g = -1 + 0.1*0.9 = -0.91; m = 0.054 - 0.091 = -0.037; v = 0.00035964 + 0.0008281 = 0.00118774
    //    p = 0.9 + 0.1 * (0.037/0.19) / sqrt(0.00118774/0.001999) = 0.9252635
    const p = param(1);
    const steps = run(new Adam([p], { lr: 0.1, weightDecay: 0.1 }), p, [[0.5], [-1]]);
    expectSteps(steps, [[0.9], [0.9252635194]]);
  });

  it('AdamW decays the parameter itself, before the step', () => {
    // 1: p = 1 * (1 - 0.1*0.1) = 0.99, then the Adam step of -0.1: 0.890000002
    // 2: p = 0.89 * 0.99 = 0.8811, then + 0.0366104 (Adam's step 2 above) = 0.9177104
    const p = param(1);
    const steps = run(new AdamW([p], { lr: 0.1, weightDecay: 0.1 }), p, [[0.5], [-1]]);
    expectSteps(steps, [[0.890000002], [0.9177103542]]);
  });

  it('AdamW defaults to weight decay 1e-2, Adam to 0', () => {
    expect(new AdamW([param(1)]).weightDecay).toBe(0.01);
    expect(new Adam([param(1)]).weightDecay).toBe(0);
    expect(new Adam([param(1)]).lr).toBe(0.001);
  });

  it('amsgrad keeps the largest second moment', () => {
    // grads 1, 0: v1 = 0.001, v2 = 0.000999 < v1, so amsgrad divides by sqrt(0.001 / 0.001999)
    // 2: m = 0.09; p = 0.9 - 0.1 * (0.09/0.19) / (sqrt(0.001/0.001999) + 1e-8) = 0.8330277 (plain Adam: 0.8329942)
    const p = param(1);
    expectSteps(run(new Adam([p], { lr: 0.1, amsgrad: true }), p, [[1], [0]]), [[0.900000001], [0.8330276878]]);
    const q = param(1);
    expectSteps(run(new Adam([q], { lr: 0.1 }), q, [[1], [0]]), [[0.900000001], [0.8329941765]]);
  });

  it('keeps separate state per parameter and per element', () => {
    const a = param(1, 1);
    const b = param(1);
    const opt = new Adam([a, b], { lr: 0.1 });
    a.grad = tensor([0.5, -0.5]);
    b.grad = tensor([0.5]);
    opt.step();
    a.grad = tensor([-1, 1]);
    b.grad = null; // no gradient: b is left alone and its state does not advance
    opt.step();
    a.grad = null;
    b.grad = tensor([-1]);
    opt.step();
    expect(a.data[0]).toBeCloseTo(0.9366103542, 6);
    expect(a.data[1]).toBeCloseTo(2 - 0.9366103542, 6);
    expect(b.data[0]).toBeCloseTo(0.9366103542, 6);
  });

  it('rejects betas outside [0, 1)', () => {
    expect(() => new Adam([param(1)], { betas: [1, 0.999] })).toThrow(ArgumentError);
  });
});

describe('Optimizer with autodiff', () => {
  it('zeroGrad clears gradients; SGD minimises (p - 3)^2 through backward()', () => {
    const p = param(0);
    const opt = new SGD([p], { lr: 0.1, momentum: 0.5 });
    for (let i = 0; i < 100; i++) {
      opt.zeroGrad();
      expect(p.grad).toBeNull();
      const d = sub(p, 3);
      backward(mul(d, d));
      opt.step();
    }
    expect(p.data[0]).toBeCloseTo(3, 4);
    // step() ran outside the graph: the parameter is still a leaf
    expect(p.gradFn).toBeNull();
  });
});

describe('training a small CNN end to end', () => {
  /** 4x4 images: class 0 has a bright top half, class 1 a bright bottom half, plus noise. */
  function toyData(n: number, seed: number): { x: Tensor; labels: number[] } {
    const noise = randn([n, 1, 4, 4], { seed, std: 0.3 });
    const labels: number[] = [];
    for (let s = 0; s < n; s++) {
      const label = s % 2;
      labels.push(label);
      for (let i = 0; i < 16; i++) {
        const top = i < 8;
        if (top === (label === 0)) noise.data[s * 16 + i]! += 1;
      }
    }
    return { x: noise, labels };
  }

  for (const [name, makeOptimizer] of [
    ['Adam', (ps: Parameter[]) => new Adam(ps, { lr: 0.05 })],
    ['AdamW', (ps: Parameter[]) => new AdamW(ps, { lr: 0.05 })],
    ['SGD with momentum', (ps: Parameter[]) => new SGD(ps, { lr: 0.1, momentum: 0.9 })],
  ] as const) {
    it(`${name} drives the loss down and the model then classifies held-out data`, () => {
      const net = new Sequential(
        new Conv2d(1, 4, 3, { padding: 1, seed: 1 }),
        new BatchNorm2d(4),
        new ReLU(),
        new MaxPool2d(2),
        new Flatten(),
        new Linear(16, 2, { seed: 2 }),
      );
      const opt = makeOptimizer(net.parameters());
      const train = toyData(32, 3);
      const losses: number[] = [];
      for (let step = 0; step < 60; step++) {
        opt.zeroGrad();
        const loss = crossEntropy(net.forward(train.x), train.labels);
        losses.push(loss.item());
        backward(loss);
        opt.step();
      }
      expect(losses.at(-1)!).toBeLessThan(0.1 * losses[0]!);
      net.eval();
      const test = toyData(20, 4);
      const predicted = argmax(net.forward(test.x), 1);
      expect(Array.from(predicted.data)).toEqual(test.labels);
    });
  }
});
