import { describe, expect, it } from 'vitest';
import { grad } from '../src/tensor/autograd.js';
import { ArgumentError, ShapeError } from '../src/tensor/errors.js';
import { batchNorm, localResponseNorm } from '../src/tensor/ops/norm.js';
import { Rng, randn } from '../src/tensor/random.js';
import { Tensor, tensor } from '../src/tensor/tensor.js';
import { gradcheck } from './helpers/gradcheck.js';

function expectValues(actual: Tensor, expected: ArrayLike<number>, digits = 5): void {
  expect(actual.size).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) expect(actual.data[i], `element ${i}`).toBeCloseTo(expected[i]!, digits);
}

/** Channel c's values of an [N, C, ...] tensor, gathered naively through get(). */
function channelValues(x: Tensor, c: number): number[] {
  const out: number[] = [];
  const [N, , ...rest] = x.shape as number[];
  const inner = rest.reduce((a, b) => a * b, 1);
  for (let n = 0; n < N!; n++) for (let i = 0; i < inner; i++) out.push(x.data[x.offsetOf([n, c, ...Array(rest.length).fill(0)]) + i]!);
  return out;
}

describe('batchNorm', () => {
  it('normalises with the running statistics in evaluation mode (hand values)', () => {
    const x = tensor([1, 2, 3, 4], [2, 2]);
    const y = batchNorm(x, tensor([1, 2]), tensor([4, 0.25]), tensor([2, 1]), tensor([0, 1]), { eps: 0 });
    // c0: (x - 1) / 2 * 2 ; c1: (x - 2) / 0.5 + 1
    expectValues(y, [0, 1, 2, 5]);
    // default eps 1e-5 and no affine
    const z = batchNorm(tensor([3], [1, 1, 1, 1]), tensor([1]), tensor([3]));
    expectValues(z, [2 / Math.sqrt(3 + 1e-5)], 6);
  });

  it('uses biased batch variance to normalise and unbiased variance for the running update (hand values)', () => {
    const x = tensor([1, 2, 3, 4], [4, 1]);
    const rm = tensor([0]);
    const rv = tensor([1]);
    const y = batchNorm(x, rm, rv, null, null, { training: true, eps: 0 });
    // mean 2.5, biased variance 1.25, unbiased 5/3
    expectValues(y, [-1.5, -0.5, 0.5, 1.5].map((v) => v / Math.sqrt(1.25)));
    expect(rm.data[0]).toBeCloseTo(0.25, 6);
    expect(rv.data[0]).toBeCloseTo(0.9 + 0.1 * (5 / 3), 6);
    // custom momentum
    batchNorm(x, rm, rv, null, null, { training: true, momentum: 0.5 });
    expect(rm.data[0]).toBeCloseTo(0.5 * 0.25 + 0.5 * 2.5, 6);
  });

  it('normalises over N, H and W per channel in training, matching a naive computation', () => {
    const rng = new Rng(4);
    const x = randn([3, 4, 5, 2], { rng, mean: 2, std: 3 });
    const w = randn([4], { rng });
    const b = randn([4], { rng });
    const rm = randn([4], { rng });
    const rv = tensor([1, 2, 3, 4]);
    const rm0 = Array.from(rm.data);
    const rv0 = Array.from(rv.data);
    const y = batchNorm(x, rm, rv, w, b, { training: true, momentum: 0.2 });
    for (let c = 0; c < 4; c++) {
      const v = channelValues(x, c);
      const m = v.reduce((a, q) => a + q, 0) / v.length;
      const biased = v.reduce((a, q) => a + (q - m) ** 2, 0) / v.length;
      const unbiased = (biased * v.length) / (v.length - 1);
      const expected = v.map((q) => ((q - m) / Math.sqrt(biased + 1e-5)) * w.data[c]! + b.data[c]!);
      expectValues(tensor(channelValues(y, c)), expected, 4);
      expect(rm.data[c]).toBeCloseTo(0.8 * rm0[c]! + 0.2 * m, 5);
      expect(rv.data[c]).toBeCloseTo(0.8 * rv0[c]! + 0.2 * unbiased, 4);
    }
  });

  it('leaves running statistics alone in evaluation mode and when not given', () => {
    const rm = tensor([0.5, -0.5]);
    const rv = tensor([2, 3]);
    batchNorm(tensor([1, 2, 3, 4], [2, 2]), rm, rv);
    expect(Array.from(rm.data)).toEqual([0.5, -0.5]);
    expect(Array.from(rv.data)).toEqual([2, 3]);
    const y = batchNorm(tensor([1, 2, 3, 4], [2, 2]), null, null, null, null, { training: true });
    expectValues(y, [-1, -1, 1, 1], 4);
  });

  it('passes gradcheck for x, weight and bias in both modes and several shapes', () => {
    const rng = new Rng(12);
    for (const shape of [
      [4, 3],
      [2, 3, 5],
      [2, 2, 3, 3],
      [1, 3, 4, 2],
    ]) {
      const C = shape[1]!;
      const x = randn(shape, { rng, mean: 0.5, std: 2 });
      const w = randn([C], { rng });
      const b = randn([C], { rng });
      const rm = randn([C], { rng });
      const rv = tensor(Array.from({ length: C }, () => 0.5 + rng.uniform()));
      gradcheck((xx, ww, bb) => batchNorm(xx, null, null, ww, bb, { training: true }), [x, w, b], { seed: rng.int(99) });
      gradcheck((xx, ww, bb) => batchNorm(xx, rm, rv, ww, bb), [x, w, b], { seed: rng.int(99) });
      gradcheck((xx) => batchNorm(xx, null, null, null, null, { training: true }), [x]);
      gradcheck((xx, bb) => batchNorm(xx, rm, rv, null, bb), [x, b]);
    }
  });

  it('computes only the gradients asked for', () => {
    const rng = new Rng(1);
    const x = randn([2, 3, 2, 2], { rng }).requireGrad();
    const w = randn([3], { rng }).requireGrad();
    const b = randn([3], { rng }).requireGrad();
    const y = batchNorm(x, null, null, w, b, { training: true });
    const [gb] = grad(y, [b], { gradOutput: y.detach() });
    // d/db sum(g * y) = sum over N,H,W of g per channel
    const sums = [0, 1, 2].map((c) => channelValues(y, c).reduce((a, v) => a + v, 0));
    expectValues(gb!, sums, 4);
  });

  it('rejects bad input with typed errors', () => {
    const x = tensor(new Float32Array(8), [2, 2, 2]);
    expect(() => batchNorm(tensor([1, 2]), null, null, null, null, { training: true })).toThrow(ShapeError);
    expect(() => batchNorm(x, null, null)).toThrow(/evaluation mode needs runningMean/);
    expect(() => batchNorm(x, tensor([0, 0, 0]), tensor([1, 1]))).toThrow(/runningMean has shape \[3\]/);
    expect(() => batchNorm(x, tensor([0, 0]), tensor([1, 1]), tensor([1]))).toThrow(ShapeError);
    expect(() => batchNorm(tensor([1, 2], [1, 2]), null, null, null, null, { training: true })).toThrow(/more than 1 value per channel/);
    expect(() => batchNorm(x, tensor([0, 0]), tensor([1, 1]), null, null, { eps: -1 })).toThrow(ArgumentError);
  });
});

