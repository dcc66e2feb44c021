import { describe, expect, it } from 'vitest';
import { grad } from '../src/tensor/autograd.js';
import { ArgumentError, GradError, ShapeError } from '../src/tensor/errors.js';
import { interpolate, type InterpolateOptions } from '../src/tensor/ops/interpolate.js';
import { Rng, randn } from '../src/tensor/random.js';
import { Tensor, tensor } from '../src/tensor/tensor.js';
import { FULL_FIXTURES, loadCase, manifest } from './helpers/fixtures.js';
import { describeReference } from './helpers/shared.js';
import { gradcheck } from './helpers/gradcheck.js';

const row = (values: number[]): Tensor => tensor(values, [1, 1, 1, values.length]);
const values = (t: Tensor): number[] => Array.from(t.data);

function expectValues(actual: Tensor, expected: number[], digits = 6): void {
  expect(actual.size).toBe(expected.length);
  expected.forEach((v, i) => expect(actual.data[i], `element ${i}`).toBeCloseTo(v, digits));
}

/**
 * Naive bilinear written the OpenCV way (cv::resize INTER_LINEAR on float):
 * fx = (dx + 0.5) / scale - 0.5, sx = floor(fx), fx -= sx; out-of-range
 * taps are clamped to the border with their fraction reset.
 */
function opencvLinear(x: Tensor, outH: number, outW: number): Tensor {
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const taps = (inSize: number, outSize: number, d: number): [number, number, number] => {
    const f = (d + 0.5) * (inSize / outSize) - 0.5;
    let s = Math.floor(f);
    let frac = f - s;
    if (s < 0) {
      s = 0;
      frac = 0;
    }
    if (s >= inSize - 1) {
      s = inSize - 1;
      frac = 0;
    }
    return [s, Math.min(s + 1, inSize - 1), frac];
  };
  const out: number[] = [];
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++)
      for (let i = 0; i < outH; i++)
        for (let j = 0; j < outW; j++) {
          const [r0, r1, fr] = taps(H, outH, i);
          const [c0, c1, fc] = taps(W, outW, j);
          const top = x.get(n, c, r0, c0) * (1 - fc) + x.get(n, c, r0, c1) * fc;
          const bottom = x.get(n, c, r1, c0) * (1 - fc) + x.get(n, c, r1, c1) * fc;
          out.push(top * (1 - fr) + bottom * fr);
        }
  return tensor(out, [N, C, outH, outW]);
}

/** Corners aligned: output i sits at input i * (in - 1) / (out - 1). */
function alignedLinear(x: Tensor, outH: number, outW: number): Tensor {
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const at = (inSize: number, outSize: number, d: number): number => (outSize > 1 ? (d * (inSize - 1)) / (outSize - 1) : 0);
  const sample = (n: number, c: number, y: number, xx: number): number => {
    const y0 = Math.floor(y);
    const x0 = Math.floor(xx);
    const y1 = Math.min(y0 + 1, H - 1);
    const x1 = Math.min(x0 + 1, W - 1);
    const fy = y - y0;
    const fx = xx - x0;
    return (
      (1 - fy) * ((1 - fx) * x.get(n, c, y0, x0) + fx * x.get(n, c, y0, x1)) +
      fy * ((1 - fx) * x.get(n, c, y1, x0) + fx * x.get(n, c, y1, x1))
    );
  };
  const out: number[] = [];
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++)
      for (let i = 0; i < outH; i++) for (let j = 0; j < outW; j++) out.push(sample(n, c, at(H, outH, i), at(W, outW, j)));
  return tensor(out, [N, C, outH, outW]);
}

/**
 * Antialiased bilinear as PIL describes it: output pixel o covers the input
 * interval [o, o + 1) * scale; each input pixel centre j + 0.5 is weighted by
 * a triangle of half-width max(scale, 1) around the interval's centre, and
 * the weights are normalised.
 */
function pilBilinear1d(v: number[], outSize: number): number[] {
  const scale = v.length / outSize;
  const halfWidth = Math.max(scale, 1);
  const out: number[] = [];
  for (let o = 0; o < outSize; o++) {
    const centre = (o + 0.5) * scale;
    let sum = 0;
    let total = 0;
    v.forEach((value, j) => {
      const w = Math.max(0, 1 - Math.abs(j + 0.5 - centre) / halfWidth);
      sum += w * value;
      total += w;
    });
    out.push(sum / total);
  }
  return out;
}

