import { describe, expect, it } from 'vitest';
import {
  ArgumentError,
  ShapeError,
  Tensor,
  clip,
  elu,
  grad,
  hardSigmoid,
  hardSwish,
  leakyRelu,
  prelu,
  randn,
  relu,
  relu6,
  selu,
  sigmoid,
  softplus,
  tanh,
  tensor,
} from '../src/index.js';
import { gradcheck } from './helpers/gradcheck.js';
import { converted, expectMatchesTorch } from './helpers/onnx-tensor.js';
import { describeReference } from './helpers/shared.js';

const values = (t: Tensor): number[] => Array.from(t.data);

/** d sum(f(x) * gradOutput) / dx at the given points. */
function gradAt(f: (t: Tensor) => Tensor, xs: number[], gradOutput?: number[]): number[] {
  const x = tensor(xs, undefined, { requiresGrad: true });
  const y = f(x);
  const [g] = grad(y, [x], { gradOutput: tensor(gradOutput ?? xs.map(() => 1)) });
  return values(g!);
}

/** Random values nudged at least `margin` away from each kink, so finite differences do not straddle one. */
function awayFrom(kinks: number[], shape: number[], seed: number, scale = 3, margin = 0.05): Tensor {
  const x = randn(shape, { seed, std: scale });
  const d = x.data;
  for (let i = 0; i < d.length; i++) {
    for (const k of kinks) if (Math.abs(d[i]! - k) < margin) d[i] = k + (d[i]! >= k ? margin : -margin);
  }
  return x;
}

const shapes = [[7], [2, 3, 4], [2, 3, 5, 5]];

describe('relu', () => {
  it('forward clamps at 0; -0 becomes 0, NaN stays NaN', () => {
    const y = relu(tensor([-2, -0, 0, 0.5, 3, NaN]));
    expect(values(y).slice(0, 5)).toEqual([0, 0, 0, 0.5, 3]);
    expect(Object.is(y.data[1], 0)).toBe(true);
    expect(Number.isNaN(y.data[5])).toBe(true);
  });

  it('forward edge cases of the bit-level kernel: infinities and a NaN with its sign bit set', () => {
    const negativeNaN = new Float32Array(new Int32Array([0xffc00000 | 0]).buffer)[0]!;
    const y = relu(tensor([-Infinity, Infinity, negativeNaN, 1e-45, -1e-45]));
    expect(values(y).slice(0, 2)).toEqual([0, Infinity]);
    expect(Number.isNaN(y.data[2])).toBe(true);
    expect(values(y).slice(3)).toEqual([Math.fround(1e-45), 0]);
  });

  it('the gradient at exactly 0 (and -0) is 0 (PyTorch)', () => {
    expect(gradAt(relu, [-1, 0, -0, 2, 1e-45, -Infinity, Infinity])).toEqual([0, 0, 0, 1, 1, 0, 1]);
    expect(gradAt((t) => relu(t, { backwardRule: 'guided' }), [-0, 0, 3], [1, 1, -0])).toEqual([0, 0, 0]);
  });

  it('guided and deconvnet rules, by hand', () => {
    const xs = [-1, -1, 2, 2, 0];
    const gs = [3, -3, 3, -3, 5];
    expect(gradAt(relu, xs, gs)).toEqual([0, 0, 3, -3, 0]);
    expect(gradAt((t) => relu(t, { backwardRule: 'guided' }), xs, gs)).toEqual([0, 0, 3, 0, 0]);
    expect(gradAt((t) => relu(t, { backwardRule: 'deconvnet' }), xs, gs)).toEqual([3, 0, 3, 0, 5]);
  });

  for (const shape of shapes) {
    it(`standard rule matches finite differences for ${JSON.stringify(shape)}`, () => {
      gradcheck((t) => relu(t), [awayFrom([0], shape, 1)]);
    });
  }

  it('rejects an unknown rule', () => {
    expect(() => relu(tensor([1]), { backwardRule: 'smooth' as 'guided' })).toThrow(/relu: backwardRule 'smooth' is not supported \(accepted: 'standard', 'guided', 'deconvnet'\)/);
  });
});

