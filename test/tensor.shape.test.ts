import { describe, expect, it } from 'vitest';
import {
  ArgumentError,
  ShapeError,
  Tensor,
  arange,
  concat,
  expand,
  flatten,
  grad,
  indexSelect,
  mul,
  pad,
  permute,
  randn,
  reshape,
  slice,
  squeeze,
  sum,
  tensor,
  transpose,
  unsqueeze,
  type PadMode,
} from '../src/index.js';
import { gradcheck } from './helpers/gradcheck.js';
import { multiIndices } from './helpers/naive.js';
import { converted, expectMatchesTorch } from './helpers/onnx-tensor.js';
import { describeReference } from './helpers/shared.js';

const values = (t: Tensor): number[] => Array.from(t.data);

describe('reshape, flatten, squeeze, unsqueeze', () => {
  it('reshape infers -1 and shares the data', () => {
    const x = arange(24);
    const y = reshape(x, [2, -1, 4]);
    expect([...y.shape]).toEqual([2, 3, 4]);
    expect(y.data).toBe(x.data);
    expect([...reshape(x, [-1]).shape]).toEqual([24]);
    expect([...reshape(tensor(3), [1, 1]).shape]).toEqual([1, 1]);
    expect([...reshape(tensor([3]), []).shape]).toEqual([]);
    gradcheck((t) => reshape(t, [4, -1]), [randn([2, 3, 2], { seed: 1 })]);
  });

  it('reshape errors name the shapes', () => {
    const x = arange(6);
    expect(() => reshape(x, [4, -1])).toThrow(ShapeError);
    expect(() => reshape(x, [4, -1])).toThrow(/reshape: cannot reshape a tensor of shape \[6\] .* to \[4, -1\]/);
    expect(() => reshape(x, [2, 2])).toThrow(/\[6\] \(6 elements\) to \[2, 2\] \(4 elements\)/);
    expect(() => reshape(x, [-1, -1])).toThrow(/more than one -1/);
    expect(() => reshape(x, [2, -3])).toThrow(ArgumentError);
  });

  it('flatten merges a range of axes as torch.flatten', () => {
    const x = randn([2, 3, 4, 5], { seed: 2 });
    expect([...flatten(x).shape]).toEqual([120]);
    expect([...flatten(x, 1).shape]).toEqual([2, 60]);
    expect([...flatten(x, 1, 2).shape]).toEqual([2, 12, 5]);
    expect([...flatten(x, -2).shape]).toEqual([2, 3, 20]);
    expect([...flatten(tensor(1)).shape]).toEqual([1]);
    expect(() => flatten(x, 3, 1)).toThrow(/flatten: startDim 3 comes after endDim 1/);
    gradcheck((t) => flatten(t, 1), [x]);
  });

  it('squeeze removes size-1 axes; a named axis of another size stays (as torch)', () => {
    const x = randn([1, 3, 1, 2], { seed: 3 });
    expect([...squeeze(x).shape]).toEqual([3, 2]);
    expect([...squeeze(x, 0).shape]).toEqual([3, 1, 2]);
    expect([...squeeze(x, [-2, 0]).shape]).toEqual([3, 2]);
    expect([...squeeze(x, 1).shape]).toEqual([1, 3, 1, 2]);
    expect(() => squeeze(x, 4)).toThrow(/squeeze: axis 4 is out of range/);
    gradcheck((t) => squeeze(t), [x]);
  });

  it('unsqueeze inserts axes at positions of the result', () => {
    const x = randn([3, 4], { seed: 4 });
    expect([...unsqueeze(x, 0).shape]).toEqual([1, 3, 4]);
    expect([...unsqueeze(x, -1).shape]).toEqual([3, 4, 1]);
    expect([...unsqueeze(x, [0, 3]).shape]).toEqual([1, 3, 4, 1]);
    expect([...unsqueeze(x, [1, -1]).shape]).toEqual([3, 1, 4, 1]);
    expect(() => unsqueeze(x, 3)).toThrow(/unsqueeze: axis 3 is out of range/);
    expect(() => unsqueeze(x, [1, 1])).toThrow(/unsqueeze: position 1 appears more than once/);
    gradcheck((t) => unsqueeze(t, 1), [x]);
  });
});

