import { describe, expect, it } from 'vitest';
import { AttributeType } from '../src/onnx/proto.js';
import { grad } from '../src/tensor/autograd.js';
import { ArgumentError, ShapeError } from '../src/tensor/errors.js';
import {
  adaptiveAvgPool2d,
  avgPool2d,
  globalAvgPool2d,
  globalMaxPool2d,
  maxPool2d,
  type AvgPool2dOptions,
  type MaxPool2dOptions,
} from '../src/tensor/ops/pool.js';
import { Rng, randn } from '../src/tensor/random.js';
import { Tensor, tensor } from '../src/tensor/tensor.js';
import { gradcheck } from './helpers/gradcheck.js';
import { naivePool } from './helpers/naive.js';
import { converted, convertedNodes } from './helpers/onnx-tensor.js';
import { describeReference, itReference } from './helpers/shared.js';

/** Distinct values 0.1 apart in random order: max pooling's argmax is stable under ±h. */
function distinctInput(shape: number[], rng: Rng): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const v = Array.from({ length: n }, (_, i) => (i - n / 2) * 0.1);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [v[i], v[j]] = [v[j]!, v[i]!];
  }
  return tensor(v, shape);
}

function expectAllClose(a: Tensor, b: Tensor, tol = 1e-5): void {
  expect([...a.shape]).toEqual([...b.shape]);
  for (let i = 0; i < a.size; i++) {
    const x = a.data[i]!;
    const y = b.data[i]!;
    if (x === y) continue;
    expect(Math.abs(x - y), `element ${i}: ${x} vs ${y}`).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(y)));
  }
}

/** Options that cover stride, symmetric/asymmetric padding, dilation and ceil mode. */
const maxCases: MaxPool2dOptions[] = [
  { kernelSize: 2 },
  { kernelSize: 3, stride: 2, padding: 1 },
  { kernelSize: 3, stride: 2, padding: 1, ceilMode: true },
  { kernelSize: 2, stride: 2, ceilMode: true },
  { kernelSize: [3, 2], stride: [1, 2], padding: [1, 0] },
  { kernelSize: 3, stride: 1, dilation: 2, padding: 1 },
  { kernelSize: 3, stride: 2, dilation: [2, 1], ceilMode: true },
  { kernelSize: 3, stride: 2, padding: { top: 0, bottom: 1, left: 1, right: 0 } },
  { kernelSize: 2, stride: 2, padding: { top: 0, bottom: 1, left: 0, right: 1 } },
  { kernelSize: 3, stride: 2, padding: { top: 2, bottom: 0, left: 0, right: 2 }, ceilMode: true },
  { kernelSize: 1, stride: 2 },
];

const avgCases: AvgPool2dOptions[] = [
  { kernelSize: 2 },
  { kernelSize: 3, stride: 2, padding: 1 },
  { kernelSize: 3, stride: 2, padding: 1, countIncludePad: false },
  { kernelSize: 3, stride: 2, padding: 1, ceilMode: true },
  { kernelSize: 3, stride: 2, padding: 1, ceilMode: true, countIncludePad: false },
  { kernelSize: 2, stride: 2, ceilMode: true },
  { kernelSize: [3, 1], stride: [2, 1], padding: [1, 0] },
  { kernelSize: 3, stride: 2, padding: { top: 0, bottom: 1, left: 1, right: 2 } },
  { kernelSize: 3, stride: 2, padding: { top: 0, bottom: 1, left: 1, right: 2 }, countIncludePad: false, ceilMode: true },
];

const shapes = [
  [1, 1, 5, 5],
  [2, 3, 6, 7],
  [1, 2, 8, 5],
  [1, 1, 7, 9],
];

