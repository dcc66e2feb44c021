import { describe, expect, it } from 'vitest';
import {
  AdaptiveAvgPool2d, AvgPool2d, BatchNorm2d, Conv2d, ConvTranspose2d, Dropout, ELU, Flatten, Hardsigmoid, Hardswish, Identity,
  LeakyReLU, Linear, LocalResponseNorm, LogSoftmax, MaxPool2d, PReLU, ReLU, ReLU6, SELU, Sequential, Sigmoid, Softmax, Softplus, Tanh,
} from '../src/layers/index.js';
import { grad } from '../src/tensor/autograd.js';
import { ArgumentError, ShapeError } from '../src/tensor/errors.js';
import { Rng, manualSeed, randn } from '../src/tensor/random.js';
import { Tensor, tensor } from '../src/tensor/tensor.js';
import { gradcheck } from './helpers/gradcheck.js';
import { naiveConv2d, naivePool, type Pads } from './helpers/naive.js';

const values = (t: Tensor): number[] => Array.from(t.data);

function expectAllClose(ours: Tensor, ref: { shape: readonly number[]; data: ArrayLike<number> }, tol = 1e-5): void {
  expect([...ours.shape]).toEqual([...ref.shape]);
  let worst = 0;
  for (let i = 0; i < ref.data.length; i++) worst = Math.max(worst, Math.abs(ours.data[i]! - ref.data[i]!));
  expect(worst).toBeLessThanOrEqual(tol);
}

// ------------------------------------------------------------------ naive references, written for these tests

/** Reflect-pad H and W (PyTorch 'reflect': the edge is not repeated). */
function naiveReflectPad(x: Tensor, p: Pads): Tensor {
  const [n, c, h, w] = x.shape as [number, number, number, number];
  const H = h + p.top + p.bottom;
  const W = w + p.left + p.right;
  const reflect = (i: number, size: number): number => (i < 0 ? -i : i >= size ? 2 * (size - 1) - i : i);
  const out = new Float32Array(n * c * H * W);
  for (let s = 0; s < n; s++)
    for (let k = 0; k < c; k++)
      for (let i = 0; i < H; i++)
        for (let j = 0; j < W; j++) out[((s * c + k) * H + i) * W + j] = x.get(s, k, reflect(i - p.top, h), reflect(j - p.left, w));
  return new Tensor(out, [n, c, H, W]);
}

/** Adaptive average pooling with PyTorch's windows [floor(i*H/oh), ceil((i+1)*H/oh)). */
function naiveAdaptiveAvg(x: Tensor, oh: number, ow: number): Tensor {
  const [n, c, h, w] = x.shape as [number, number, number, number];
  const out = new Float32Array(n * c * oh * ow);
  for (let s = 0; s < n; s++)
    for (let ch = 0; ch < c; ch++)
      for (let i = 0; i < oh; i++)
        for (let j = 0; j < ow; j++) {
          const y0 = Math.floor((i * h) / oh), y1 = Math.ceil(((i + 1) * h) / oh);
          const z0 = Math.floor((j * w) / ow), z1 = Math.ceil(((j + 1) * w) / ow);
          let sum = 0;
          for (let y = y0; y < y1; y++) for (let z = z0; z < z1; z++) sum += x.get(s, ch, y, z);
          out[((s * c + ch) * oh + i) * ow + j] = sum / ((y1 - y0) * (z1 - z0));
        }
  return new Tensor(out, [n, c, oh, ow]);
}

function mapValues(x: Tensor, f: (v: number) => number): Tensor {
  return new Tensor(Float32Array.from(x.data, f), x.shape);
}

// ------------------------------------------------------------------ initialisation

