import { describe, expect, it } from 'vitest';
import {
  ArgumentError,
  Rng,
  ShapeError,
  Tensor,
  crossEntropy,
  dropout,
  grad,
  logSoftmax,
  manualSeed,
  randn,
  softmax,
  sum,
  tensor,
} from '../src/index.js';
import { gradcheck } from './helpers/gradcheck.js';
import { converted, expectMatchesTorch } from './helpers/onnx-tensor.js';
import { describeReference } from './helpers/shared.js';

const values = (t: Tensor): number[] => Array.from(t.data);

function expectAllClose(got: ArrayLike<number>, want: ArrayLike<number>, digits = 6): void {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) expect(got[i]).toBeCloseTo(want[i]!, digits);
}

describe('softmax and logSoftmax', () => {
  it('known values, and stable for large logits', () => {
    expectAllClose(softmax(tensor([1, 2, 3])).data, [0.09003057317038046, 0.24472847105479767, 0.6652409557748219]);
    expectAllClose(logSoftmax(tensor([1, 2, 3])).data, [-2.4076059644443806, -1.4076059644443806, -0.4076059644443806]);
    expectAllClose(softmax(tensor([1000, 1001])).data, [0.2689414213699951, 0.7310585786300049]);
    expectAllClose(logSoftmax(tensor([-1000, 0])).data, [-1000, 0], 3);
    expect(softmax(tensor(3)).item()).toBe(1);
  });

  it('normalises along the given axis, as a naive per-line reference', () => {
    const x = randn([2, 3, 4], { seed: 1, std: 3 });
    for (const axis of [0, 1, 2, -1, -2]) {
      const y = softmax(x, axis);
      const ly = logSoftmax(x, axis);
      const a = axis < 0 ? axis + 3 : axis;
      for (let i = 0; i < 2; i++) for (let j = 0; j < 3; j++) for (let k = 0; k < 4; k++) {
        const idx = [i, j, k];
        let s = 0;
        for (let c = 0; c < x.shape[a]!; c++) {
          const other = [...idx];
          other[a] = c;
          s += Math.exp(x.get(...other));
        }
        expect(y.get(...idx)).toBeCloseTo(Math.exp(x.get(...idx)) / s, 6);
        expect(ly.get(...idx)).toBeCloseTo(x.get(...idx) - Math.log(s), 5);
      }
    }
  });

  const shapes: [number[], number][] = [[[5], -1], [[3, 4], 1], [[3, 4], 0], [[2, 3, 4, 5], 1], [[2, 3, 4, 5], -1], [[2, 3, 4, 5], 2]];
  for (const [shape, axis] of shapes) {
    it(`gradients match finite differences for ${JSON.stringify(shape)} along ${axis}`, () => {
      const x = randn(shape, { seed: 2, std: 2 });
      gradcheck((t) => softmax(t, axis), [x], { maxElements: 100 });
      gradcheck((t) => logSoftmax(t, axis), [x], { maxElements: 100 });
    });
  }

  it('a bad axis names the op', () => {
    expect(() => softmax(randn([2, 3]), 2)).toThrow(/softmax: axis 2 is out of range for a tensor of shape \[2, 3\] \(accepted: -2 to 1\)/);
    expect(() => logSoftmax(randn([2, 3]), -3)).toThrow(ArgumentError);
  });
});