describe('relu6, clip, leakyRelu', () => {
  it('relu6: values, and gradient only for 0 < x < 6', () => {
    expect(values(relu6(tensor([-1, 0, 3, 6, 7])))).toEqual([0, 0, 3, 6, 6]);
    expect(gradAt(relu6, [-1, 0, 3, 6, 7])).toEqual([0, 0, 1, 0, 0]);
    for (const shape of shapes) gradcheck(relu6, [awayFrom([0, 6], shape, 2)]);
  });

  it('clip: torch.clamp values and gradient with boundaries included', () => {
    expect(values(clip(tensor([-2, -1, 0, 1, 2]), -1, 1))).toEqual([-1, -1, 0, 1, 1]);
    expect(gradAt((t) => clip(t, -1, 1), [-2, -1, 0, 1, 2])).toEqual([0, 1, 1, 1, 0]);
    expect(values(clip(tensor([-2, 5]), undefined, 1))).toEqual([-2, 1]);
    expect(values(clip(tensor([-2, 5]), 0))).toEqual([0, 5]);
    // min > max: torch.clamp gives max everywhere, and no gradient
    expect(values(clip(tensor([-5, 0, 5]), 2, 1))).toEqual([1, 1, 1]);
    expect(gradAt((t) => clip(t, 2, 1), [-5, 1.5, 5])).toEqual([0, 0, 0]);
    expect(Number.isNaN(clip(tensor([NaN]), 0, 1).data[0])).toBe(true);
    for (const shape of shapes) gradcheck((t) => clip(t, -1.5, 2), [awayFrom([-1.5, 2], shape, 3)]);
    // no bounds: the identity, as ONNX Clip without min and max
    expect(values(clip(tensor([-7, 7])))).toEqual([-7, 7]);
    expect(gradAt((t) => clip(t), [-7, 7])).toEqual([1, 1]);
    expect(() => clip(tensor([1]), NaN)).toThrow(ArgumentError);
    expect(() => clip(tensor([1]), NaN)).toThrow(/clip: min must be a number, got NaN/);
  });

  it('leakyRelu: slope below 0, slope at exactly 0 (torch: x > 0 ? g : g * slope)', () => {
    expect(values(leakyRelu(tensor([-2, 0, 3]), 0.1))).toEqual([Math.fround(-0.2), 0, 3]);
    expect(gradAt((t) => leakyRelu(t, 0.1), [-2, 0, 3])).toEqual([Math.fround(0.1), Math.fround(0.1), 1]);
    expect(values(leakyRelu(tensor([-100])))).toEqual([-1]);
    for (const shape of shapes) gradcheck((t) => leakyRelu(t, 0.2), [awayFrom([0], shape, 4)]);
  });
});