describe('PyTorch default initialisation', () => {
  function expectUniform(data: Float32Array, bound: number): void {
    let max = 0;
    let sum = 0;
    let sq = 0;
    for (const v of data) {
      max = Math.max(max, Math.abs(v));
      sum += v;
      sq += v * v;
    }
    const n = data.length;
    expect(max).toBeLessThanOrEqual(bound * (1 + 1e-6));
    expect(max).toBeGreaterThan(bound * 0.95);
    expect(Math.abs(sum / n)).toBeLessThan((3 * bound) / Math.sqrt(3 * n));
    // U(-b, b) has variance b^2 / 3
    expect(sq / n / ((bound * bound) / 3)).toBeGreaterThan(0.9);
    expect(sq / n / ((bound * bound) / 3)).toBeLessThan(1.1);
  }

  it('Conv2d: weight and bias from U(±1/sqrt(in/groups * kh * kw))', () => {
    const conv = new Conv2d(16, 32, 3, { seed: 1 });
    expect(conv.weight.shape).toEqual([32, 16, 3, 3]);
    expectUniform(conv.weight.data, 1 / Math.sqrt(16 * 9));
    expect(Math.max(...Array.from(conv.bias!.data, Math.abs))).toBeLessThanOrEqual(1 / 12);
    const grouped = new Conv2d(16, 32, 3, { groups: 4, seed: 1 });
    expect(grouped.weight.shape).toEqual([32, 4, 3, 3]);
    expectUniform(grouped.weight.data, 1 / Math.sqrt(4 * 9));
  });

  it('ConvTranspose2d: weight [in, out/groups, kh, kw], fan-in from out/groups * kh * kw', () => {
    const deconv = new ConvTranspose2d(32, 64, [3, 2], { groups: 2, seed: 2 });
    expect(deconv.weight.shape).toEqual([32, 32, 3, 2]);
    expectUniform(deconv.weight.data, 1 / Math.sqrt(32 * 6));
  });

  it('Linear: U(±1/sqrt(in_features)); no bias when asked', () => {
    const fc = new Linear(100, 300, { seed: 3 });
    expectUniform(fc.weight.data, 0.1);
    expect(new Linear(4, 2, { bias: false }).bias).toBeNull();
  });

  it('is reproducible from a seed, an Rng, or the global generator after manualSeed', () => {
    expect(values(new Linear(3, 2, { seed: 7 }).weight)).toEqual(values(new Linear(3, 2, { seed: 7 }).weight));
    expect(values(new Linear(3, 2, { seed: 7 }).weight)).not.toEqual(values(new Linear(3, 2, { seed: 8 }).weight));
    // weight and bias come from one stream: the bias is not a copy of the weight's first values
    const l = new Linear(1, 1, { seed: 9 });
    expect(l.bias!.data[0]).not.toBe(l.weight.data[0]);
    const rng = new Rng(4);
    const a = new Linear(3, 2, { rng });
    const b = new Linear(3, 2, { rng });
    expect(values(a.weight)).not.toEqual(values(b.weight));
    manualSeed(11);
    const g1 = new Conv2d(2, 2, 1);
    manualSeed(11);
    const g2 = new Conv2d(2, 2, 1);
    expect(values(g1.weight)).toEqual(values(g2.weight));
  });

  it("draws weights with Rng.fillUniform: the numbers of uniform() one by one, leaving the generator where that loop would", () => {
    for (const seed of [0, 5, 0xffffffff]) {
      const byOne = new Rng(seed);
      const bulk = new Rng(seed);
      const expected = Float32Array.from({ length: 1001 }, () => -0.25 + 0.5 * byOne.uniform());
      const got = new Float32Array(1001);
      bulk.fillUniform(got, -0.25, 0.25);
      expect(got).toEqual(expected);
      expect(bulk.nextUint32()).toBe(byOne.nextUint32());
    }
  });

  it('BatchNorm2d starts as identity statistics; PReLU at 0.25', () => {
    const bn = new BatchNorm2d(3);
    expect(values(bn.weight!)).toEqual([1, 1, 1]);
    expect(values(bn.bias!)).toEqual([0, 0, 0]);
    expect(values(bn.running_mean!)).toEqual([0, 0, 0]);
    expect(values(bn.running_var!)).toEqual([1, 1, 1]);
    expect(bn.num_batches_tracked!.item()).toBe(0);
    expect(values(new PReLU(2).weight)).toEqual([0.25, 0.25]);
  });

  it('rejects bad hyper-parameters with typed errors', () => {
    expect(() => new Conv2d(3, 4, 0)).toThrow(ArgumentError);
    expect(() => new Conv2d(3, 4, 3, { groups: 2 })).toThrow(/divisible by groups/);
    expect(() => new Conv2d(4, 4, 3, { padding: 'same', stride: 2 })).toThrow(/'same' needs stride 1/);
    expect(() => new MaxPool2d(2, { padding: 2 })).toThrow(/at most half the kernel/);
    expect(() => new Dropout(1.5)).toThrow(ArgumentError);
    expect(() => new BatchNorm2d(4, { momentum: 2 })).toThrow(ArgumentError);
    expect(() => new Conv2d(3, 4, 3).forward(randn([1, 2, 5, 5]))).toThrow(ShapeError);
    expect(() => new BatchNorm2d(3).forward(randn([1, 4, 2, 2]))).toThrow(/expected input \[N, 3, H, W\]/);
  });
});