/**
 * LRN written literally from torch.nn.functional.local_response_norm: square,
 * zero-pad the channel axis by size//2 in front and (size-1)//2 behind, then
 * average windows of `size` channels with stride 1.
 */
function torchLrn(x: Tensor, size: number, alpha: number, beta: number, k: number): Float64Array {
  const [N, C] = x.shape as [number, number];
  const inner = x.size / (N * C);
  const out = new Float64Array(x.size);
  for (let n = 0; n < N; n++)
    for (let i = 0; i < inner; i++) {
      const padded = [
        ...Array<number>(Math.floor(size / 2)).fill(0),
        ...Array.from({ length: C }, (_, c) => x.data[(n * C + c) * inner + i]! ** 2),
        ...Array<number>(Math.floor((size - 1) / 2)).fill(0),
      ];
      for (let c = 0; c < C; c++) {
        const avg = padded.slice(c, c + size).reduce((a, v) => a + v, 0) / size;
        out[(n * C + c) * inner + i] = x.data[(n * C + c) * inner + i]! / (k + alpha * avg) ** beta;
      }
    }
  return out;
}

/** LRN from the ONNX spec's index bounds. */
function onnxLrn(x: Tensor, size: number, alpha: number, beta: number, k: number): Float64Array {
  const [N, C] = x.shape as [number, number];
  const inner = x.size / (N * C);
  const out = new Float64Array(x.size);
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++)
      for (let i = 0; i < inner; i++) {
        let sq = 0;
        for (let j = Math.max(0, c - Math.floor((size - 1) / 2)); j <= Math.min(C - 1, c + Math.ceil((size - 1) / 2)); j++) {
          sq += x.data[(n * C + j) * inner + i]! ** 2;
        }
        out[(n * C + c) * inner + i] = x.data[(n * C + c) * inner + i]! / (k + (alpha / size) * sq) ** beta;
      }
  return out;
}