describe('prelu', () => {
  it('one weight per channel along axis 1, by hand', () => {
    const x = tensor([[[-1, 2]], [[3, -4]]], undefined, { requiresGrad: true }); // [2, 1, 2]
    const y = prelu(x, tensor([0.5]));
    expect(values(y)).toEqual([-0.5, 2, 3, -2]);
    const x2 = tensor([[-1, -2, 3], [4, -5, -6]]); // [2, 3]: channels are columns
    const w = tensor([0.1, 0.2, 0.3], undefined, { requiresGrad: true });
    const y2 = prelu(x2, w);
    // float32 products, as torch computes them
    const f = Math.fround;
    expect(values(y2)).toEqual([f(f(0.1) * -1), f(f(0.2) * -2), 3, 4, f(f(0.2) * -5), f(f(0.3) * -6)]);
    const [gw] = grad(y2, [w], { gradOutput: tensor([[1, 1, 1], [1, 1, 1]]) });
    // d/dw_c = sum of x over the non-positive entries of channel c
    expect(values(gw!)).toEqual([-1, -7, -6]);
  });

  const cases: [number[], number[]][] = [
    [[2, 3, 4, 4], [3]],
    [[2, 3, 4, 4], [1]],
    [[5, 3], [3]],
    [[6], [1]],
    [[2, 4, 3], [4]],
  ];
  for (const [shape, wshape] of cases) {
    it(`gradients for x and weight match finite differences: x ${JSON.stringify(shape)}, weight ${JSON.stringify(wshape)}`, () => {
      const w = randn(wshape, { seed: 7, std: 0.5 });
      gradcheck(prelu, [awayFrom([0], shape, 5), w], { maxElements: 100 });
    });
  }

  it('a weight of the wrong size names the shapes', () => {
    expect(() => prelu(randn([2, 3, 4]), randn([4]))).toThrow(ShapeError);
    expect(() => prelu(randn([2, 3, 4]), randn([4]))).toThrow(/prelu: weight of shape \[4\] has 4 entries; input of shape \[2, 3, 4\] needs 1 or 3/);
  });
});

describe('elu, selu', () => {
  it('hand-computed values', () => {
    expect(values(elu(tensor([-1, 0, 2])))).toEqual([-0.6321205588285577, 0, 2].map(Math.fround));
    expect(elu(tensor([-1]), 2).item()).toBeCloseTo(-1.2642411176571153, 6);
    // PyTorch's documented constants: scale 1.0507009873554804934193349852946, alpha 1.6732632423543772848170429916717
    expect(selu(tensor([1])).item()).toBeCloseTo(1.0507009873554805, 6);
    expect(selu(tensor([-1])).item()).toBeCloseTo(1.0507009873554805 * 1.6732632423543772 * (Math.exp(-1) - 1), 6);
    expect(selu(tensor([-50])).item()).toBeCloseTo(-1.0507009873554805 * 1.6732632423543772, 6);
  });

  it('gradient at 0 takes the exponential branch (torch: x <= 0), so it is alpha there', () => {
    expect(gradAt((t) => elu(t, 2), [0, 1])).toEqual([2, 1]);
  });

  for (const shape of shapes) {
    it(`match finite differences for ${JSON.stringify(shape)}`, () => {
      gradcheck((t) => elu(t, 1.5), [awayFrom([0], shape, 6)]);
      gradcheck(selu, [awayFrom([0], shape, 7)]);
    });
  }
});

describe('sigmoid, tanh, softplus', () => {
  it('hand-computed values, stable at extremes', () => {
    expect(values(sigmoid(tensor([0, 2, -2])))).toEqual([0.5, 0.8807970779778823, 1 - 0.8807970779778823].map(Math.fround));
    expect(values(sigmoid(tensor([-1000, 1000])))).toEqual([0, 1]);
    expect(tanh(tensor([1])).item()).toBeCloseTo(0.7615941559557649, 7);
    expect(softplus(tensor([0])).item()).toBeCloseTo(Math.LN2, 7);
    expect(softplus(tensor([1]), { beta: 2 }).item()).toBeCloseTo(1.0634640055214863, 6);
    expect(softplus(tensor([-1000])).item()).toBe(0);
    // linear above the threshold: beta * x > threshold
    expect(softplus(tensor([25])).item()).toBe(25);
    expect(softplus(tensor([11]), { beta: 2, threshold: 20 }).item()).toBe(11);
    expect(softplus(tensor([500]), { threshold: 1000 }).item()).toBe(500);
  });

  it('gradients by hand: sigmoid(0)\' = 1/4, tanh(0)\' = 1, softplus\' = sigmoid(beta x), 1 above threshold', () => {
    expect(gradAt(sigmoid, [0])).toEqual([0.25]);
    expect(gradAt(tanh, [0])).toEqual([1]);
    expect(gradAt((t) => softplus(t, { beta: 2 }), [0, 1])[1]).toBeCloseTo(1 / (1 + Math.exp(-2)), 6);
    expect(gradAt((t) => softplus(t, { beta: 2, threshold: 1 }), [0.6])).toEqual([1]);
  });

  for (const shape of shapes) {
    it(`match finite differences for ${JSON.stringify(shape)}`, () => {
      gradcheck(sigmoid, [randn(shape, { seed: 8, std: 3 })]);
      gradcheck(tanh, [randn(shape, { seed: 9 })]);
      gradcheck((t) => softplus(t, { beta: 1.5, threshold: 3 }), [awayFrom([2], shape, 10)]);
    });
  }

  it('softplus rejects beta = 0', () => {
    expect(() => softplus(tensor([1]), { beta: 0 })).toThrow(/softplus: beta must be non-zero/);
  });
});

