import { describe, expect, it } from 'vitest';
import {
  ArgumentError,
  Rng,
  ShapeError,
  Tensor,
  argmax,
  argmin,
  grad,
  max,
  mean,
  min,
  randn,
  sum,
  tensor,
} from '../src/index.js';
import { gradcheck } from './helpers/gradcheck.js';
import { multiIndices } from './helpers/naive.js';

// ---------------------------------------------------------------------------
// An independent, slow reference: enumerate multi-indices one by one.

function naiveReduce(
  x: Tensor,
  axes: number[] | undefined,
  keepdim: boolean,
  fold: (values: number[]) => number,
): { shape: number[]; values: number[] } {
  const nd = x.ndim;
  const reduced = new Set((axes ?? x.shape.map((_, i) => i)).map((a) => (a < 0 ? a + nd : a)));
  const outShape = x.shape.map((d, i) => (reduced.has(i) ? 1 : d));
  const groups = new Map<string, number[]>();
  for (const idx of multiIndices(outShape)) groups.set(idx.join(','), []);
  for (const idx of multiIndices(x.shape)) {
    const key = idx.map((v, i) => (reduced.has(i) ? 0 : v)).join(',');
    groups.get(key)!.push(x.get(...idx));
  }
  const values = [...groups.values()].map(fold);
  const shape = keepdim ? outShape : x.shape.filter((_, i) => !reduced.has(i));
  return { shape, values };
}

const sumOf = (v: number[]): number => v.reduce((s, a) => s + a, 0);

const cases: { shape: number[]; axes?: number[] }[] = [
  { shape: [2, 3, 4, 5], axes: [2, 3] },
  { shape: [2, 3, 4, 5], axes: [1] },
  { shape: [2, 3, 4, 5], axes: [0, 2, 3] },
  { shape: [2, 3, 4, 5], axes: [-1] },
  { shape: [2, 3, 4, 5], axes: [0, -1] },
  { shape: [2, 3, 4, 5] },
  { shape: [3, 1, 4], axes: [1] },
  { shape: [3, 1, 4], axes: [0, 2] },
  { shape: [7], axes: [0] },
  { shape: [1, 1], axes: [0] },
];