describe('crossEntropy', () => {
  /** Independent reference in float64: -sum_k q_k log softmax(z)_k for one row. */
  function rowLoss(z: number[], t: number, eps = 0): number {
    const m = Math.max(...z);
    const lse = m + Math.log(z.reduce((s, v) => s + Math.exp(v - m), 0));
    const k = z.length;
    return z.reduce((s, v, c) => s - ((c === t ? 1 - eps : 0) + eps / k) * (v - lse), 0);
  }

  it('hand-computed: logits [1, 2, 3], class 2', () => {
    const logits = tensor([[1, 2, 3]]);
    expect(crossEntropy(logits, [2]).item()).toBeCloseTo(0.4076059644443806, 6);
    // label smoothing 0.1: 0.9 * 0.40760596 + 0.1 / 3 * (2.40760596 + 1.40760596 + 0.40760596)
    expect(crossEntropy(logits, [2], { labelSmoothing: 0.1 }).item()).toBeCloseTo(0.5076059644443806, 6);
    expect(crossEntropy(tensor([1, 2, 3]), [0]).item()).toBeCloseTo(2.4076059644443806, 6);
  });

  it('reductions match a per-row reference; ignoreIndex rows add nothing and do not count', () => {
    const z = randn([5, 4], { seed: 3, std: 2 });
    const rows = [0, 1, 2, 3, 4].map((r) => Array.from(z.data.slice(r * 4, r * 4 + 4)));
    const t = [3, 0, -100, 1, 2];
    const per = rows.map((row, r) => (t[r] === -100 ? 0 : rowLoss(row, t[r]!, 0.2)));
    const none = crossEntropy(z, t, { reduction: 'none', labelSmoothing: 0.2 });
    expect([...none.shape]).toEqual([5]);
    expectAllClose(none.data, per, 5);
    const total = per.reduce((s, v) => s + v, 0);
    expect(crossEntropy(z, t, { reduction: 'sum', labelSmoothing: 0.2 }).item()).toBeCloseTo(total, 5);
    expect(crossEntropy(z, t, { labelSmoothing: 0.2 }).item()).toBeCloseTo(total / 4, 5);
    expect(crossEntropy(z, tensor(t), { labelSmoothing: 0.2 }).item()).toBeCloseTo(total / 4, 5);
  });

  it('the gradient of the mean loss is (softmax - onehot) / N, by hand', () => {
    const z = tensor([[0, 0], [1, 1]], undefined, { requiresGrad: true });
    const [g] = grad(crossEntropy(z, [0, 1]), [z]);
    expect(values(g!)).toEqual([-0.25, 0.25, 0.25, -0.25]);
  });

  for (const reduction of ['mean', 'sum', 'none'] as const) {
    for (const labelSmoothing of [0, 0.15]) {
      it(`gradients match finite differences: ${reduction}, labelSmoothing ${labelSmoothing}`, () => {
        gradcheck((t) => crossEntropy(t, [2, 0, -100, 4], { reduction, labelSmoothing }), [randn([4, 5], { seed: 4 })]);
        // spatial: logits [N, K, H, W], targets [N, H, W]
        const target = tensor([0, 2, 1, 1, 2, 0, 0, 1, 2, 2, 1, 0], [2, 2, 3]);
        gradcheck((t) => crossEntropy(t, target, { reduction, labelSmoothing }), [randn([2, 3, 2, 3], { seed: 5 })], { maxElements: 100 });
        // probabilities of the logits' shape
        const q = softmax(randn([3, 4], { seed: 6 }));
        gradcheck((t) => crossEntropy(t, q, { reduction, labelSmoothing }), [randn([3, 4], { seed: 7 })]);
      });
    }
  }

  it('spatial targets and probability targets agree with the per-row reference', () => {
    const z = randn([2, 3, 2], { seed: 8 });
    const target = tensor([[2, 0], [1, 1]]);
    const loss = crossEntropy(z, target, { reduction: 'none' });
    expect([...loss.shape]).toEqual([2, 2]);
    for (let n = 0; n < 2; n++) for (let j = 0; j < 2; j++) {
      const row = [0, 1, 2].map((c) => z.get(n, c, j));
      expect(loss.get(n, j)).toBeCloseTo(rowLoss(row, target.get(n, j)), 5);
    }
    // one-hot probabilities give the same loss as indices; mean divides by N*d1 (PyTorch: numel / K)
    const onehot = new Float32Array(12);
    for (let n = 0; n < 2; n++) for (let j = 0; j < 2; j++) onehot[n * 6 + target.get(n, j) * 2 + j] = 1;
    const asProbs = crossEntropy(z, new Tensor(onehot, [2, 3, 2]));
    expect(asProbs.item()).toBeCloseTo(crossEntropy(z, target).item(), 5);
  });

  it('errors name the shapes and the accepted classes', () => {
    const z = randn([2, 3], { seed: 1 });
    expect(() => crossEntropy(z, [0, 3])).toThrow(ArgumentError);
    expect(() => crossEntropy(z, [0, 3])).toThrow(/crossEntropy: target 3 at position 1 is not a class index in \[0, 2\]/);
    expect(() => crossEntropy(z, [0])).toThrow(ShapeError);
    expect(() => crossEntropy(z, [0])).toThrow(/crossEntropy: target of shape \[1\] does not fit logits of shape \[2, 3\] \(expected class indices of shape \[2\]/);
    expect(() => crossEntropy(z, [0, 1], { labelSmoothing: 1.5 })).toThrow(/labelSmoothing must be in \[0, 1\]/);
    expect(() => crossEntropy(z, [0, 1], { reduction: 'avg' as 'mean' })).toThrow(/reduction 'avg' is not supported/);
  });
});

describe('dropout', () => {
  it('is the identity (the same tensor) when not training or p = 0', () => {
    const x = randn([3, 4], { seed: 1 });
    expect(dropout(x, 0.5, false)).toBe(x);
    expect(dropout(x, 0)).toBe(x);
  });

  it('zeros about p of the elements and scales the rest by 1/(1-p); the gradient uses the same mask', () => {
    const x = tensor(new Float32Array(20000).fill(1), [20000], { requiresGrad: true });
    const y = dropout(x, 0.3, true, { seed: 42 });
    let zeros = 0;
    let others = 0;
    for (const v of y.data) {
      if (v === 0) zeros++;
      else if (v !== Math.fround(1 / 0.7)) others++;
    }
    expect(others).toBe(0);
    // binomial(20000, 0.3): std ~ 65, so 5 std is 325
    expect(Math.abs(zeros - 6000)).toBeLessThan(325);
    const [g] = grad(sum(y), [x]);
    expect(values(g!)).toEqual(values(y));
  });

  it('is reproducible from a seed, a generator, or manualSeed', () => {
    const x = randn([100], { seed: 2 });
    expect(values(dropout(x, 0.5, true, { seed: 7 }))).toEqual(values(dropout(x, 0.5, true, { seed: 7 })));
    expect(values(dropout(x, 0.5, true, { rng: new Rng(7) }))).toEqual(values(dropout(x, 0.5, true, { seed: 7 })));
    expect(values(dropout(x, 0.5, true, { seed: 7 }))).not.toEqual(values(dropout(x, 0.5, true, { seed: 8 })));
    manualSeed(3);
    const a = values(dropout(x));
    manualSeed(3);
    expect(values(dropout(x))).toEqual(a);
  });

  it('p = 1 zeros everything; p outside [0, 1] is refused', () => {
    expect(values(dropout(tensor([1, 2]), 1))).toEqual([0, 0]);
    expect(() => dropout(tensor([1]), 1.5)).toThrow(/dropout: probability p must be in \[0, 1\], got 1.5/);
  });

  it('gradcheck with a fixed seed', () => {
    gradcheck((t) => dropout(t, 0.4, true, { seed: 9 }), [randn([3, 5], { seed: 3 })]);
  });
});

// ---------------------------------------------------------------------------
// PyTorch's own outputs: ONNX's converted PyTorch-module tests.

describeReference('onnx-pytorch-converted', "PyTorch's outputs (onnx-pytorch-converted)", () => {
  // Each model is a single Softmax/LogSoftmax node; its axis is the last axis of the input in every case here.
  const cases: [string, (x: Tensor) => Tensor][] = [
    ['test_Softmax', (x) => softmax(x, 1)],
    ['test_softmax_lastdim', (x) => softmax(x, -1)],
    ['test_softmax_functional_dim3', (x) => softmax(x, 3)],
    ['test_LogSoftmax', (x) => logSoftmax(x, 1)],
    ['test_log_softmax_lastdim', (x) => logSoftmax(x, -1)],
    ['test_log_softmax_dim3', (x) => logSoftmax(x, 3)],
  ];
  for (const [name, f] of cases) {
    it(name, () => {
      const { inputs, output } = converted(name);
      expectMatchesTorch(f(inputs[0]!), output);
    });
  }
});