// ------------------------------------------------------------------ forward against naive references

describe('layers match naive implementations', () => {
  const x = randn([2, 4, 7, 6], { seed: 5 });

  it('Conv2d with stride, padding, dilation, groups and bias', () => {
    const conv = new Conv2d(4, 6, [3, 2], { stride: [2, 1], padding: [1, 2], dilation: [1, 2], groups: 2, seed: 1 });
    const ref = naiveConv2d(x, conv.weight, conv.bias, { stride: [2, 1], pads: { top: 1, bottom: 1, left: 2, right: 2 }, dilation: [1, 2], groups: 2 });
    expectAllClose(conv.forward(x), ref);
  });

  it("Conv2d padding 'same' (odd pixel bottom/right, as PyTorch), 'valid' and 'reflect'", () => {
    const same = new Conv2d(4, 3, [4, 3], { padding: 'same', dilation: [1, 2], seed: 2 });
    // kernel 4 (dilation 1): 3 rows of padding, 1 top and 2 bottom; kernel 3 at dilation 2: 2 each side
    const refSame = naiveConv2d(x, same.weight, same.bias, { pads: { top: 1, bottom: 2, left: 2, right: 2 }, dilation: [1, 2] });
    const out = same.forward(x);
    expect(out.shape).toEqual([2, 3, 7, 6]);
    expectAllClose(out, refSame);
    const valid = new Conv2d(4, 3, 3, { padding: 'valid', seed: 3 });
    expectAllClose(valid.forward(x), naiveConv2d(x, valid.weight, valid.bias));
    const reflect = new Conv2d(4, 3, 3, { padding: 1, paddingMode: 'reflect', seed: 4 });
    const sides = { top: 1, bottom: 1, left: 1, right: 1 };
    const refReflect = naiveConv2d(naiveReflectPad(x, sides), reflect.weight, reflect.bias);
    expectAllClose(reflect.forward(x), refReflect);
  });

  it('ConvTranspose2d is the adjoint of Conv2d: <convT(y), x> = <y, conv(x)>', () => {
    // Same weight tensor W [4, 3, 3, 3]: as Conv2d(3 -> 4) and as ConvTranspose2d(4 -> 3).
    const deconv = new ConvTranspose2d(4, 3, 3, { stride: 2, padding: 1, outputPadding: 1, bias: false, seed: 6 });
    const xin = randn([1, 3, 8, 8], { seed: 7 });
    const conv = naiveConv2d(xin, deconv.weight, null, { stride: [2, 2], pads: { top: 1, bottom: 1, left: 1, right: 1 } });
    const y = randn(conv.shape, { seed: 8 });
    const back = deconv.forward(y);
    expect(back.shape).toEqual([1, 3, 8, 8]);
    let lhs = 0;
    let rhs = 0;
    for (let i = 0; i < xin.size; i++) lhs += back.data[i]! * xin.data[i]!;
    for (let i = 0; i < y.size; i++) rhs += y.data[i]! * conv.data[i]!;
    expect(lhs).toBeCloseTo(rhs, 3);
  });

  it('Linear on 2-D and 3-D inputs', () => {
    const fc = new Linear(6, 3, { seed: 1 });
    const input = randn([2, 5, 6], { seed: 2 });
    const out = fc.forward(input);
    expect(out.shape).toEqual([2, 5, 3]);
    for (const [r, o] of [[0, 0], [7, 2], [9, 1]] as const) {
      let acc = fc.bias!.data[o]!;
      for (let i = 0; i < 6; i++) acc += input.data[r * 6 + i]! * fc.weight.get(o, i);
      expect(out.data[r * 3 + o]).toBeCloseTo(acc, 5);
    }
  });

  it('MaxPool2d, AvgPool2d (with and without counted padding), AdaptiveAvgPool2d', () => {
    expectAllClose(new MaxPool2d(2).forward(x), naivePool(x, { kernelSize: 2, stride: 2 }, 'max').out);
    expectAllClose(new MaxPool2d(3, { stride: 2, padding: 1 }).forward(x), naivePool(x, { kernelSize: 3, stride: 2, padding: 1 }, 'max').out);
    expectAllClose(new AvgPool2d(3, { stride: 2, padding: 1 }).forward(x), naivePool(x, { kernelSize: 3, stride: 2, padding: 1, countIncludePad: true }, 'avg').out);
    expectAllClose(
      new AvgPool2d(3, { stride: 2, padding: 1, countIncludePad: false }).forward(x),
      naivePool(x, { kernelSize: 3, stride: 2, padding: 1, countIncludePad: false }, 'avg').out,
    );
    expectAllClose(new AdaptiveAvgPool2d([3, 4]).forward(x), naiveAdaptiveAvg(x, 3, 4));
    expectAllClose(new AdaptiveAvgPool2d([null, 4]).forward(x), naiveAdaptiveAvg(x, 7, 4));
    expectAllClose(new AdaptiveAvgPool2d(1).forward(x), naiveAdaptiveAvg(x, 1, 1));
  });

  it('activations', () => {
    const v = tensor([-30, -3.5, -1, -0.25, 0, 0.5, 2, 3, 6.5, 25]);
    const sig = (z: number): number => 1 / (1 + Math.exp(-z));
    const cases: [string, { forward(t: Tensor): Tensor }, (z: number) => number][] = [
      ['ReLU', new ReLU(), (z) => Math.max(z, 0)],
      ['ReLU6', new ReLU6(), (z) => Math.min(Math.max(z, 0), 6)],
      ['LeakyReLU', new LeakyReLU(0.2), (z) => (z > 0 ? z : 0.2 * z)],
      ['PReLU', new PReLU(), (z) => (z > 0 ? z : 0.25 * z)],
      ['ELU', new ELU(0.5), (z) => (z > 0 ? z : 0.5 * (Math.exp(z) - 1))],
      ['SELU', new SELU(), (z) => 1.0507009873554805 * (z > 0 ? z : 1.6732632423543772 * (Math.exp(z) - 1))],
      ['Sigmoid', new Sigmoid(), sig],
      ['Tanh', new Tanh(), Math.tanh],
      ['Hardswish', new Hardswish(), (z) => (z * Math.min(Math.max(z + 3, 0), 6)) / 6],
      ['Hardsigmoid', new Hardsigmoid(), (z) => Math.min(Math.max(z / 6 + 0.5, 0), 1)],
      ['Softplus', new Softplus(2, 10), (z) => (2 * z > 10 ? z : Math.log1p(Math.exp(2 * z)) / 2)],
      ['Identity', new Identity(), (z) => z],
    ];
    for (const [name, layer, f] of cases) {
      const out = layer.forward(v);
      v.data.forEach((z, i) => expect(out.data[i], `${name}(${z})`).toBeCloseTo(f(z), 5));
    }
  });

  it('Softmax and LogSoftmax along the given axis, or PyTorch’s implicit one', () => {
    const t = tensor([[1, 2, 3], [0, 0, 0]]);
    const rowSoftmax = (r: number[]): number[] => {
      const e = r.map(Math.exp);
      const s = e.reduce((a, b) => a + b);
      return e.map((v) => v / s);
    };
    const expected = [...rowSoftmax([1, 2, 3]), ...rowSoftmax([0, 0, 0])];
    values(new Softmax(1).forward(t)).forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 6));
    // 2-D input without dim: PyTorch's implicit axis is 1
    values(new Softmax().forward(t)).forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 6));
    values(new LogSoftmax(-1).forward(t)).forEach((v, i) => expect(v).toBeCloseTo(Math.log(expected[i]!), 6));
    // 1-D input without dim: axis 0
    values(new Softmax().forward(tensor([1, 2, 3]))).forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 6));
  });

  it('Flatten keeps the batch axis by default', () => {
    expect(new Flatten().forward(x).shape).toEqual([2, 168]);
    expect(new Flatten(2).forward(x).shape).toEqual([2, 4, 42]);
    expect(new Flatten(0, 1).forward(x).shape).toEqual([8, 7, 6]);
  });

  it('LocalResponseNorm (PyTorch window: channels c - size/2 .. c + (size-1)/2, zero padded)', () => {
    const input = randn([1, 5, 2, 2], { seed: 3 });
    const lrn = new LocalResponseNorm(2, { alpha: 0.5, beta: 0.75, k: 2 });
    const out = lrn.forward(input);
    for (let c = 0; c < 5; c++)
      for (let i = 0; i < 4; i++) {
        let sq = 0;
        for (let d = c - 1; d <= c; d++) if (d >= 0 && d < 5) sq += input.data[d * 4 + i]! ** 2;
        const ref = input.data[c * 4 + i]! / (2 + (0.5 * sq) / 2) ** 0.75;
        expect(out.data[c * 4 + i]).toBeCloseTo(ref, 5);
      }
  });
});