describe('interpolate bilinear', () => {
  it('uses half-pixel centres by default (hand values)', () => {
    // 2 -> 4: sources -0.25 (clamped to 0), 0.25, 0.75, 1.25 (clamped to the last pixel)
    expectValues(interpolate(row([0, 1]), { size: [1, 4] }), [0, 0.25, 0.75, 1]);
    // 4 -> 2: sources 0.5 and 2.5
    expectValues(interpolate(row([0, 1, 2, 3]), { size: [1, 2] }), [0.5, 2.5]);
    // 3 -> 2 in both axes of a 3x3 ramp: sources 0.25 and 1.75
    const x = tensor([0, 1, 2, 10, 11, 12, 20, 21, 22], [1, 1, 3, 3]);
    expectValues(interpolate(x, { size: [2, 2] }), [2.75, 4.25, 17.75, 19.25], 5);
  });

  it('aligns corners when asked (hand values)', () => {
    expectValues(interpolate(row([0, 1]), { size: [1, 4], alignCorners: true }), [0, 1 / 3, 2 / 3, 1]);
    const x = tensor([0, 1, 2, 3], [1, 1, 2, 2]);
    expectValues(interpolate(x, { size: [3, 3], alignCorners: true }), [0, 0.5, 1, 1, 1.5, 2, 2, 2.5, 3]);
    // 5 -> 3 aligned: sources 0, 2, 4 exactly
    expectValues(interpolate(row([4, 3, 2, 1, 0]), { size: [1, 3], alignCorners: true }), [4, 2, 0]);
    // a single output reads the first pixel
    expectValues(interpolate(row([7, 3, 2]), { size: [1, 1], alignCorners: true }), [7]);
  });

  it('maps coordinates with 1/scaleFactor, as F.interpolate', () => {
    // 5 * 0.5 -> 2 outputs; PyTorch maps with scale 2 (sources 0.5, 2.5), not 5/2
    expectValues(interpolate(row([0, 1, 2, 3, 4]), { scaleFactor: [1, 0.5] }), [0.5, 2.5]);
    expect(interpolate(tensor(new Float32Array(6), [1, 1, 2, 3]), { scaleFactor: [2, 1.5] }).shape).toEqual([1, 1, 4, 4]);
  });

  it('equals a naive OpenCV INTER_LINEAR and a naive align-corners resize on random sizes', () => {
    const rng = new Rng(21);
    for (let k = 0; k < 12; k++) {
      const shape = [1 + rng.int(2), 1 + rng.int(3), 1 + rng.int(9), 1 + rng.int(9)];
      const x = randn(shape, { rng });
      const outH = 1 + rng.int(14);
      const outW = 1 + rng.int(14);
      const ours = interpolate(x, { size: [outH, outW] });
      const ref = opencvLinear(x, outH, outW);
      for (let i = 0; i < ours.size; i++) expect(Math.abs(ours.data[i]! - ref.data[i]!)).toBeLessThan(1e-5);
      const aligned = interpolate(x, { size: [outH, outW], alignCorners: true });
      const alignedRef = alignedLinear(x, outH, outW);
      for (let i = 0; i < aligned.size; i++) expect(Math.abs(aligned.data[i]! - alignedRef.data[i]!)).toBeLessThan(1e-5);
    }
  });

  it('passes gradcheck (up, down, uneven, aligned corners)', () => {
    const rng = new Rng(5);
    const cases: [number[], InterpolateOptions][] = [
      [[1, 2, 3, 4], { size: [7, 9] }],
      [[2, 1, 8, 7], { size: [3, 4] }],
      [[1, 1, 5, 5], { size: [5, 8], alignCorners: true }],
      [[1, 3, 4, 6], { size: [9, 2], alignCorners: true }],
      [[1, 1, 3, 5], { scaleFactor: 2.5 }],
    ];
    for (const [shape, o] of cases) gradcheck((x) => interpolate(x, o), [randn(shape, { rng })], { seed: rng.int(100) });
  });
});