describe('localResponseNorm', () => {
  it('divides by (k + alpha/size * neighbourhood sum of squares)^beta (hand values)', () => {
    const x = tensor([1, 2, 3], [1, 3, 1, 1]);
    // size 3, alpha/size = 1: d = 1 + (1+4), 1 + (1+4+9), 1 + (4+9)
    expectValues(localResponseNorm(x, 3, { alpha: 3, beta: 1, k: 1 }), [1 / 6, 2 / 15, 3 / 14]);
    // odd sizes: PyTorch and ONNX agree
    expectValues(localResponseNorm(x, 3, { alpha: 3, beta: 1, k: 1, window: 'onnx' }), [1 / 6, 2 / 15, 3 / 14]);
  });

  it('differs between PyTorch and ONNX only for even sizes (hand values)', () => {
    const x = tensor([1, 2, 3], [1, 3, 1]);
    // size 2: PyTorch sums channels [c-1, c]; ONNX sums [c, c+1]
    expectValues(localResponseNorm(x, 2, { alpha: 2, beta: 1, k: 1 }), [1 / 2, 2 / 6, 3 / 14]);
    expectValues(localResponseNorm(x, 2, { alpha: 2, beta: 1, k: 1, window: 'onnx' }), [1 / 6, 2 / 14, 3 / 10]);
  });

  it('matches literal PyTorch and ONNX formulations over random shapes and sizes', () => {
    const rng = new Rng(6);
    for (const shape of [
      [2, 7, 3, 2],
      [1, 4, 5],
      [1, 3, 2, 2],
    ])
      for (const size of [1, 2, 3, 4, 5, 8]) {
        const x = randn(shape, { rng, mean: 0, std: 2 });
        const opts = { alpha: 0.5 + rng.uniform(), beta: 0.5 + rng.uniform(), k: 0.5 + rng.uniform() };
        expectValues(localResponseNorm(x, size, opts), torchLrn(x, size, opts.alpha, opts.beta, opts.k));
        expectValues(localResponseNorm(x, size, { ...opts, window: 'onnx' }), onnxLrn(x, size, opts.alpha, opts.beta, opts.k));
      }
    // defaults alpha 1e-4, beta 0.75, k 1 (PyTorch and ONNX)
    const x = randn([1, 6, 2, 2], { rng, mean: 0, std: 10 });
    expectValues(localResponseNorm(x, 5), torchLrn(x, 5, 1e-4, 0.75, 1));
  });

  it('passes gradcheck for both windows', () => {
    const rng = new Rng(15);
    for (const [shape, size] of [
      [[2, 5, 2, 3], 3],
      [[1, 6, 4], 2],
      [[1, 4, 2, 2], 4],
      [[1, 3, 3, 1], 5],
    ] as [number[], number][]) {
      const x = randn(shape, { rng });
      for (const window of ['pytorch', 'onnx'] as const) {
        gradcheck((t) => localResponseNorm(t, size, { alpha: 1.5, beta: 0.75, k: 2, window }), [x], { seed: rng.int(99) });
      }
    }
  });

  it('rejects bad input with typed errors', () => {
    expect(() => localResponseNorm(tensor([1, 2], [1, 2]), 3)).toThrow(ShapeError);
    expect(() => localResponseNorm(tensor([1, 2], [1, 2, 1]), 0)).toThrow(ArgumentError);
    expect(() => localResponseNorm(tensor([1, 2], [1, 2, 1]), 2, { window: 'caffe' as 'onnx' })).toThrow(/window/);
  });
});