describe('permute and transpose', () => {
  const perms = [[0, 2, 1, 3], [3, 2, 1, 0], [1, 0, 3, 2], [0, 1, 2, 3], [2, 0, 3, 1]];
  for (const dims of perms) {
    it(`permute(${dims}) moves element [a,b,c,d] to its permuted index; backward permutes back`, () => {
      const x = randn([2, 3, 4, 5], { seed: 5 });
      const y = permute(x, dims);
      expect([...y.shape]).toEqual(dims.map((d) => x.shape[d]));
      for (const idx of multiIndices(x.shape)) {
        expect(y.get(...dims.map((d) => idx[d]!))).toBe(x.get(...idx));
      }
      gradcheck((t) => permute(t, dims), [x]);
    });
  }

  it('transpose swaps two axes (negative allowed)', () => {
    const x = tensor([[1, 2, 3], [4, 5, 6]]);
    expect(transpose(x, 0, 1).toArray()).toEqual([[1, 4], [2, 5], [3, 6]]);
    expect(transpose(x, -1, -2).toArray()).toEqual([[1, 4], [2, 5], [3, 6]]);
    gradcheck((t) => transpose(t, 1, -1), [randn([2, 3, 4], { seed: 6 })]);
  });

  it('errors say what a permutation must be', () => {
    const x = randn([2, 3], { seed: 1 });
    expect(() => permute(x, [0])).toThrow(/permute: dims \[0\] has 1 entries but the tensor of shape \[2, 3\] has 2 axes/);
    expect(() => permute(x, [1, 1])).toThrow(/permute: dims \[1, 1\] repeat an axis/);
    expect(() => transpose(x, 0, 2)).toThrow(/transpose: axis 2/);
  });
});

describe('concat', () => {
  it('joins along an axis as torch.cat', () => {
    const a = tensor([[1, 2], [3, 4]]);
    const b = tensor([[5, 6]]);
    expect(concat([a, b]).toArray()).toEqual([[1, 2], [3, 4], [5, 6]]);
    const c = tensor([[7], [8]]);
    expect(concat([a, c], 1).toArray()).toEqual([[1, 2, 7], [3, 4, 8]]);
    expect(concat([a, c], -1).toArray()).toEqual([[1, 2, 7], [3, 4, 8]]);
    expect([...concat([a, new Tensor(new Float32Array(0), [0, 2])]).shape]).toEqual([2, 2]);
  });

  it('gradients slice back to each input, only where needed', () => {
    const xs = [randn([2, 3, 4], { seed: 1 }), randn([2, 1, 4], { seed: 2 }), randn([2, 2, 4], { seed: 3 })];
    gradcheck((...t) => concat(t, 1), xs);
    gradcheck((...t) => concat(t, -1), [randn([2, 3, 1], { seed: 4 }), randn([2, 3, 2], { seed: 5 })]);
    const p = tensor([1, 2], undefined, { requiresGrad: true });
    const q = tensor([3], undefined, { requiresGrad: true });
    const w = tensor([10, 20, 30]);
    const [gq] = grad(sum(mul(concat([p, q]), w)), [q]);
    expect(values(gq!)).toEqual([30]);
  });

  it('errors name the shapes', () => {
    expect(() => concat([])).toThrow(/concat: needs at least one tensor/);
    expect(() => concat([randn([2, 3]), randn([3, 3])], 1)).toThrow(ShapeError);
    expect(() => concat([randn([2, 3]), randn([3, 3])], 1)).toThrow(/concat: shapes \[2, 3\], \[3, 3\] do not match except along axis 1/);
    expect(() => concat([randn([2, 3]), randn([2, 3, 1])])).toThrow(/concat/);
    expect(() => concat([tensor(1), tensor(2)])).toThrow(/concat: cannot join scalars/);
  });
});