describe('interpolate nearest', () => {
  it("picks floor(dst * in / out) as PyTorch's 'nearest' (hand values)", () => {
    expect(values(interpolate(row([0, 1, 2]), { size: [1, 5], mode: 'nearest' }))).toEqual([0, 0, 1, 1, 2]);
    expect(values(interpolate(row([0, 1]), { size: [1, 3], mode: 'nearest' }))).toEqual([0, 0, 1]);
    expect(values(interpolate(row([0, 1, 2, 3]), { size: [1, 2], mode: 'nearest' }))).toEqual([0, 2]);
    expect(values(interpolate(row([5, 6]), { scaleFactor: [1, 2], mode: 'nearest' }))).toEqual([5, 5, 6, 6]);
    // PyTorch's special cases: doubling is o >> 1 even when scaleFactor (2.1)
    // would say floor(8 / 2.1) = 3; same size is a copy
    const five = row([0, 1, 2, 3, 4]);
    expect(values(interpolate(five, { scaleFactor: [1, 2.1], mode: 'nearest' }))).toEqual([0, 0, 1, 1, 2, 2, 3, 3, 4, 4]);
    expect(values(interpolate(five, { scaleFactor: [1, 1.1], mode: 'nearest' }))).toEqual([0, 1, 2, 3, 4]);
    // otherwise the float32 scale 1/scaleFactor: 5 * 1.5 -> 7 outputs at floor(o / 1.5)
    expect(values(interpolate(five, { scaleFactor: [1, 1.5], mode: 'nearest' }))).toEqual([0, 0, 1, 2, 2, 3, 4]);
    const x = tensor([1, 2, 3, 4], [1, 1, 2, 2]);
    expect(values(interpolate(x, { scaleFactor: 2, mode: 'nearest' }))).toEqual([1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4]);
  });

  it('sums the gradient of every copy into its source and passes gradcheck', () => {
    const x = tensor([1, 2], [1, 1, 1, 2], { requiresGrad: true });
    const y = interpolate(x, { size: [1, 5], mode: 'nearest' }); // sources 0,0,0,1,1
    const [g] = grad(y, [x], { gradOutput: row([1, 2, 3, 4, 5]) });
    expect(values(g!)).toEqual([6, 9]);
    const rng = new Rng(8);
    gradcheck((t) => interpolate(t, { size: [5, 3], mode: 'nearest' }), [randn([2, 2, 3, 4], { rng })]);
  });
});

describe('interpolate antialias', () => {
  it('equals hand-computed PIL bilinear weights when downscaling', () => {
    // 4 -> 2: triangle of half-width 2 around 1 and 3; weights 3/7, 3/7, 1/7
    expectValues(interpolate(row([0, 1, 2, 3]), { size: [1, 2], antialias: true }), [5 / 7, 16 / 7]);
  });

  it('equals a naive PIL-style filter on random 1-D and 2-D downscales', () => {
    const rng = new Rng(31);
    for (let k = 0; k < 10; k++) {
      const n = 2 + rng.int(30);
      const m = 1 + rng.int(n);
      const v = Array.from({ length: n }, () => rng.normal());
      expectValues(interpolate(row(v), { size: [1, m], antialias: true }), pilBilinear1d(v, m), 5);
    }
    // 2-D is separable: resize columns of the row-resized result
    const x = randn([1, 1, 9, 11], { rng });
    const y = interpolate(x, { size: [4, 3], antialias: true });
    const rows: number[][] = [];
    for (let i = 0; i < 9; i++) rows.push(pilBilinear1d(Array.from(x.data.subarray(i * 11, i * 11 + 11)), 3));
    for (let j = 0; j < 3; j++) {
      const col = pilBilinear1d(rows.map((r) => r[j]!), 4);
      col.forEach((v, i) => expect(y.get(0, 0, i, j)).toBeCloseTo(v, 5));
    }
  });

  it('equals plain bilinear when upscaling', () => {
    const rng = new Rng(2);
    const x = randn([1, 2, 4, 5], { rng });
    const a = interpolate(x, { size: [9, 11], antialias: true });
    const b = interpolate(x, { size: [9, 11] });
    for (let i = 0; i < a.size; i++) expect(a.data[i]).toBeCloseTo(b.data[i]!, 5);
  });

  it('throws a GradError when a gradient through it is asked for', () => {
    const x = tensor(new Float32Array(16).fill(1), [1, 1, 4, 4], { requiresGrad: true });
    const y = interpolate(x, { size: [2, 2], antialias: true });
    expect(() => grad(y, [x], { gradOutput: y.detach() })).toThrow(GradError);
  });
});

describe('interpolate arguments', () => {
  it('rejects bad input with typed errors', () => {
    const x = tensor(new Float32Array(4), [1, 1, 2, 2]);
    expect(() => interpolate(tensor(new Float32Array(4), [2, 2]), { size: [3, 3] })).toThrow(ShapeError);
    expect(() => interpolate(x, {})).toThrow(/exactly one of size/);
    expect(() => interpolate(x, { size: [3, 3], scaleFactor: 2 })).toThrow(ArgumentError);
    expect(() => interpolate(x, { size: [0, 3] })).toThrow(/positive integers/);
    expect(() => interpolate(x, { scaleFactor: -1 })).toThrow(ArgumentError);
    expect(() => interpolate(x, { scaleFactor: 0.1 })).toThrow(/empty/);
    expect(() => interpolate(x, { size: [3, 3], mode: 'bicubic' as 'nearest' })).toThrow(/mode/);
    expect(() => interpolate(x, { size: [3, 3], mode: 'nearest', alignCorners: true })).toThrow(/alignCorners/);
  });
});