describe('maxPool2d', () => {
  it('takes the maximum of each window (hand values)', () => {
    const x = tensor(Array.from({ length: 16 }, (_, i) => i), [1, 1, 4, 4]);
    expect(Array.from(maxPool2d(x, { kernelSize: 2 }).data)).toEqual([5, 7, 13, 15]);
    // k3 s2 p1 on 4x4: windows start at -1 and 1
    expect(Array.from(maxPool2d(x, { kernelSize: 3, stride: 2, padding: 1 }).data)).toEqual([5, 7, 13, 15]);
    // dilation 2, k2 on 4x4: taps {0,2} and {1,3}
    expect(Array.from(maxPool2d(x, { kernelSize: 2, stride: 1, dilation: 2 }).data)).toEqual([10, 11, 14, 15]);
  });

  it('applies PyTorch ceil-mode rule: a window starting in the right padding is dropped', () => {
    const x = tensor(Array.from({ length: 25 }, (_, i) => i), [1, 1, 5, 5]);
    // 5 + 2 - 2 = 5, ceil(5/2)+1 = 4, but window 3 starts at 6 - 1 = 5 >= 5: dropped -> 3
    expect(maxPool2d(x, { kernelSize: 2, stride: 2, padding: 1, ceilMode: true }).shape).toEqual([1, 1, 3, 3]);
    // 6 + 2 - 3 = 5 -> 4 windows; the last starts at 6 - 1 = 5 < 6: kept
    expect(maxPool2d(tensor(new Float32Array(36), [1, 1, 6, 6]), { kernelSize: 3, stride: 2, padding: 1, ceilMode: true }).shape).toEqual([1, 1, 4, 4]);
    // no ceil: floor(3/2)+1 = 2; ceil: 3 with a partial last window
    const y = maxPool2d(x, { kernelSize: 2, stride: 2, ceilMode: true });
    expect(Array.from(y.data)).toEqual([6, 8, 9, 16, 18, 19, 21, 23, 24]);
  });

  it('matches the naive reference over random shapes and options', () => {
    const rng = new Rng(7);
    for (const o of maxCases)
      for (const shape of shapes) {
        const x = randn(shape, { rng });
        expectAllClose(maxPool2d(x, o), naivePool(x, o, 'max').out, 0);
      }
  });

  it('sends the gradient to the first maximum of each window in row-major order (ties not split)', () => {
    const x = tensor(new Float32Array(9).fill(1), [1, 1, 3, 3], { requiresGrad: true });
    const y = maxPool2d(x, { kernelSize: 2, stride: 1 });
    const [g] = grad(y, [x], { gradOutput: tensor([1, 2, 3, 4], [1, 1, 2, 2]) });
    expect(Array.from(g!.data)).toEqual([1, 2, 0, 3, 4, 0, 0, 0, 0]);
    // with padding: padded cells are -Infinity, so the first *input* cell
    // wins; windows start at -1 and 1, so their first input cells are
    // (0,0), (0,1), (1,0), (1,1)
    const z = maxPool2d(x, { kernelSize: 3, stride: 2, padding: 1 });
    const [gz] = grad(z, [x], { gradOutput: tensor([1, 10, 100, 1000], [1, 1, 2, 2]) });
    expect(Array.from(gz!.data)).toEqual([1, 10, 0, 100, 1000, 0, 0, 0, 0]);
    // a partial tie: two maxima 5 in one window, the earlier one gets it all
    const t = tensor([0, 5, 5, 1], [1, 1, 2, 2], { requiresGrad: true });
    const [gt] = grad(maxPool2d(t, { kernelSize: 2 }), [t], { gradOutput: tensor([3], [1, 1, 1, 1]) });
    expect(Array.from(gt!.data)).toEqual([0, 3, 0, 0]);
  });

  it('routes ties exactly as the naive first-maximum reference on integer-valued inputs', () => {
    const rng = new Rng(11);
    for (const o of maxCases) {
      const shape = [1, 2, 6, 7];
      const x = tensor(Array.from({ length: 84 }, () => rng.int(3)), shape, { requiresGrad: true });
      const y = maxPool2d(x, o);
      const go = randn([...y.shape], { rng });
      const [g] = grad(y, [x], { gradOutput: go });
      const expected = new Float32Array(x.size);
      naivePool(x, o, 'max').firstMax.forEach((at, k) => {
        if (!at.length) return;
        const offset = x.offsetOf(at);
        expected[offset] = expected[offset]! + go.data[k]!;
      });
      expectAllClose(g!, new Tensor(expected, x.shape), 1e-6);
    }
  });

  it('passes gradcheck over seeded shapes and options', () => {
    const rng = new Rng(3);
    for (const o of maxCases) {
      const shape = shapes[rng.int(shapes.length)]!;
      gradcheck((x) => maxPool2d(x, o), [distinctInput(shape, rng)], { seed: rng.int(1000) });
    }
  });

  it('propagates NaN like PyTorch', () => {
    const x = tensor([1, NaN, 3, 2], [1, 1, 2, 2]);
    expect(Number.isNaN(maxPool2d(x, { kernelSize: 2 }).item())).toBe(true);
    expect(Number.isNaN(globalMaxPool2d(x).item())).toBe(true);
    // PyTorch's `val > max || isnan(val)`: the last NaN of a window takes the gradient
    const t = tensor([NaN, 9, NaN, 1], [1, 1, 2, 2], { requiresGrad: true });
    const [g] = grad(maxPool2d(t, { kernelSize: 2 }), [t], { gradOutput: tensor([1], [1, 1, 1, 1]) });
    expect(Array.from(g!.data)).toEqual([0, 0, 1, 0]);
  });

  it('rejects bad shapes and options with typed errors', () => {
    const x = tensor(new Float32Array(16), [1, 1, 4, 4]);
    expect(() => maxPool2d(tensor(new Float32Array(16), [4, 4]), { kernelSize: 2 })).toThrow(ShapeError);
    expect(() => maxPool2d(x, { kernelSize: 0 })).toThrow(ArgumentError);
    expect(() => maxPool2d(x, { kernelSize: 2, stride: 0 })).toThrow(/stride/);
    expect(() => maxPool2d(x, { kernelSize: 2, padding: 2 })).toThrow(/half the kernel/);
    expect(() => maxPool2d(x, { kernelSize: 5 })).toThrow(ShapeError);
    expect(() => maxPool2d(x, { kernelSize: 2, padding: { top: -1, bottom: 0, left: 0, right: 0 } })).toThrow(/padding.top/);
  });

  it('is fast enough on a [1,64,112,112] activation (ResNet stem)', () => {
    const rng = new Rng(1);
    const x = new Tensor(Float32Array.from({ length: 64 * 112 * 112 }, () => rng.uniform()), [1, 64, 112, 112], true);
    const t0 = performance.now();
    const y = maxPool2d(x, { kernelSize: 3, stride: 2, padding: 1 });
    const t1 = performance.now();
    grad(y, [x], { gradOutput: y.detach() });
    const t2 = performance.now();
    console.log(`maxPool2d [1,64,112,112] k3 s2 p1: forward ${(t1 - t0).toFixed(1)} ms, backward ${(t2 - t1).toFixed(1)} ms`);
    expect(y.shape).toEqual([1, 64, 56, 56]);
    expect(t2 - t0).toBeLessThan(2000);
  });
});