describe('slice (Python semantics)', () => {
  const r = arange(10);
  // each expectation is list(range(10))[start:end:step], worked out by hand
  const cases: [number | undefined, number | undefined, number, number[]][] = [
    [undefined, undefined, 1, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]],
    [undefined, undefined, -1, [9, 8, 7, 6, 5, 4, 3, 2, 1, 0]],
    [8, 2, -2, [8, 6, 4]],
    [-3, undefined, 1, [7, 8, 9]],
    [undefined, -12, -1, [9, 8, 7, 6, 5, 4, 3, 2, 1, 0]],
    [5, 100, 1, [5, 6, 7, 8, 9]],
    [100, 0, -3, [9, 6, 3]],
    [-100, 3, 1, [0, 1, 2]],
    [3, 3, 1, []],
    [undefined, undefined, -3, [9, 6, 3, 0]],
    [-1, -4, -1, [9, 8, 7]],
    [2, 8, 3, [2, 5]],
    [1, 5, -1, []],
    [undefined, -1, -1, []],
  ];
  for (const [start, end, step, want] of cases) {
    it(`[${start ?? ''}:${end ?? ''}:${step}] -> [${want}]`, () => {
      expect(values(slice(r, 0, start, end, step))).toEqual(want);
    });
  }

  it('slices a middle axis and its gradient scatters back', () => {
    const x = randn([2, 6, 3], { seed: 7 });
    const y = slice(x, 1, 5, 0, -2);
    expect([...y.shape]).toEqual([2, 3, 3]);
    for (const [n, k, w] of multiIndices([2, 3, 3])) expect(y.get(n!, k!, w!)).toBe(x.get(n!, 5 - 2 * k!, w!));
    gradcheck((t) => slice(t, 1, 5, 0, -2), [x]);
    gradcheck((t) => slice(t, -1, 1), [x]);
    gradcheck((t) => slice(t, 0, -1, undefined, -1), [x]);
  });

  it('rejects a zero or fractional step', () => {
    expect(() => slice(r, 0, 0, 5, 0)).toThrow(/slice: step must be a non-zero integer, got 0/);
    expect(() => slice(r, 0, 0.5)).toThrow(/slice: start must be an integer/);
    expect(() => slice(r, 1)).toThrow(/slice: axis 1 is out of range/);
  });
});

describe('indexSelect', () => {
  it('picks rows, allows negative and repeated indices; repeats add gradients', () => {
    const x = tensor([[1, 2], [3, 4], [5, 6]], undefined, { requiresGrad: true });
    const y = indexSelect(x, 0, [2, 0, -1]);
    expect(y.toArray()).toEqual([[5, 6], [1, 2], [5, 6]]);
    expect(indexSelect(x, 1, [1]).toArray()).toEqual([[2], [4], [6]]);
    const [g] = grad(sum(y), [x]);
    expect(values(g!)).toEqual([1, 1, 0, 0, 2, 2]);
    gradcheck((t) => indexSelect(t, 1, [3, 0, 3, 1]), [randn([2, 4, 3], { seed: 8 })]);
  });

  it('an out-of-range index names the axis and the accepted range', () => {
    const x = randn([3, 2], { seed: 1 });
    expect(() => indexSelect(x, 0, [3])).toThrow(ArgumentError);
    expect(() => indexSelect(x, 0, [3])).toThrow(/indexSelect: index 3 is out of range for axis 0 of size 3 .*-3 to 2/);
  });
});

describe('expand', () => {
  it('broadcasts like torch.expand, -1 keeps a size', () => {
    const x = tensor([[1], [2]]);
    expect(expand(x, [2, 3]).toArray()).toEqual([[1, 1, 1], [2, 2, 2]]);
    expect(expand(x, [2, -1, 2]).toArray()).toEqual([[[1, 1], [2, 2]], [[1, 1], [2, 2]]]);
    gradcheck((t) => expand(t, [4, 3, 2, 5]), [randn([3, 1, 5], { seed: 9 })]);
  });

  it('errors say which axis cannot grow', () => {
    const x = randn([2, 3], { seed: 1 });
    expect(() => expand(x, [4, 3])).toThrow(ShapeError);
    expect(() => expand(x, [4, 3])).toThrow(/expand: cannot expand shape \[2, 3\] to \[4, 3\]: axis 0 has size 2, not 1/);
    expect(() => expand(x, [3])).toThrow(/fewer axes/);
    expect(() => expand(x, [-1, 2, 3])).toThrow(/-1 is not allowed for the new leading axis 0/);
  });
});