describeReference('fixtures', 'interpolate vs the fixtures (pytorch-grad-cam pipeline)', () => {
  const minmax = (t: Tensor): Float32Array => {
    let lo = Infinity;
    let hi = -Infinity;
    for (const v of t.data) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    // scale_cam_image: (x - min) / (max(x - min) + 1e-7), in float32 as numpy
    const out = new Float32Array(t.size);
    const denom = Math.fround(Math.fround(hi - lo) + 1e-7);
    for (let i = 0; i < t.size; i++) out[i] = Math.fround(t.data[i]! - lo) / denom;
    return out;
  };

  it('resizing gradcam/minmax to the input size reproduces gradcam/upsampled for every case', () => {
    const cases = manifest().cases.filter((c) => c.tensors['gradcam/minmax'] && c.tensors['gradcam/upsampled']);
    expect(cases.length).toBeGreaterThan(FULL_FIXTURES ? 10 : 5);
    let worst = 0;
    for (const c of cases) {
      const t = loadCase(c);
      const small = t['gradcam/minmax']!;
      const ref = t['gradcam/upsampled']!;
      const [, H, W] = ref.shape as [number, number, number];
      const [, h, w] = small.shape as [number, number, number];
      const up = interpolate(new Tensor(small.data, [1, 1, h, w]), { size: [H, W] });
      const ours = minmax(up);
      for (let i = 0; i < ours.length; i++) {
        const d = Math.abs(ours[i]! - ref.data[i]!);
        worst = Math.max(worst, d);
        if (d > 1e-5) throw new Error(`${c.id}: element ${i}: ${ours[i]} vs ${ref.data[i]} (|diff| ${d.toExponential(3)})`);
      }
    }
    console.log(`interpolate vs pytorch-grad-cam over ${cases.length} cases: max |diff| ${worst.toExponential(3)}`);
  });
});

describe('interpolate coordinates (TensorFlow and ONNX forms)', () => {
  // One row of 4 values resized to 6 and 3, so each mapping is visible by hand.
  const row = tensor([[[[0, 10, 20, 30]]]]);

  it("bilinear 'asymmetric' samples o * in / out (TensorFlow's resize_bilinear without half-pixel centres)", () => {
    // x = 0, 0.667, 1.333, 2, 2.667, 3.333 (clamped to the last pixel past it)
    const up = interpolate(row, { size: [1, 6], coordinates: 'asymmetric' });
    expect(Array.from(up.data)).toEqual([0, 20 / 3, 40 / 3, 20, 80 / 3, 30].map(Math.fround));
    const down = interpolate(row, { size: [1, 3], coordinates: 'asymmetric' });
    expect(Array.from(down.data)).toEqual([0, 40 / 3, 80 / 3].map(Math.fround));
  });

  it("nearest 'half_pixel' takes floor((o + 0.5) * in / out) (TensorFlow's half_pixel_centers, PyTorch's nearest-exact)", () => {
    const up = interpolate(row, { size: [1, 6], mode: 'nearest', coordinates: 'half_pixel' });
    // (o + 0.5) * 4/6 = 0.33, 1, 1.67, 2.33, 3, 3.67
    expect(Array.from(up.data)).toEqual([0, 10, 10, 20, 30, 30]);
    const down = interpolate(row, { size: [1, 3], mode: 'nearest', coordinates: 'half_pixel' });
    // 0.67, 2, 3.33 -> 0, 2, 3; the default ('asymmetric') gives 0, 1, 2
    expect(Array.from(down.data)).toEqual([0, 20, 30]);
    expect(Array.from(interpolate(row, { size: [1, 3], mode: 'nearest' }).data)).toEqual([0, 10, 20]);
  });

  it('has gradients that match finite differences', () => {
    const x = randn([2, 3, 5, 4], { seed: 3 });
    gradcheck((t) => interpolate(t, { size: [7, 9], coordinates: 'asymmetric' }), [x]);
    gradcheck((t) => interpolate(t, { size: [3, 6], mode: 'nearest', coordinates: 'half_pixel' }), [x]);
  });

  it('refuses coordinates with aligned corners or antialias, and unknown forms', () => {
    expect(() => interpolate(row, { size: [1, 6], alignCorners: true, coordinates: 'asymmetric' })).toThrow(ArgumentError);
    expect(() => interpolate(row, { size: [1, 2], antialias: true, coordinates: 'half_pixel' })).toThrow(ArgumentError);
    expect(() => interpolate(row, { size: [1, 2], coordinates: 'tf_crop_and_resize' as never })).toThrow(/coordinates/);
  });
});
