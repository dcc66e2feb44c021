import { describe, expect, it } from 'vitest';
import { ArgumentError, ShapeError } from '../src/tensor/errors.js';
import { conv1d } from '../src/tensor/ops/conv1d.js';
import { conv3d } from '../src/tensor/ops/conv3d.js';
import { cumsum } from '../src/tensor/ops/cumsum.js';
import { einsum } from '../src/tensor/ops/einsum.js';
import { gatherElements, gatherND, scatterND } from '../src/tensor/ops/gather.js';
import { groupNorm, instanceNorm, layerNorm } from '../src/tensor/ops/layerNorm.js';
import { avgPool1d, avgPool3d, maxPool1d, maxPool3d } from '../src/tensor/ops/pool3d.js';
import { prod } from '../src/tensor/ops/prod.js';
import { interpolateNd } from '../src/tensor/ops/resample.js';
import { interpolate } from '../src/tensor/ops/interpolate.js';
import { erf, erfScalar, gelu, mish } from '../src/tensor/ops/smoothActivations.js';
import { tile } from '../src/tensor/ops/tile.js';
import { topk } from '../src/tensor/ops/topk.js';
import { where } from '../src/tensor/ops/where.js';
import { Rng } from '../src/tensor/random.js';
import { Tensor, tensor } from '../src/tensor/tensor.js';
import { gradcheck } from './helpers/gradcheck.js';

/**
 * The engine ops added for issue 9, against values computed here by plain
 * loops (or known constants), with every backward rule checked against
 * finite differences. PyTorch's own numbers for the same ops, through their
 * ONNX exports, are in test/onnx.ops9.test.ts.
 */

function rand(shape: number[], seed: number, scale = 1): Tensor {
  const rng = new Rng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return new Tensor(Float32Array.from({ length: n }, () => rng.normal() * scale), shape);
}

function close(ours: Tensor, expected: ArrayLike<number>, tol = 1e-5): void {
  expect(ours.size).toBe(expected.length);
  for (let i = 0; i < ours.size; i++) expect(Math.abs(ours.data[i]! - expected[i]!), `element ${i}`).toBeLessThanOrEqual(tol * (1 + Math.abs(expected[i]!)));
}

describe('smooth activations', () => {
  it('erf matches tabulated values to 1e-7, gelu and mish their formulas; gradients by finite differences', () => {
    // erf(0.1), erf(0.5), erf(1), erf(2), erf(3.5) (Abramowitz & Stegun, table 7.1)
    const table: [number, number][] = [[0.1, 0.1124629160], [0.5, 0.5204998778], [1, 0.8427007929], [2, 0.9953222650], [3.5, 0.9999992569]];
    for (const [x, v] of table) {
      expect(Math.abs(erfScalar(x) - v)).toBeLessThan(1e-7);
      expect(Math.abs(erfScalar(-x) + v)).toBeLessThan(1e-7);
    }
    const x = rand([40], 1, 2);
    close(gelu(x), Array.from(x.data, (v) => 0.5 * v * (1 + erfScalar(v / Math.SQRT2))));
    close(gelu(x, 'tanh'), Array.from(x.data, (v) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3)))));
    close(mish(x), Array.from(x.data, (v) => v * Math.tanh(Math.log1p(Math.exp(v)))));
    for (const f of [erf, (t: Tensor) => gelu(t), (t: Tensor) => gelu(t, 'tanh'), mish]) gradcheck((t) => f(t!), [x], { h: 1e-3 });
    expect(() => gelu(x, 'fast' as 'none')).toThrow(ArgumentError);
  });
});