describe('hardSigmoid, hardSwish', () => {
  it('hardSigmoid values with PyTorch and ONNX parameters', () => {
    expect(values(hardSigmoid(tensor([-4, -3, 0, 1, 3, 4])))).toEqual([0, 0, 0.5, 2 / 3, 1, 1].map(Math.fround));
    expect(hardSigmoid(tensor([1]), { alpha: 0.2, beta: 0.5 }).item()).toBeCloseTo(0.7, 7);
  });

  it('hardSigmoid gradient is alpha strictly inside (-3, 3) and 0 at and beyond its ends', () => {
    expect(gradAt(hardSigmoid, [-4, -3, 0, 2.9, 3, 4])).toEqual([0, 0, 1 / 6, 1 / 6, 0, 0].map(Math.fround));
    expect(gradAt((t) => hardSigmoid(t, { alpha: 0.2 }), [-2.5, 0, 2.5])).toEqual([0, 0.2, 0].map(Math.fround));
    for (const shape of shapes) gradcheck((t) => hardSigmoid(t), [awayFrom([-3, 3], shape, 11)]);
  });

  it('hardSwish values: x * relu6(x + 3) / 6', () => {
    expect(values(hardSwish(tensor([-4, -3, -1, 0, 1, 3, 4])))).toEqual([0, 0, -1 / 3, 0, 2 / 3, 3, 4].map(Math.fround));
  });

  it("hardSwish gradient as PyTorch's hardswish_backward: 0 at x <= -3, x/3 + 1/2 inside, 1 at x >= 3", () => {
    expect(gradAt(hardSwish, [-4, -3, -1.5, 0, 1.5, 3, 4])).toEqual([0, 0, 0, 0.5, 1, 1, 1]);
    for (const shape of shapes) gradcheck(hardSwish, [awayFrom([-3, 3], shape, 12)]);
  });
});

// ---------------------------------------------------------------------------
// PyTorch's own outputs: ONNX's converted PyTorch-module tests.

describeReference('onnx-pytorch-converted', "PyTorch's outputs (onnx-pytorch-converted)", () => {
  // parameters as stored in each model.onnx
  const cases: [string, (x: Tensor) => Tensor][] = [
    ['test_ReLU', (x) => relu(x)],
    ['test_ELU', (x) => elu(x, 2)],
    ['test_LeakyReLU', (x) => leakyRelu(x)],
    ['test_LeakyReLU_with_negval', (x) => leakyRelu(x, 0.5)],
    ['test_SELU', selu],
    ['test_operator_selu', selu],
    ['test_Sigmoid', sigmoid],
    ['test_Softplus', (x) => softplus(x)],
    ['test_Tanh', tanh],
    ['test_PReLU_2d', (x) => prelu(x, tensor([0.25]))],
    ['test_PReLU_2d_multiparam', (x) => prelu(x, tensor([0.25, 0.25, 0.25]))],
    ['test_operator_clip', (x) => clip(x, -0.5, 0.5)],
  ];
  for (const [name, f] of cases) {
    it(name, () => {
      const { inputs, output } = converted(name);
      expectMatchesTorch(f(inputs[0]!), output);
    });
  }
});