describe('avgPool2d', () => {
  it('uses PyTorch divisors at padding and ceil-mode overhang (hand values)', () => {
    const ones = tensor(new Float32Array(16).fill(1), [1, 1, 4, 4]);
    // k3 s2 p1 ceil on 4: windows start -1, 1, 3; the last ends at min(6, 4+1) = 5
    const y = avgPool2d(ones, { kernelSize: 3, stride: 2, padding: 1, ceilMode: true });
    expect(y.shape).toEqual([1, 1, 3, 3]);
    // corner (0,0): 2x2 valid of 3x3; (0,2): 2x1 valid of 3x2; (2,2): 1x1 valid of 2x2
    const inc = Array.from(y.data);
    const expected = [4 / 9, 6 / 9, 2 / 6, 6 / 9, 1, 3 / 6, 2 / 6, 3 / 6, 1 / 4];
    inc.forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 6));
    const z = avgPool2d(ones, { kernelSize: 3, stride: 2, padding: 1, ceilMode: true, countIncludePad: false });
    Array.from(z.data).forEach((v) => expect(v).toBeCloseTo(1, 6));
    // ceil overhang without padding: last window holds one cell and divides by one
    const x = tensor(Array.from({ length: 25 }, (_, i) => i), [1, 1, 5, 5]);
    const w = avgPool2d(x, { kernelSize: 2, stride: 2, ceilMode: true });
    expect(w.get(0, 0, 2, 2)).toBe(24);
    expect(w.get(0, 0, 0, 0)).toBe((0 + 1 + 5 + 6) / 4);
    expect(w.get(0, 0, 0, 2)).toBe((4 + 9) / 2);
  });

  it('matches the naive reference over random shapes and options', () => {
    const rng = new Rng(5);
    for (const o of avgCases)
      for (const shape of shapes) {
        const x = randn(shape, { rng });
        expectAllClose(avgPool2d(x, o), naivePool(x, o, 'avg').out);
      }
  });

  it('passes gradcheck over seeded shapes and options', () => {
    const rng = new Rng(9);
    for (const o of avgCases) {
      const shape = shapes[rng.int(shapes.length)]!;
      gradcheck((x) => avgPool2d(x, o), [randn(shape, { rng })], { seed: rng.int(1000) });
    }
  });
});