describe('sum and mean', () => {
  for (const { shape, axes } of cases) {
    for (const keepdim of [false, true]) {
      it(`match a naive reference and finite differences for ${JSON.stringify(shape)} over ${JSON.stringify(axes)} keepdim=${keepdim}`, () => {
        const x = randn(shape, { seed: shape.length * 10 + (axes?.length ?? 0) });
        const s = sum(x, axes, keepdim);
        const ref = naiveReduce(x, axes, keepdim, sumOf);
        expect([...s.shape]).toEqual(ref.shape);
        ref.values.forEach((v, i) => expect(s.data[i]).toBeCloseTo(v, 4));
        const m = mean(x, axes, keepdim);
        const refMean = naiveReduce(x, axes, keepdim, (v) => sumOf(v) / v.length);
        expect([...m.shape]).toEqual(refMean.shape);
        refMean.values.forEach((v, i) => expect(m.data[i]).toBeCloseTo(v, 5));
        gradcheck((t) => sum(t, axes, keepdim), [x]);
        gradcheck((t) => mean(t, axes, keepdim), [x]);
      });
    }
  }

  it('random shapes, axes and keepdim (seeded) match the naive reference and finite differences', () => {
    const rng = new Rng(2024);
    for (let trial = 0; trial < 25; trial++) {
      const nd = 1 + rng.int(4);
      const shape = Array.from({ length: nd }, () => 1 + rng.int(4));
      const axes = shape.map((_, a) => a).filter(() => rng.uniform() < 0.5).map((a) => (rng.uniform() < 0.5 ? a - nd : a));
      const keepdim = rng.uniform() < 0.5;
      const x = randn(shape, { seed: trial });
      const what = `shape ${JSON.stringify(shape)} axes ${JSON.stringify(axes)} keepdim ${keepdim}`;
      // an empty list reduces every axis, as torch
      const ref = naiveReduce(x, axes.length ? axes : undefined, keepdim, sumOf);
      const s = sum(x, axes, keepdim);
      expect([...s.shape], what).toEqual(ref.shape);
      ref.values.forEach((v, i) => expect(s.data[i], what).toBeCloseTo(v, 4));
      gradcheck((t) => mean(t, axes, keepdim), [x]);
      gradcheck((t) => sum(t, axes, keepdim), [x]);
    }
  });

  it('hand-computed values', () => {
    const x = tensor([[1, 2, 3], [4, 5, 6]]);
    expect(Array.from(sum(x, 0).data)).toEqual([5, 7, 9]);
    expect(Array.from(sum(x, 1).data)).toEqual([6, 15]);
    expect([...sum(x, 1, true).shape]).toEqual([2, 1]);
    expect(sum(x).item()).toBe(21);
    expect([...sum(x).shape]).toEqual([]);
    expect(mean(x).item()).toBe(3.5);
    expect(Array.from(mean(x, -1).data)).toEqual([2, 5]);
    // mean's gradient is 1/count everywhere
    const xs = tensor([[1, 2, 3], [4, 5, 6]], undefined, { requiresGrad: true });
    const [g] = grad(mean(xs), [xs]);
    expect(Array.from(g!.data)).toEqual(new Array(6).fill(Math.fround(1 / 6)));
  });

  it('an empty axis list reduces everything (as torch) and a scalar reduces to itself', () => {
    const x = tensor([[1, 2], [3, 4]]);
    expect(sum(x, []).item()).toBe(10);
    expect(sum(tensor(5), 0).item()).toBe(5);
    expect(sum(tensor(5), -1).item()).toBe(5);
  });

  it('sum over an empty axis is 0 and mean is NaN', () => {
    const x = new Tensor(new Float32Array(0), [2, 0]);
    expect(Array.from(sum(x, 1).data)).toEqual([0, 0]);
    expect(Number.isNaN(mean(x, 1).data[0])).toBe(true);
  });

  it('sums many float32 values without drifting (float64 accumulation)', () => {
    const n = 1 << 20;
    const x = new Tensor(new Float32Array(n).fill(0.1), [n]);
    expect(sum(x).item()).toBeCloseTo(n * Math.fround(0.1), 0);
  });

  it('errors name the op, the axis and what is accepted', () => {
    const x = randn([2, 3], { seed: 1 });
    expect(() => sum(x, 2)).toThrow(ArgumentError);
    expect(() => sum(x, 2)).toThrow(/sum: axis 2 is out of range for a tensor of shape \[2, 3\] \(accepted: -2 to 1\)/);
    expect(() => mean(x, [0, -2])).toThrow(/mean: axis -2 appears more than once/);
    expect(() => max(x, -3)).toThrow(/max: axis -3 is out of range for a tensor of shape \[2, 3\]/);
    expect(() => argmax(x, 5)).toThrow(/argmax: axis 5 is out of range for a tensor of shape \[2, 3\]/);
    expect(() => sum(tensor(1), 1)).toThrow(/sum: axis 1 is out of range for a scalar/);
  });
});