describe('layer, group and instance norm', () => {
  it('normalise each row, apply the affine, and have the batch-norm-style backward', () => {
    const x = rand([2, 4, 3, 5], 2, 2);
    const w = rand([3, 5], 3);
    const b = rand([3, 5], 4);
    const y = layerNorm(x, 2, w, b, 1e-5);
    const expected: number[] = [];
    for (let r = 0; r < 8; r++) {
      const row = Array.from(x.data.slice(r * 15, r * 15 + 15));
      const m = row.reduce((s, v) => s + v, 0) / 15;
      const v = row.reduce((s, t) => s + (t - m) ** 2, 0) / 15;
      row.forEach((t, j) => expected.push(((t - m) / Math.sqrt(v + 1e-5)) * w.data[j]! + b.data[j]!));
    }
    close(y, expected, 1e-5);
    gradcheck((a, p, q) => layerNorm(a!, -2, p, q), [x, w, b], { h: 1e-3 });
    // Group norm: 2 groups of 2 channels; instance norm is one channel per group.
    const gw = rand([4], 5);
    const gb = rand([4], 6);
    const g = groupNorm(x, 2, gw, gb);
    const n0 = Array.from(x.data.slice(0, 30));
    const m0 = n0.reduce((s, v) => s + v, 0) / 30;
    const v0 = n0.reduce((s, t) => s + (t - m0) ** 2, 0) / 30;
    expect(g.data[17]).toBeCloseTo(((x.data[17]! - m0) / Math.sqrt(v0 + 1e-5)) * gw.data[1]! + gb.data[1]!, 5);
    gradcheck((a, p, q) => groupNorm(a!, 2, p, q), [x, gw, gb], { h: 1e-3 });
    close(instanceNorm(x, gw, gb), Array.from(groupNorm(x, 4, gw, gb).data));
    expect(() => groupNorm(x, 3)).toThrow(ArgumentError);
    expect(() => layerNorm(x, -1, rand([4], 1))).toThrow(ShapeError);
  });
});

