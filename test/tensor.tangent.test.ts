/**
 * Forward-mode tangent rules (GradNode.tangent): every rule against its op's
 * backward rule through the adjoint identity <u, J v> = <J^T u, v> (J the
 * Jacobian at x), which holds to float32 rounding. Curvature rules
 * (GradNode.curvature): hessianVectorProduct against finite differences of
 * the gradient and the Hessian's symmetry.
 */
import { describe, expect, it } from 'vitest';
import { grad, hessianVectorProduct, noGrad, tangentOf } from '../src/tensor/autograd.js';
import { GradError } from '../src/tensor/errors.js';
import { clip, hardSigmoid, leakyRelu, prelu, relu, relu6, sigmoid, softplus, tanh } from '../src/tensor/ops/activations.js';
import { conv2d, convTranspose2d } from '../src/tensor/ops/conv.js';
import { dropout } from '../src/tensor/ops/dropout.js';
import { abs, add, div, exp, log, maximum, mul, neg, sqrt, sub } from '../src/tensor/ops/elementwise.js';
import { interpolate } from '../src/tensor/ops/interpolate.js';
import { linear, matmul } from '../src/tensor/ops/matmul.js';
import { batchNorm } from '../src/tensor/ops/norm.js';
import { adaptiveAvgPool2d, avgPool2d, globalAvgPool2d, globalMaxPool2d, maxPool2d } from '../src/tensor/ops/pool.js';
import { max, mean, sum } from '../src/tensor/ops/reduce.js';
import { concat, expand, indexSelect, pad, permute, reshape, slice } from '../src/tensor/ops/shape.js';
import { crossEntropy, logSoftmax, softmax } from '../src/tensor/ops/softmax.js';
import { randn } from '../src/tensor/random.js';
import { Tensor } from '../src/tensor/tensor.js';

function dot(a: Tensor, b: Tensor): number {
  let s = 0;
  for (let i = 0; i < a.size; i++) s += a.data[i]! * b.data[i]!;
  return s;
}

/** <u, J v> against <J^T u, v> for f at x (x's values fixed, so J is the linear map at x). */
function expectAdjoint(f: (x: Tensor) => Tensor, shape: number[], seed: number): void {
  const x = new Tensor(randn(shape, { seed }).data, shape, true);
  const v = randn(shape, { seed: seed + 1 });
  const y = f(x);
  const u = randn([...y.shape], { seed: seed + 2 });
  const jv = tangentOf(y, new Map([[x, v]]));
  expect(jv.shape).toEqual(y.shape);
  const [jtu] = grad(y, [x], { gradOutput: u });
  const left = dot(u, jv);
  const right = dot(jtu!, v);
  const scale = Math.sqrt(dot(u, u) * dot(jv, jv)) + Math.abs(right) + 1e-12;
  expect(Math.abs(left - right) / scale, `<u, Jv> = ${left}, <J^T u, v> = ${right}`).toBeLessThan(1e-5);
}

const w = randn([4, 3, 3, 3], { seed: 50 });
const bn = { mean: randn([3], { seed: 51 }), variance: new Tensor(Float32Array.from([0.5, 1.5, 2]), [3]), weight: randn([3], { seed: 52 }), bias: randn([3], { seed: 53 }) };