describe('pad', () => {
  const grid = reshape(arange(9), [1, 1, 3, 3]);

  it('reflect matches the ReflectionPad2d documentation example', () => {
    expect(pad(grid, [2, 2, 2, 2], { mode: 'reflect' }).toArray()).toEqual([[[
      [8, 7, 6, 7, 8, 7, 6],
      [5, 4, 3, 4, 5, 4, 3],
      [2, 1, 0, 1, 2, 1, 0],
      [5, 4, 3, 4, 5, 4, 3],
      [8, 7, 6, 7, 8, 7, 6],
      [5, 4, 3, 4, 5, 4, 3],
      [2, 1, 0, 1, 2, 1, 0],
    ]]]);
    expect(pad(grid, [1, 1, 2, 0], { mode: 'reflect' }).toArray()).toEqual([[[
      [7, 6, 7, 8, 7],
      [4, 3, 4, 5, 4],
      [1, 0, 1, 2, 1],
      [4, 3, 4, 5, 4],
      [7, 6, 7, 8, 7],
    ]]]);
  });

  it('replicate matches the ReplicationPad2d documentation example', () => {
    expect(pad(grid, [2, 2, 2, 2], { mode: 'replicate' }).toArray()).toEqual([[[
      [0, 0, 0, 1, 2, 2, 2],
      [0, 0, 0, 1, 2, 2, 2],
      [0, 0, 0, 1, 2, 2, 2],
      [3, 3, 3, 4, 5, 5, 5],
      [6, 6, 6, 7, 8, 8, 8],
      [6, 6, 6, 7, 8, 8, 8],
      [6, 6, 6, 7, 8, 8, 8],
    ]]]);
  });

  it('constant pads with a value; negative pads crop; order is last axis first', () => {
    const x = tensor([[1, 2, 3], [4, 5, 6]]);
    expect(pad(x, [1, 0]).toArray()).toEqual([[0, 1, 2, 3], [0, 4, 5, 6]]);
    expect(pad(x, [0, 0, 1, 0], { value: -1 }).toArray()).toEqual([[-1, -1, -1], [1, 2, 3], [4, 5, 6]]);
    expect(pad(x, [-1, 1]).toArray()).toEqual([[2, 3, 0], [5, 6, 0]]);
    expect(pad(x, [0, -2, -1, 0]).toArray()).toEqual([[4]]);
    expect(pad(x, [1, -1], { mode: 'reflect' }).toArray()).toEqual([[2, 1, 2], [5, 4, 5]]);
  });

  /** Independent reference: each output index maps to an input index axis by axis. */
  function naivePad(x: Tensor, pads: number[], mode: PadMode, value: number): { shape: number[]; values: number[] } {
    const nd = x.ndim;
    const before = (a: number): number => pads[2 * (nd - 1 - a)] ?? 0;
    const after = (a: number): number => pads[2 * (nd - 1 - a) + 1] ?? 0;
    const shape = x.shape.map((n, a) => n + before(a) + after(a));
    const out: number[] = [];
    for (const idx of multiIndices(shape)) {
      const src: number[] = [];
      let inside = true;
      idx.forEach((o, a) => {
        const n = x.shape[a]!;
        let i = o - before(a);
        if (mode === 'reflect') {
          while (i < 0 || i >= n) i = i < 0 ? -i : 2 * n - 2 - i;
        } else if (mode === 'replicate') i = Math.min(n - 1, Math.max(0, i));
        else if (i < 0 || i >= n) inside = false;
        src.push(i);
      });
      out.push(inside ? x.get(...src) : value);
    }
    return { shape, values: out };
  }

  const padCases: [number[], number[]][] = [
    [[2, 3, 5, 4], [1, 2]],
    [[2, 3, 5, 4], [3, 1, 2, 0]],
    [[2, 3, 5, 4], [1, 1, 1, 1, 1, 0]],
    [[2, 5, 4], [-1, 2, 1, -2]],
    [[6], [2, 3]],
  ];
  for (const mode of ['constant', 'reflect', 'replicate'] as const) {
    for (const [shape, pads] of padCases) {
      it(`${mode} pad ${JSON.stringify(pads)} of ${JSON.stringify(shape)} matches a naive reference and finite differences`, () => {
        const x = randn(shape, { seed: 11 });
        const y = pad(x, pads, { mode, value: 0.5 });
        const ref = naivePad(x, pads, mode, 0.5);
        expect([...y.shape]).toEqual(ref.shape);
        expect(values(y)).toEqual(ref.values.map(Math.fround));
        gradcheck((t) => pad(t, pads, { mode, value: 0.5 }), [x], { maxElements: 200 });
      });
    }
  }

  it('reflect and replicate sum the gradient of every copy', () => {
    const x = tensor([1, 2, 3], undefined, { requiresGrad: true });
    const [gr] = grad(sum(pad(x, [2, 1], { mode: 'reflect' })), [x]);
    // output reads x[2], x[1], x[0], x[1], x[2], x[1]
    expect(values(gr!)).toEqual([1, 3, 2]);
    const [gp] = grad(sum(pad(x, [2, 1], { mode: 'replicate' })), [x]);
    expect(values(gp!)).toEqual([3, 1, 2]);
  });

  it('errors say what is accepted', () => {
    const x = randn([2, 3], { seed: 1 });
    expect(() => pad(x, [1])).toThrow(/pad: pads \[1\] must have an even length of at most 2 \* 2/);
    expect(() => pad(x, [1, 1, 1, 1, 1, 1])).toThrow(ArgumentError);
    expect(() => pad(x, [3, 0], { mode: 'reflect' })).toThrow(/pad: reflect pads \(3, 0\) on axis 1 of size 3 must be smaller than the size/);
    expect(() => pad(x, [-2, -2])).toThrow(/leave -1 elements/);
    expect(() => pad(x, [1, 1], { mode: 'wrap' as PadMode })).toThrow(/pad: mode 'wrap' is not supported/);
  });
});