describe('indexing ops', () => {
  it('where, gatherElements, gatherND, scatterND, tile against loops; gradients by finite differences', () => {
    const a = rand([2, 3, 4], 7);
    const b = rand([3, 1], 8);
    const cond = new Tensor(Float32Array.from({ length: 4 }, (_, i) => i % 2), [4]);
    const w = where(cond, a, b);
    expect(w.get(1, 2, 1)).toBe(a.get(1, 2, 1));
    expect(w.get(1, 2, 2)).toBe(b.get(2, 0));
    gradcheck((p, q) => where(cond, p!, q!), [a, b]);

    const idx = [0, 2, 1, 1, 2, 0];
    const ge = gatherElements(a, 1, idx, [2, 1, 3]);
    expect(ge.get(1, 0, 2)).toBe(a.get(1, 0, 2));
    expect(ge.get(0, 0, 1)).toBe(a.get(0, 2, 1));
    gradcheck((t) => gatherElements(t!, 1, idx, [2, 1, 3]), [a]);

    const nd = gatherND(a, [1, 2, 0, -1], [2, 2]);
    expect(Array.from(nd.data)).toEqual([...Array.from({ length: 4 }, (_, k) => a.get(1, 2, k)), ...Array.from({ length: 4 }, (_, k) => a.get(0, 2, k))]);
    gradcheck((t) => gatherND(t!, [1, 2, 0, 0, 0, 2], [3, 2]), [a]);

    const upd = rand([2, 4], 9);
    const s = scatterND(a, [0, 1, 1, 2], [2, 2], upd);
    expect(s.get(0, 1, 3)).toBe(upd.get(0, 3));
    expect(s.get(1, 2, 0)).toBe(upd.get(1, 0));
    expect(s.get(0, 0, 0)).toBe(a.get(0, 0, 0));
    gradcheck((t, u) => scatterND(t!, [0, 1, 1, 2], [2, 2], u!), [a, upd]);
    gradcheck((t, u) => scatterND(t!, [0, 1, 0, 1], [2, 2], u!, 'add'), [a, upd]);
    expect(() => scatterND(a, [0, 5], [1, 2], rand([1, 4], 1))).toThrow(ArgumentError);

    const t = tile(tensor([[1, 2], [3, 4]]), [2, 3]);
    expect(t.shape).toEqual([4, 6]);
    expect(Array.from(t.data.slice(0, 6))).toEqual([1, 2, 1, 2, 1, 2]);
    expect(Array.from(t.data.slice(18))).toEqual([3, 4, 3, 4, 3, 4]);
    gradcheck((p) => tile(p!, [1, 2, 2]), [a]);
  });

  it('cumsum (exclusive, reverse), topk, prod with zeros', () => {
    const x = tensor([[1, 2, 3], [4, 5, 6]]);
    expect(Array.from(cumsum(x, 1).data)).toEqual([1, 3, 6, 4, 9, 15]);
    expect(Array.from(cumsum(x, 1, { exclusive: true, reverse: true }).data)).toEqual([5, 3, 0, 11, 6, 0]);
    expect(Array.from(cumsum(x, 0).data)).toEqual([1, 2, 3, 5, 7, 9]);
    const r = rand([3, 5], 10);
    gradcheck((p) => cumsum(p!, 1, { exclusive: true }), [r]);
    gradcheck((p) => cumsum(p!, 0, { reverse: true }), [r]);

    const tk = topk(tensor([[3, 1, 4, 1, 5], [9, 2, 6, 5, 3]]), 3, 1);
    expect(Array.from(tk.values.data)).toEqual([5, 4, 3, 9, 6, 5]);
    expect(Array.from(tk.indices.data)).toEqual([4, 2, 0, 0, 2, 3]);
    expect(Array.from(topk(tensor([2, 1, 2, 0]), 2, 0, { largest: false }).indices.data)).toEqual([3, 1]);
    gradcheck((p) => topk(p!, 2, 0).values, [r]);

    const z = tensor([[2, 0, 3], [1, 2, 0.5]]);
    expect(Array.from(prod(z, 1).data)).toEqual([0, 1]);
    expect(Array.from(prod(z).data)).toEqual([0]);
    expect(prod(z, 0, true).shape).toEqual([1, 3]);
    gradcheck((p) => prod(p!, 1), [z]);
    gradcheck((p) => prod(p!, [0, 2]), [rand([2, 3, 2], 11)]);
  });

  it('einsum: attention forms, implicit output, ellipsis, three operands; refuses diagonals', () => {
    const q = rand([2, 3, 4, 5], 12);
    const k = rand([2, 3, 6, 5], 13);
    const s = einsum('bhid,bhjd->bhij', q, k);
    expect(s.shape).toEqual([2, 3, 4, 6]);
    let dot = 0;
    for (let d = 0; d < 5; d++) dot += q.get(1, 2, 3, d) * k.get(1, 2, 5, d);
    expect(s.get(1, 2, 3, 5)).toBeCloseTo(dot, 5);
    gradcheck((a, b) => einsum('bhid,bhjd->bhij', a!, b!), [q, k]);
    const m = rand([3, 4], 14);
    const n = rand([4, 2], 15);
    const implicit = einsum('ij,jk', m, n);
    expect(implicit.get(2, 1)).toBeCloseTo([0, 1, 2, 3].reduce((acc, j) => acc + m.get(2, j) * n.get(j, 1), 0), 5);
    expect(einsum('...ij,jk->...ik', q, rand([5, 2], 16)).shape).toEqual([2, 3, 4, 2]);
    expect(einsum('ij->j', m).get(3)).toBeCloseTo(m.get(0, 3) + m.get(1, 3) + m.get(2, 3), 5);
    const v = rand([2], 17);
    gradcheck((a, b, c) => einsum('ij,jk,k->i', a!, b!, c!), [m, n, v]);
    expect(() => einsum('ii->i', rand([3, 3], 1))).toThrow(ArgumentError);
    expect(() => einsum('ij,jk->ik', m, rand([5, 2], 1))).toThrow(ShapeError);
  });
});