const cases: [string, (x: Tensor) => Tensor, number[]][] = [
  ['relu', (x) => relu(x), [2, 3, 4, 4]],
  ['relu6', (x) => relu6(mul(x, 4)), [2, 3, 4, 4]],
  ['clip', (x) => clip(x, -0.5, 0.7), [2, 3, 4, 4]],
  ['leakyRelu', (x) => leakyRelu(x, 0.1), [2, 3, 4, 4]],
  ['prelu', (x) => prelu(x, new Tensor(Float32Array.from([0.2, -0.3, 0.5]), [3])), [2, 3, 4, 4]],
  ['hardSigmoid', (x) => hardSigmoid(mul(x, 3)), [2, 3, 4, 4]],
  ['conv2d', (x) => conv2d(x, w, randn([4], { seed: 54 }), { stride: 2, padding: 1 }), [2, 3, 6, 6]],
  ['convTranspose2d', (x) => convTranspose2d(x, randn([3, 2, 3, 3], { seed: 55 }), null, { stride: 2, padding: 1, outputPadding: 1 }), [1, 3, 4, 4]],
  ['linear', (x) => linear(x, randn([5, 4], { seed: 56 }), randn([5], { seed: 57 })), [3, 4]],
  ['matmul', (x) => matmul(x, randn([4, 2], { seed: 58 })), [2, 3, 4]],
  ['batchNorm (eval)', (x) => batchNorm(x, bn.mean, bn.variance, bn.weight, bn.bias), [2, 3, 4, 4]],
  ['maxPool2d', (x) => maxPool2d(x, { kernelSize: 3, stride: 2, padding: 1 }), [2, 3, 6, 6]],
  ['avgPool2d', (x) => avgPool2d(x, { kernelSize: 2 }), [2, 3, 6, 6]],
  ['adaptiveAvgPool2d', (x) => adaptiveAvgPool2d(x, [2, 3]), [2, 3, 5, 7]],
  ['globalAvgPool2d', (x) => globalAvgPool2d(x), [2, 3, 4, 4]],
  ['globalMaxPool2d', (x) => globalMaxPool2d(x), [2, 3, 4, 4]],
  ['add, sub, neg (broadcast)', (x) => neg(sub(add(x, randn([1, 3, 1, 1], { seed: 59 })), mul(x, 2))), [2, 3, 4, 4]],
  ['mul, div by constants', (x) => div(mul(x, randn([3, 1, 1], { seed: 60 })), 1.5), [2, 3, 4, 4]],
  ['abs', (x) => abs(x), [2, 3, 4]],
  ['maximum with a constant', (x) => maximum(x, randn([4], { seed: 61 })), [2, 3, 4]],
  ['sum, mean, max', (x) => add(add(sum(x, [2, 3]), mean(x, [2, 3])), max(x, [2, 3])), [2, 3, 4, 4]],
  ['reshape, permute', (x) => permute(reshape(x, [2, 3, 16]), [2, 0, 1]), [2, 3, 4, 4]],
  ['concat of a tensor with itself and a constant', (x) => concat([x, mul(x, 3), randn([2, 1, 4], { seed: 62 })], 1), [2, 3, 4]],
  ['slice, indexSelect', (x) => add(slice(x, 1, 0, 2), indexSelect(x, 1, [2, 0])), [2, 3, 4]],
  ['expand', (x) => expand(x, [2, 3, 5, 4]), [2, 3, 1, 4]],
  ['pad (constant, reflect)', (x) => pad(pad(x, [1, 2, 2, 1], { value: 3 }), [1, 1, 1, 1], { mode: 'reflect' }), [1, 2, 4, 4]],
  ['interpolate (bilinear, nearest)', (x) => add(interpolate(x, { size: [7, 5], mode: 'bilinear' }), interpolate(x, { size: [7, 5], mode: 'nearest' })), [1, 2, 3, 4]],
  ['dropout (training mask)', (x) => dropout(x, 0.3, true, { seed: 4 }), [2, 3, 4]],
];

describe('tangent rules equal the transpose of the backward rules', () => {
  cases.forEach(([name, f, shape], k) => it(name, () => expectAdjoint(f, shape, 100 + 10 * k)));
});