describe('adaptiveAvgPool2d', () => {
  it('uses floor/ceil window bounds (hand values)', () => {
    // 5 -> 3: windows [0,2), [1,4), [3,5)
    const x = tensor([0, 1, 2, 3, 4], [1, 1, 1, 5]);
    const y = adaptiveAvgPool2d(x, [1, 3]);
    expect(Array.from(y.data)).toEqual([0.5, 2, 3.5]);
    // 2 -> 3 (upsampling): windows [0,1), [0,2), [1,2)
    const z = adaptiveAvgPool2d(tensor([2, 4], [1, 1, 2, 1]), [3, 1]);
    expect(Array.from(z.data)).toEqual([2, 3, 4]);
  });

  it('matches a naive mean over each window and passes gradcheck', () => {
    const rng = new Rng(13);
    for (const [shape, size] of [
      [[1, 2, 7, 9], [3, 4]],
      [[2, 1, 5, 5], [5, 5]],
      [[1, 3, 4, 6], [7, 2]],
      [[1, 1, 6, 6], [1, 1]],
    ] as [number[], [number, number]][]) {
      const x = randn(shape, { rng });
      const y = adaptiveAvgPool2d(x, size);
      const [N, C, H, W] = shape as [number, number, number, number];
      for (let n = 0; n < N; n++)
        for (let c = 0; c < C; c++)
          for (let i = 0; i < size[0]; i++)
            for (let j = 0; j < size[1]; j++) {
              const rows = [Math.floor((i * H) / size[0]), Math.ceil(((i + 1) * H) / size[0])];
              const cols = [Math.floor((j * W) / size[1]), Math.ceil(((j + 1) * W) / size[1])];
              let s = 0;
              for (let r = rows[0]!; r < rows[1]!; r++) for (let q = cols[0]!; q < cols[1]!; q++) s += x.get(n, c, r, q);
              expect(y.get(n, c, i, j)).toBeCloseTo(s / ((rows[1]! - rows[0]!) * (cols[1]! - cols[0]!)), 5);
            }
      gradcheck((t) => adaptiveAvgPool2d(t, size), [x]);
    }
  });
});

describe('global pools', () => {
  it('reduce H and W to [N,C,1,1] with the right values', () => {
    const x = tensor([1, 2, 3, 4, -1, -5, -2, -3], [1, 2, 2, 2]);
    expect(globalAvgPool2d(x).shape).toEqual([1, 2, 1, 1]);
    expect(Array.from(globalAvgPool2d(x).data)).toEqual([2.5, -2.75]);
    expect(Array.from(globalMaxPool2d(x).data)).toEqual([4, -1]);
  });

  it('pass gradcheck; globalMaxPool2d sends ties to the first maximum', () => {
    const rng = new Rng(17);
    gradcheck(globalAvgPool2d, [randn([2, 3, 4, 5], { rng })]);
    gradcheck(globalMaxPool2d, [distinctInput([2, 3, 4, 5], rng)]);
    const t = tensor([1, 7, 3, 7], [1, 1, 2, 2], { requiresGrad: true });
    const [g] = grad(globalMaxPool2d(t), [t]);
    expect(Array.from(g!.data)).toEqual([0, 1, 0, 0]);
  });
});

// ---------------------------------------------------------------------------
// PyTorch's own outputs: the ONNX project's converted PyTorch-module tests.
// Each is one pooling node: its attributes give the pool's options.

function onnxPoolCase(name: string): { op: string; attrs: Record<string, number[]>; input: Tensor; output: Tensor } {
  const node = convertedNodes(name)[0]!;
  const attrs: Record<string, number[]> = {};
  for (const a of node.attributes) attrs[a.name] = a.type === AttributeType.INTS ? a.ints : [a.i];
  const { inputs, output } = converted(name);
  return { op: node.opType, attrs, input: inputs[0]!, output };
}

describeReference('onnx-pytorch-converted', 'pools vs PyTorch (ONNX converted module tests)', () => {
  // (test_operator_maxpool is MaxPool1d on [20, 16, 50]: not a 2-D pool)
  for (const name of ['test_MaxPool2d', 'test_MaxPool2d_stride_padding_dilation', 'test_AvgPool2d', 'test_AvgPool2d_stride']) {
    itReference(`onnx-pytorch-converted/${name}`, name, () => {
      const { op, attrs, input, output } = onnxPoolCase(name);
      const k = attrs.kernel_shape as [number, number];
      const p = attrs.pads ?? [0, 0, 0, 0];
      const options = {
        kernelSize: k,
        stride: (attrs.strides ?? k) as [number, number],
        padding: { top: p[0]!, left: p[1]!, bottom: p[2]!, right: p[3]! },
        dilation: (attrs.dilations ?? [1, 1]) as [number, number],
        ceilMode: (attrs.ceil_mode?.[0] ?? 0) === 1,
      };
      const ours =
        op === 'MaxPool'
          ? maxPool2d(input, options)
          : avgPool2d(input, { ...options, countIncludePad: (attrs.count_include_pad?.[0] ?? 0) === 1 });
      expect(['MaxPool', 'AveragePool']).toContain(op);
      expectAllClose(ours, output, 1e-6);
    });
  }
});