// ------------------------------------------------------------------ BatchNorm2d modes

describe('BatchNorm2d', () => {
  // two samples, two channels, 1x2 pixels: channel 0 holds 1, 3, 5, 7; channel 1 holds 0, 0, 2, 2
  const x = tensor([[[[1, 3]], [[0, 0]]], [[[5, 7]], [[2, 2]]]]);

  it('training normalises with the batch statistics and updates the running ones (unbiased variance)', () => {
    const bn = new BatchNorm2d(2, { eps: 0 });
    bn.weight!.data.set([2, 1]);
    bn.bias!.data.set([1, 0]);
    const out = bn.forward(x);
    // channel 0: mean 4, biased var 5 -> (v - 4) / sqrt(5) * 2 + 1; channel 1: mean 1, var 1 -> (v - 1)
    const s5 = Math.sqrt(5);
    const expected = [(-3 / s5) * 2 + 1, (-1 / s5) * 2 + 1, -1, -1, (1 / s5) * 2 + 1, (3 / s5) * 2 + 1, 1, 1];
    values(out).forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 5));
    // running: 0.9 * old + 0.1 * batch, unbiased variance 20/3 and 4/3
    expect(values(bn.running_mean!)[0]).toBeCloseTo(0.4, 6);
    expect(values(bn.running_mean!)[1]).toBeCloseTo(0.1, 6);
    expect(values(bn.running_var!)[0]).toBeCloseTo(0.9 + 0.1 * (20 / 3), 5);
    expect(values(bn.running_var!)[1]).toBeCloseTo(0.9 + 0.1 * (4 / 3), 5);
    expect(bn.num_batches_tracked!.item()).toBe(1);
  });

  it('eval uses the running statistics and tracks nothing', () => {
    const bn = new BatchNorm2d(2, { eps: 1e-5 }).eval();
    bn.running_mean!.data.set([1, -1]);
    bn.running_var!.data.set([4, 0.25]);
    const out = bn.forward(x);
    // (v - running_mean) / sqrt(running_var + eps); weight 1, bias 0
    const s0 = Math.sqrt(4 + 1e-5);
    const s1 = Math.sqrt(0.25 + 1e-5);
    const ref = [0 / s0, 2 / s0, 1 / s1, 1 / s1, 4 / s0, 6 / s0, 3 / s1, 3 / s1];
    values(out).forEach((v, i) => expect(v).toBeCloseTo(ref[i]!, 5));
    expect(bn.num_batches_tracked!.item()).toBe(0);
    expect(values(bn.running_mean!)).toEqual([1, -1]);
  });

  it('momentum null gives the cumulative average of the batch statistics', () => {
    const bn = new BatchNorm2d(2, { momentum: null });
    bn.forward(x);
    bn.forward(mapValues(x, (v) => v + 2));
    // batch means 4 and 6 for channel 0, 1 and 3 for channel 1 -> averages 5 and 2
    expect(values(bn.running_mean!)[0]).toBeCloseTo(5, 5);
    expect(values(bn.running_mean!)[1]).toBeCloseTo(2, 5);
    expect(bn.num_batches_tracked!.item()).toBe(2);
  });

  it('without running statistics it uses the batch statistics in eval mode too', () => {
    const bn = new BatchNorm2d(2, { trackRunningStats: false, affine: false, eps: 0 }).eval();
    const out = bn.forward(x);
    expect(out.data[0]).toBeCloseTo(-3 / Math.sqrt(5), 5);
  });
});