describe('smooth ops: tangent rules (adjoint identity) and curvature rules (Hessian-vector products)', () => {
  const smooth: [string, (x: Tensor) => Tensor, number[]][] = [
    ['exp, log, sqrt', (x) => sqrt(log(add(exp(x), 2))), [2, 3]],
    ['sigmoid, tanh', (x) => mul(sigmoid(x), tanh(x)), [2, 3]],
    ['softmax, logSoftmax (axis 1 of 3)', (x) => add(softmax(x, 1), logSoftmax(x, 1)), [2, 3, 2]],
    ['crossEntropy (mean, class indices)', (x) => crossEntropy(x, [2, 0]), [2, 4]],
    ['crossEntropy (none, probabilities)', (x) => crossEntropy(x, softmax(randn([2, 4], { seed: 70 })), { reduction: 'none' }), [2, 4]],
    ['mul and div of varying tensors (broadcast)', (x) => div(mul(x, sum(x, 1, true)), add(mul(x, x), 1)), [2, 3]],
    ['matmul of varying tensors', (x) => matmul(x, permute(x, [1, 0])), [3, 4]],
  ];
  smooth.forEach(([name, f, shape], k) => {
    it(`${name}: tangent`, () => expectAdjoint(f, shape, 300 + 10 * k));
    it(`${name}: H v against finite differences of the gradient, and <u, H v> = <v, H u>`, () => {
      const x = randn(shape, { seed: 400 + k });
      const weights = randn([...noGrad(() => f(x)).shape], { seed: 500 + k });
      const loss = (t: Tensor): Tensor => sum(mul(f(t), weights));
      const v = randn(shape, { seed: 600 + k });
      const u = randn(shape, { seed: 700 + k });
      const leaf = new Tensor(x.data, shape, true);
      const hv = hessianVectorProduct(loss(leaf), leaf, v);
      const hu = hessianVectorProduct(loss(leaf), leaf, u);
      const gradAt = (t: number): Tensor => {
        const p = new Tensor(Float32Array.from(x.data, (value, i) => value + t * v.data[i]!), shape, true);
        return grad(loss(p), [p])[0]!;
      };
      const h = 1e-2;
      const plus = gradAt(h);
      const minus = gradAt(-h);
      const numeric = Float32Array.from(plus.data, (p, i) => (p - minus.data[i]!) / (2 * h));
      const scale = Math.max(...Array.from(numeric, Math.abs), 1e-6);
      hv.data.forEach((value, i) => expect(Math.abs(value - numeric[i]!) / scale, `element ${i}: ${value} vs ${numeric[i]}`).toBeLessThan(2e-3));
      expect(Math.abs(dot(u, hv) - dot(v, hu)) / (Math.abs(dot(u, hv)) + 1e-6)).toBeLessThan(1e-4);
    });
  });
  it('piecewise-linear paths have zero curvature: the Hessian of a ReLU network times a logit is 0', () => {
    const x = new Tensor(randn([2, 3, 6, 6], { seed: 9 }).data, [2, 3, 6, 6], true);
    const y = maxPool2d(relu(conv2d(x, w, null, { padding: 1 })), { kernelSize: 2 });
    const out = sum(mul(relu(y), 0.5));
    expect(hessianVectorProduct(out, x, randn([2, 3, 6, 6], { seed: 10 })).data.every((value) => value === 0)).toBe(true);
  });
  it('ops without second derivatives are named in a GradError (softplus; a convolution in its weight)', () => {
    const x = new Tensor(randn([2, 3], { seed: 2 }).data, [2, 3], true);
    expect(() => hessianVectorProduct(sum(softplus(x)), x, x)).toThrow(/op 'softplus' has no second derivatives/);
    const weight = new Tensor(w.data, w.shape, true);
    const image = randn([1, 3, 4, 4], { seed: 3 });
    expect(() => hessianVectorProduct(sum(relu(conv2d(image, weight))), weight, w)).toThrow(GradError);
  });
  it('tangentOf: a tensor the seeds do not reach has a zero tangent', () => {
    const x = new Tensor(randn([3], { seed: 3 }).data, [3], true);
    const y = new Tensor(randn([3], { seed: 4 }).data, [3], true);
    expect(Array.from(tangentOf(relu(y), new Map([[x, x]])).data)).toEqual([0, 0, 0]);
  });
});