describe('1-D and 3-D convolution and pooling', () => {
  it('conv1d and conv3d against direct loops, with groups, stride, padding and dilation; gradients', () => {
    const x = rand([2, 4, 11], 20);
    const w = rand([6, 2, 3], 21);
    const y = conv1d(x, w, null, { stride: 2, padding: 2, dilation: 2, groups: 2 });
    const outL = Math.floor((11 + 4 - 5) / 2) + 1;
    expect(y.shape).toEqual([2, 6, outL]);
    let s = 0;
    for (let c = 0; c < 2; c++) for (let t = 0; t < 3; t++) {
      const p = 3 * 2 - 2 + t * 2;
      if (p >= 0 && p < 11) s += x.get(1, 2 + c, p) * w.get(4, c, t);
    }
    expect(y.get(1, 4, 3)).toBeCloseTo(s, 5);
    gradcheck((a, b) => conv1d(a!, b!, null, { stride: 2, padding: [1, 2] }), [x, rand([3, 4, 3], 22)]);

    const v = rand([1, 4, 5, 6, 7], 23);
    const k = rand([4, 2, 2, 3, 2], 24);
    const bias = rand([4], 25);
    const z = conv3d(v, k, bias, { stride: [2, 1, 2], padding: [1, 1, 0], dilation: [2, 1, 1], groups: 2 });
    const [od, oh, ow] = [Math.floor((5 + 2 - 3) / 2) + 1, 6, Math.floor((7 - 2) / 2) + 1];
    expect(z.shape).toEqual([1, 4, od, oh, ow]);
    const direct = (o: number, d: number, h: number, ww: number): number => {
      let acc = bias.data[o]!;
      const g = Math.floor(o / 2);
      for (let c = 0; c < 2; c++) for (let a = 0; a < 2; a++) for (let b = 0; b < 3; b++) for (let e = 0; e < 2; e++) {
        const [pd, ph, pw] = [d * 2 - 1 + a * 2, h - 1 + b, ww * 2 + e];
        if (pd >= 0 && pd < 5 && ph >= 0 && ph < 6 && pw >= 0 && pw < 7) acc += v.get(0, g * 2 + c, pd, ph, pw) * k.get(o, c, a, b, e);
      }
      return acc;
    };
    for (const [o, d, h, ww] of [[0, 0, 0, 0], [3, 2, 5, 2], [2, 1, 3, 1], [1, 2, 0, 2]] as const) expect(z.get(0, o, d, h, ww)).toBeCloseTo(direct(o, d, h, ww), 4);
    gradcheck((a, b) => conv3d(a!, b!, null, { stride: 2, padding: 1 }), [rand([1, 2, 4, 4, 4], 26), rand([3, 2, 2, 2, 2], 27)], { maxElements: 24 });
  });

  it('3-D pools equal the pool over the whole window, first maximum gets the gradient; 1-D pools', () => {
    const x = rand([1, 2, 5, 6, 7], 30);
    const mp = maxPool3d(x, { kernelSize: [3, 2, 3], stride: [2, 2, 2], padding: [1, 1, 1], ceilMode: true });
    const ap = avgPool3d(x, { kernelSize: 3, stride: 2, padding: 1, countIncludePad: false });
    const window = (d: number, h: number, w: number, k: number[], s: number[], p: number[]): number[] => {
      const vals: number[] = [];
      for (let a = 0; a < k[0]!; a++) for (let b = 0; b < k[1]!; b++) for (let c = 0; c < k[2]!; c++) {
        const [i, j, l] = [d * s[0]! - p[0]! + a, h * s[1]! - p[1]! + b, w * s[2]! - p[2]! + c];
        if (i >= 0 && i < 5 && j >= 0 && j < 6 && l >= 0 && l < 7) vals.push(x.get(0, 1, i, j, l));
      }
      return vals;
    };
    expect(mp.shape).toEqual([1, 2, 3, 4, 4]);
    expect(ap.shape).toEqual([1, 2, 3, 3, 4]);
    for (const [d, h, w] of [[0, 0, 0], [2, 2, 3], [1, 2, 1]] as const) {
      expect(mp.get(0, 1, d, h, w)).toBe(Math.max(...window(d, h, w, [3, 2, 3], [2, 2, 2], [1, 1, 1])));
      const vals = window(d, h, w, [3, 3, 3], [2, 2, 2], [1, 1, 1]);
      expect(ap.get(0, 1, d, h, w)).toBeCloseTo(vals.reduce((s, v) => s + v, 0) / vals.length, 5);
    }
    gradcheck((t) => maxPool3d(t!, { kernelSize: 2, dilation: [1, 2, 1] }), [x], { maxElements: 32 });
    gradcheck((t) => avgPool3d(t!, { kernelSize: [2, 3, 2], stride: 1, padding: [1, 1, 0] }), [x], { maxElements: 32 });
    const s = rand([2, 3, 10], 31);
    const m1 = maxPool1d(s, { kernelSize: 3, stride: 2, padding: 1 });
    expect(m1.get(1, 2, 2)).toBe(Math.max(s.get(1, 2, 3), s.get(1, 2, 4), s.get(1, 2, 5)));
    expect(avgPool1d(s, { kernelSize: 2 }).get(0, 1, 4)).toBeCloseTo((s.get(0, 1, 8) + s.get(0, 1, 9)) / 2, 6);
    expect(() => maxPool3d(s, { kernelSize: 2 })).toThrow(ShapeError);
  });
});