describe('max and min', () => {
  /** Distinct values spaced 0.1 apart, so finite differences with h = 0.01 never swap the order. */
  function distinct(shape: number[], seed: number): Tensor {
    const n = shape.reduce((a, b) => a * b, 1);
    const rng = new Rng(seed);
    const order = Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    return tensor(order.map((v) => (v - n / 2) * 0.1), shape);
  }

  for (const { shape, axes } of cases) {
    for (const keepdim of [false, true]) {
      it(`match a naive reference and finite differences for ${JSON.stringify(shape)} over ${JSON.stringify(axes)} keepdim=${keepdim}`, () => {
        const x = distinct(shape, 3);
        const mx = max(x, axes, keepdim);
        const ref = naiveReduce(x, axes, keepdim, (v) => Math.max(...v));
        expect([...mx.shape]).toEqual(ref.shape);
        expect(Array.from(mx.data)).toEqual(ref.values.map(Math.fround));
        const mn = min(x, axes, keepdim);
        expect(Array.from(mn.data)).toEqual(naiveReduce(x, axes, keepdim, (v) => Math.min(...v)).values.map(Math.fround));
        gradcheck((t) => max(t, axes, keepdim), [x]);
        gradcheck((t) => min(t, axes, keepdim), [x]);
      });
    }
  }

  it('a tie sends the whole gradient to the first maximum / minimum', () => {
    const x = tensor([[1, 3, 3, 2], [0, 0, 5, -1]], undefined, { requiresGrad: true });
    const [g] = grad(sum(max(x, 1)), [x]);
    expect(Array.from(g!.data)).toEqual([0, 1, 0, 0, 0, 0, 1, 0]);
    const y = tensor([[2, 1, 1], [4, 4, 9]], undefined, { requiresGrad: true });
    const [gy] = grad(sum(min(y, -1)), [y]);
    expect(Array.from(gy!.data)).toEqual([0, 1, 0, 1, 0, 0]);
    // over all axes: the first maximum in row-major order
    const z = tensor([[7, 1], [7, 7]], undefined, { requiresGrad: true });
    const [gz] = grad(max(z), [z]);
    expect(Array.from(gz!.data)).toEqual([1, 0, 0, 0]);
    // over axis 0 (a kept inner block): the first row wins
    const w = tensor([[5, 2], [5, 3]], undefined, { requiresGrad: true });
    const [gw] = grad(sum(max(w, 0)), [w]);
    expect(Array.from(gw!.data)).toEqual([1, 0, 0, 1]);
  });

  it('propagates NaN and handles -Infinity', () => {
    expect(Number.isNaN(max(tensor([1, NaN, 3])).item())).toBe(true);
    expect(Number.isNaN(min(tensor([1, NaN, 3])).item())).toBe(true);
    expect(max(tensor([-Infinity, -Infinity])).item()).toBe(-Infinity);
    expect(argmax(tensor([-Infinity, -Infinity])).item()).toBe(0);
  });

  it('refuses an empty reduction', () => {
    const x = new Tensor(new Float32Array(0), [2, 0]);
    expect(() => max(x, 1)).toThrow(ShapeError);
    expect(() => max(x, 1)).toThrow(/max: cannot reduce over an empty axis .*\[2, 0\]/);
    expect(() => argmax(x)).toThrow(/argmax/);
  });
});

describe('argmax and argmin', () => {
  it('hand-computed indices, first on ties', () => {
    const x = tensor([[1, 9, 9], [4, 2, 4], [0, -1, -1]]);
    expect(Array.from(argmax(x, 1).data)).toEqual([1, 0, 0]);
    expect(Array.from(argmin(x, 1).data)).toEqual([0, 1, 1]);
    expect(Array.from(argmax(x, 0).data)).toEqual([1, 0, 0]);
    expect(Array.from(argmin(x, -2).data)).toEqual([2, 2, 2]);
    expect(argmax(x).item()).toBe(1);
    expect(argmin(x).item()).toBe(7);
    expect([...argmax(x, 1, true).shape]).toEqual([3, 1]);
    expect([...argmax(x, undefined, true).shape]).toEqual([1, 1]);
    expect([...argmax(x).shape]).toEqual([]);
  });

  it('indexes along the middle axis of a 4-D tensor, as a naive reference', () => {
    const x = randn([2, 5, 3, 4], { seed: 9 });
    const am = argmax(x, 1);
    expect([...am.shape]).toEqual([2, 3, 4]);
    for (const [n, h, w] of multiIndices([2, 3, 4])) {
      let best = 0;
      for (let c = 1; c < 5; c++) if (x.get(n!, c, h!, w!) > x.get(n!, best, h!, w!)) best = c;
      expect(am.get(n!, h!, w!)).toBe(best);
    }
  });

  it('has no gradient', () => {
    const x = tensor([1, 2, 3], undefined, { requiresGrad: true });
    expect(argmax(x).requiresGrad).toBe(false);
  });

  it('rejects a list of axes', () => {
    expect(() => argmax(tensor([1, 2]), [0] as unknown as number)).toThrow(/argmax: axis must be one integer/);
  });
});
