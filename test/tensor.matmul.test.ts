import { describe, expect, it } from 'vitest';
import { grad } from '../src/tensor/autograd.js';
import { ShapeError } from '../src/tensor/errors.js';
import { linear, matmul } from '../src/tensor/ops/matmul.js';
import { randn } from '../src/tensor/random.js';
import { Tensor, tensor } from '../src/tensor/tensor.js';
import { gradcheck } from './helpers/gradcheck.js';

/**
 * Independent reference for torch.matmul: the batch is walked with explicit
 * multi-indices and broadcasting by hand, float64 sums.
 */
function naiveMatmul(a: Tensor, b: Tensor): { data: Float64Array; shape: number[] } {
  const as = a.ndim === 1 ? [1, a.shape[0]!] : [...a.shape];
  const bs = b.ndim === 1 ? [b.shape[0]!, 1] : [...b.shape];
  const m = as[as.length - 2]!, k = as[as.length - 1]!, n = bs[bs.length - 1]!;
  const ab = as.slice(0, -2), bb = bs.slice(0, -2);
  const nd = Math.max(ab.length, bb.length);
  const pa = [...Array(nd - ab.length).fill(1), ...ab];
  const pb = [...Array(nd - bb.length).fill(1), ...bb];
  const batch = pa.map((d, i) => Math.max(d, pb[i]!));
  const count = batch.reduce((x, y) => x * y, 1);
  const out = new Float64Array(count * m * n);
  for (let t = 0; t < count; t++) {
    // multi-index of t in batch, then the flat matrix index in a and in b
    let rest = t, ia = 0, ib = 0, sa = 1, sb = 1;
    for (let ax = nd - 1; ax >= 0; ax--) {
      const idx = rest % batch[ax]!;
      rest = Math.floor(rest / batch[ax]!);
      ia += (pa[ax] === 1 ? 0 : idx) * sa;
      ib += (pb[ax] === 1 ? 0 : idx) * sb;
      sa *= pa[ax]!;
      sb *= pb[ax]!;
    }
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) s += a.data[ia * m * k + i * k + p]! * b.data[ib * k * n + p * n + j]!;
        out[t * m * n + i * n + j] = s;
      }
  }
  const shape = [...batch];
  if (a.ndim > 1) shape.push(m);
  if (b.ndim > 1) shape.push(n);
  return { data: out, shape };
}

function expectMatches(ours: Tensor, ref: { data: Float64Array; shape: number[] }): void {
  expect([...ours.shape]).toEqual(ref.shape);
  for (let i = 0; i < ref.data.length; i++) expect(Math.abs(ours.data[i]! - ref.data[i]!)).toBeLessThan(1e-4);
}

const CASES: [number[], number[]][] = [
  [[5], [5]], // dot product -> scalar
  [[3, 5], [5, 4]],
  [[5], [5, 4]], // vector-matrix
  [[3, 5], [5]], // matrix-vector
  [[2, 3, 5], [5, 4]], // batch on a only (folded into one GEMM)
  [[3, 5], [2, 5, 4]], // batch on b only
  [[2, 1, 3, 5], [4, 5, 6]], // broadcast of leading axes both ways
  [[2, 3, 5], [2, 5, 4]],
  [[5], [2, 5, 4]],
  [[2, 3, 5], [5]],
  [[1, 3, 5], [2, 5, 4]],
];

describe('matmul', () => {
  it('multiplies a hand-computed 2x2 example', () => {
    const y = matmul(tensor([[1, 2], [3, 4]]), tensor([[5, 6], [7, 8]]));
    expect(y.toArray()).toEqual([[19, 22], [43, 50]]);
    expect(matmul(tensor([1, 2, 3]), tensor([4, 5, 6])).toArray()).toBe(32);
  });

  CASES.forEach(([sa, sb], i) => {
    it(`matches a naive reference and finite differences for ${JSON.stringify(sa)} @ ${JSON.stringify(sb)}`, () => {
      const a = randn(sa, { seed: 10 + i });
      const b = randn(sb, { seed: 100 + i });
      expectMatches(matmul(a, b), naiveMatmul(a, b));
      gradcheck(matmul, [a, b]);
    });
  });

  it('computes only the gradient that is asked for', () => {
    const a = randn([3, 4], { seed: 1 }).requireGrad();
    const b = new Tensor(randn([4, 2], { seed: 2 }).data, [4, 2], true);
    const y = matmul(a, b);
    let calls = 0;
    const rule = y.gradFn!.backward;
    const needsSeen: boolean[][] = [];
    (y.gradFn as { backward: typeof rule }).backward = (g, needs) => {
      calls++;
      needsSeen.push([...needs]);
      const out = rule(g, needs);
      expect(out[1]).toBeNull();
      return out;
    };
    const [ga] = grad(y, [a], { gradOutput: randn([3, 2], { seed: 3 }) });
    expect(calls).toBe(1);
    expect(needsSeen[0]).toEqual([true, false]);
    expect(ga!.shape).toEqual([3, 4]);
  });

  it('rejects shapes that do not multiply, naming both', () => {
    expect(() => matmul(randn([2, 3]), randn([4, 5]))).toThrow(ShapeError);
    expect(() => matmul(randn([2, 3]), randn([4, 5]))).toThrow(/matmul: shapes \[2, 3\] and \[4, 5\]/);
    expect(() => matmul(randn([2, 2, 3]), randn([3, 3, 4]))).toThrow(/do not broadcast/);
    expect(() => matmul(tensor(2), randn([2]))).toThrow(ShapeError);
  });
});

function naiveLinear(x: Tensor, w: Tensor, bias: Tensor | null): Float64Array {
  const [out, inF] = w.shape as [number, number];
  const rows = x.size / inF;
  const y = new Float64Array(rows * out);
  for (let r = 0; r < rows; r++)
    for (let o = 0; o < out; o++) {
      let s = bias ? bias.data[o]! : 0;
      for (let i = 0; i < inF; i++) s += x.data[r * inF + i]! * w.data[o * inF + i]!;
      y[r * out + o] = s;
    }
  return y;
}

describe('linear', () => {
  const shapes = [[7], [3, 7], [2, 3, 7]];
  for (const xs of shapes) {
    for (const withBias of [true, false]) {
      it(`matches x W^T + b and finite differences for x ${JSON.stringify(xs)}${withBias ? ' with bias' : ''}`, () => {
        const x = randn(xs, { seed: 5 });
        const w = randn([5, 7], { seed: 6 });
        const b = withBias ? randn([5], { seed: 7 }) : null;
        const y = linear(x, w, b);
        expect([...y.shape]).toEqual([...xs.slice(0, -1), 5]);
        const ref = naiveLinear(x, w, b);
        for (let i = 0; i < ref.length; i++) expect(Math.abs(y.data[i]! - ref[i]!)).toBeLessThan(1e-4);
        if (b) gradcheck((p, q, r) => linear(p, q, r), [x, w, b]);
        else gradcheck((p, q) => linear(p, q), [x, w]);
      });
    }
  }

  it('rejects a weight or bias that does not fit, naming the shapes', () => {
    expect(() => linear(randn([2, 6]), randn([5, 7]))).toThrow(/linear: input \[2, 6\] does not fit weight \[5, 7\]/);
    expect(() => linear(randn([2, 7]), randn([5, 7]), randn([4]))).toThrow(/bias \[4\].*expected \[5\]/);
    expect(() => linear(randn([2, 7]), randn([35]))).toThrow(ShapeError);
  });
});