describe('interpolateNd', () => {
  it('equals interpolate on 4-D input, and linear / trilinear / bicubic agree with their separable definition', () => {
    const x = rand([1, 2, 5, 7], 40);
    for (const alignCorners of [false, true]) {
      close(interpolateNd(x, { size: [9, 4], mode: 'bilinear', alignCorners }), Array.from(interpolate(x, { size: [9, 4], mode: 'bilinear', alignCorners }).data), 1e-5);
    }
    close(interpolateNd(x, { scaleFactor: 2, mode: 'nearest' }), Array.from(interpolate(x, { scaleFactor: 2, mode: 'nearest' }).data));
    close(interpolateNd(x, { size: [3, 10], mode: 'nearest' }), Array.from(interpolate(x, { size: [3, 10], mode: 'nearest' }).data));
    // 1-D linear, half-pixel: out[i] reads src = (i + 0.5) * in/out - 0.5, clamped at 0.
    const s = tensor([[[0, 10, 20, 40]]]);
    close(interpolateNd(s, { size: [6] }), [0, 10 * (1 / 3 - 0) + 0 * (2 / 3) + 0, 0, 0, 0, 0].map((_, i) => {
      const src = Math.max((i + 0.5) * (4 / 6) - 0.5, 0);
      const f = Math.floor(src);
      const r = src - f;
      return [0, 10, 20, 40][f]! * (1 - r) + [0, 10, 20, 40][Math.min(f + 1, 3)]! * r;
    }));
    // Trilinear of a function linear in each axis is exact inside the volume (align corners).
    const v = new Tensor(Float32Array.from({ length: 3 * 4 * 5 }, (_, i) => Math.floor(i / 20) * 2 + (Math.floor(i / 5) % 4) * 3 + (i % 5)), [1, 1, 3, 4, 5]);
    const t = interpolateNd(v, { size: [5, 7, 9], mode: 'trilinear', alignCorners: true });
    expect(t.get(0, 0, 3, 5, 6)).toBeCloseTo((3 * 2) / 4 * 2 + ((5 * 3) / 6) * 3 + (6 * 4) / 8, 4);
    gradcheck((p) => interpolateNd(p!, { scaleFactor: [1.5, 2, 0.7], mode: 'trilinear' }), [rand([1, 2, 3, 4, 5], 41)], { maxElements: 32 });
    gradcheck((p) => interpolateNd(p!, { size: [7, 6], mode: 'bicubic' }), [x]);
    expect(() => interpolateNd(x, { size: [4], mode: 'linear' })).toThrow(ArgumentError);
  });
});