// ------------------------------------------------------------------ gradients through layers, and mode switches

describe('gradients and modes', () => {
  it('a conv / batch-norm (training) / tanh / pool / linear stack matches finite differences', () => {
    const net = new Sequential(
      new Conv2d(2, 3, 3, { padding: 1, seed: 1 }),
      new BatchNorm2d(3),
      new Tanh(),
      new AvgPool2d(2),
      new Flatten(),
      new Linear(12, 2, { seed: 2 }),
    );
    const input = randn([2, 2, 4, 4], { seed: 3 });
    const { maxError } = gradcheck((t) => net.forward(t), [input], { h: 1e-2, rtol: 2e-2, atol: 2e-3 });
    expect(maxError).toBeLessThan(2e-2);
    net.eval();
    gradcheck((t) => net.forward(t), [input], { h: 1e-2, rtol: 2e-2, atol: 2e-3 });
  });

  it("ReLU's backwardRule is passed to relu: guided backprop also drops negative gradients", () => {
    const relu = new ReLU();
    const input = tensor([-1, 2, 3], [3], { requiresGrad: true });
    const gradOutput = tensor([5, -7, 11]);
    expect(values(grad(relu.forward(input), [input], { gradOutput })[0]!)).toEqual([0, -7, 11]);
    relu.backwardRule = 'guided';
    expect(values(grad(relu.forward(input), [input], { gradOutput })[0]!)).toEqual([0, 0, 11]);
    relu.backwardRule = 'deconvnet';
    expect(values(grad(relu.forward(input), [input], { gradOutput })[0]!)).toEqual([5, 0, 11]);
  });

  it('Dropout: identity in eval mode; in training zeros or 1/(1-p)-scaled values, reproducible from a seed', () => {
    const input = randn([1000], { seed: 4 });
    const drop = new Dropout(0.25, { seed: 5 });
    const out = drop.forward(input);
    let kept = 0;
    out.data.forEach((v, i) => {
      if (v !== 0) {
        kept++;
        expect(v).toBeCloseTo(input.data[i]! / 0.75, 5);
      }
    });
    expect(kept).toBeGreaterThan(700);
    expect(kept).toBeLessThan(800);
    expect(values(new Dropout(0.25, { seed: 5 }).forward(input))).toEqual(values(out));
    expect(drop.eval().forward(input)).toBe(input);
  });
});