// ---------------------------------------------------------------------------
// PyTorch's own outputs: ONNX's converted PyTorch-module tests.

describeReference('onnx-pytorch-converted', "PyTorch's outputs (onnx-pytorch-converted)", () => {
  // ONNX pads [x1_begin, x2_begin, x3_begin, x4_begin, x1_end, ...] = [0,0,3,1, 0,0,4,2] are F.pad's [1, 2, 3, 4]
  const cases: [string, number, (...x: Tensor[]) => Tensor][] = [
    ['test_ConstantPad2d', 1, (x) => pad(x, [1, 2, 3, 4], { value: 2 })],
    ['test_ZeroPad2d', 1, (x) => pad(x, [1, 2, 3, 4])],
    ['test_ReflectionPad2d', 1, (x) => pad(x, [1, 2, 3, 4], { mode: 'reflect' })],
    ['test_ReplicationPad2d', 1, (x) => pad(x, [1, 2, 3, 4], { mode: 'replicate' })],
    ['test_operator_pad', 1, (x) => pad(x, [2, 3, 0, 1], { mode: 'reflect' })],
    ['test_operator_concat2', 2, (a, b) => concat([a!, b!], 1)],
    ['test_operator_permute2', 1, (x) => permute(x, [0, 1, 4, 2, 5, 3])],
    ['test_operator_flatten', 1, (x) => flatten(x, 1)],
    ['test_operator_view', 1, (x) => reshape(x, [1, 1])], // x.view(1, 1) of a [1] input
  ];
  for (const [name, count, f] of cases) {
    it(name, () => {
      const { inputs, output } = converted(name, count);
      expectMatchesTorch(f(...inputs), output);
    });
  }
});
