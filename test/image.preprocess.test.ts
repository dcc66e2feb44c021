import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  centerCrop,
  decodeImage,
  normalize,
  preprocess,
  resize,
  shorterSideSize,
  tensorToImage,
  toTensor,
  type RgbaImage,
} from '../src/image/index.js';
import { grad } from '../src/tensor/autograd.js';
import { sum } from '../src/tensor/ops/reduce.js';
import { Tensor } from '../src/tensor/tensor.js';
import { FIXTURES, FULL_FIXTURES, loadCase, manifest } from './helpers/fixtures.js';
import { describeReference } from './helpers/shared.js';

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};

function image(width: number, height: number, rgba: (x: number, y: number) => [number, number, number, number]): RgbaImage {
  const data = new Uint8ClampedArray(width * height * 4);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data.set(rgba(x, y), (y * width + x) * 4);
  return { width, height, data };
}

function noise(width: number, height: number, seed: number): RgbaImage {
  let s = seed;
  const next = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) >>> 24);
  return image(width, height, () => [next(), next(), next(), next()]);
}

/** Independent bilinear, half-pixel centres clamped at the border (PyTorch align_corners=False), in float64. */
function naiveBilinear(src: Float64Array, H: number, W: number, h: number, w: number): Float64Array {
  const out = new Float64Array(h * w);
  const coord = (o: number, inSize: number, outSize: number) => {
    const s = Math.max(0, ((o + 0.5) * inSize) / outSize - 0.5);
    const i0 = Math.min(Math.floor(s), inSize - 1);
    const i1 = Math.min(i0 + 1, inSize - 1);
    return [i0, i1, s - i0] as const;
  };
  for (let y = 0; y < h; y++) {
    const [y0, y1, fy] = coord(y, H, h);
    for (let x = 0; x < w; x++) {
      const [x0, x1, fx] = coord(x, W, w);
      const top = src[y0 * W + x0]! * (1 - fx) + src[y0 * W + x1]! * fx;
      const bottom = src[y1 * W + x0]! * (1 - fx) + src[y1 * W + x1]! * fx;
      out[y * w + x] = top * (1 - fy) + bottom * fy;
    }
  }
  return out;
}

/** Independent antialiased (triangle filter widened by the shrink factor) 1-D weights, as PIL / torchvision describe them. */
function triangleResize1d(src: Float64Array, n: number, m: number): Float64Array {
  const scale = n / m;
  const support = scale >= 1 ? scale : 1;
  const out = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    const centre = (i + 0.5) * scale;
    let total = 0;
    let acc = 0;
    for (let j = 0; j < n; j++) {
      const d = Math.abs((j + 0.5 - centre) / support);
      const wgt = d < 1 ? 1 - d : 0;
      total += wgt;
      acc += wgt * src[j]!;
    }
    out[i] = acc / total;
  }
  return out;
}

const roundHalfEven = (x: number) => {
  const f = Math.floor(x);
  const d = x - f;
  return d > 0.5 ? f + 1 : d < 0.5 ? f : f % 2 === 0 ? f : f + 1;
};

describeReference('fixtures', 'preprocess equals the fixtures\' inputs', () => {
  const cases = manifest().cases.filter((c) => c.model === 'shapes_cnn' && (c as { input?: { png?: string } }).input?.png);
  it('covers every shapes_cnn case made from a PNG', () => expect(cases.length).toBeGreaterThanOrEqual(FULL_FIXTURES ? 12 : 2));
  it.each(cases.map((c) => [c.id, c] as const))('%s', (_id, c) => {
    const png = (c as unknown as { input: { png: string } }).input.png;
    const x = preprocess(decodeImage(new Uint8Array(readFileSync(join(FIXTURES, png)))));
    const expected = loadCase(c).input!;
    expect(x.shape).toEqual(expected.shape);
    expect(maxAbsDiff(x.data, expected.data)).toBeLessThanOrEqual(1e-6);
  });
});

describe('resize', () => {
  it('resizes every fixture\'s gradcam/minmax map to input size as the fixture pipeline does (within 1e-5)', () => {
    const cases = manifest().cases.filter((c) => c.tensors['gradcam/minmax'] && c.tensors['gradcam/upsampled']);
    expect(cases.length).toBeGreaterThanOrEqual(FULL_FIXTURES ? 40 : 5);
    for (const c of cases) {
      const t = loadCase(c);
      const small = t['gradcam/minmax']!; // [1, h, w]
      const [, H, W] = t['gradcam/upsampled']!.shape as [number, number, number];
      const up = resize(small, { width: W, height: H });
      expect(up.shape).toEqual([1, H, W]);
      // The pipeline's second min-max (scale_cam_image), written out here.
      let lo = Infinity;
      let hi = -Infinity;
      for (const v of up.data) [lo, hi] = [Math.min(lo, v), Math.max(hi, v)];
      const scaled = Array.from(up.data, (v) => (v - lo) / (hi - lo + 1e-7));
      expect(maxAbsDiff(scaled, t['gradcam/upsampled']!.data), c.id).toBeLessThanOrEqual(1e-5);
    }
  });

  it('enlarges bytes as bilinear with half-pixel centres, rounded half to even (hand-computed)', () => {
    // Row [0, 255] to width 4: sources -0.25 (clamped), 0.25, 0.75, 1.25 (clamped) -> 0, 63.75, 191.25, 255.
    const out = resize(image(2, 1, (x) => [x * 255, 0, 0, 255]), { width: 4, height: 1 });
    expect(Array.from(out.data.filter((_, i) => i % 4 === 0))).toEqual([0, 64, 191, 255]);
    // A tie: [1, 2] to width 3 samples at -1/6 (clamped to 0), 0.5 and 7/6 -> 1, 1.5 -> 2 (half to even), 2.
    const tie = resize(image(2, 1, (x) => [x === 0 ? 1 : 2, 0, 0, 0]), { width: 3, height: 1 });
    expect(Array.from(tie.data.filter((_, i) => i % 4 === 0))).toEqual([1, 2, 2]);
  });

  it('matches an independent bilinear on random images, all four channels, up and down', () => {
    const src = noise(13, 7, 3);
    for (const [w, h] of [[29, 17], [5, 3], [13, 20], [1, 1]] as const) {
      const out = resize(src, { width: w, height: h });
      for (let c = 0; c < 4; c++) {
        const plane = Float64Array.from({ length: 13 * 7 }, (_, i) => src.data[i * 4 + c]!);
        const ref = naiveBilinear(plane, 7, 13, h, w).map(roundHalfEven);
        const ours = Array.from({ length: w * h }, (_, i) => out.data[i * 4 + c]!);
        // float32 arithmetic may land on the other side of a .5 tie: at most one step off, rarely.
        const off = ours.filter((v, i) => v !== ref[i]).length;
        expect(maxAbsDiff(ours, ref)).toBeLessThanOrEqual(1);
        expect(off).toBeLessThanOrEqual(Math.ceil(w * h * 0.02));
      }
    }
  });

  it('antialias shrinks with the widened triangle filter (independent implementation)', () => {
    const src = noise(24, 1, 9);
    const out = resize(src, { width: 5, height: 1, antialias: true });
    const plane = Float64Array.from({ length: 24 }, (_, i) => src.data[i * 4]!);
    const ref = triangleResize1d(plane, 24, 5).map(roundHalfEven);
    expect(maxAbsDiff(Array.from({ length: 5 }, (_, i) => out.data[i * 4]!), ref)).toBeLessThanOrEqual(1);
    // Without antialias, shrinking 24 -> 5 samples only two neighbours per output: a different answer.
    const plain = resize(src, { width: 5, height: 1 });
    expect(maxAbsDiff(plain.data, out.data)).toBeGreaterThan(5);
  });

  it('keeps a map tensor\'s rank and lets gradients through', () => {
    const m = new Tensor(Float32Array.from([0, 1, 2, 3]), [2, 2], true);
    const up = resize(m, { width: 4, height: 4 });
    expect(up.shape).toEqual([4, 4]);
    const [g] = grad(sum(up), [m]);
    // Each input pixel's weights over the 16 outputs sum to 4 (16 outputs / 4 inputs, symmetric).
    expect(Array.from(g!.data)).toEqual([4, 4, 4, 4]);
    expect(resize(new Tensor(new Float32Array(2 * 9), [2, 3, 3]), { width: 6, height: 5 }).shape).toEqual([2, 5, 6]);
  });

  it('rejects bad sizes with a typed error', () => {
    expect(() => resize(noise(2, 2, 1), { width: 0, height: 2 })).toThrow(/resize: width and height must be positive integers/);
  });
});

describe('centerCrop, toTensor, normalize', () => {
  it('crops at torchvision\'s offsets (Python rounding) and pads with zeros when larger', () => {
    const img = image(7, 5, (x, y) => [x, y, 0, 255]);
    const c = centerCrop(img, { width: 2, height: 2 });
    // left = round(5 / 2) = round(2.5) = 2 (to even), top = round(3 / 2) = round(1.5) = 2
    expect([c.data[0], c.data[1]]).toEqual([2, 2]);
    const c6 = centerCrop(image(6, 6, (x, y) => [x, y, 0, 255]), 3);
    expect([c6.data[0], c6.data[1]]).toEqual([2, 2]); // round(1.5) = 2
    // 2x2 into 5x5: pad (5-2)//2 = 1 before, 2 after.
    const big = centerCrop(image(2, 2, () => [9, 9, 9, 255]), 5);
    const row = (y: number) => Array.from({ length: 5 }, (_, x) => big.data[(y * 5 + x) * 4]!);
    expect([row(0), row(1), row(2), row(3)]).toEqual([[0, 0, 0, 0, 0], [0, 9, 9, 0, 0], [0, 9, 9, 0, 0], [0, 0, 0, 0, 0]]);
    const t = centerCrop(new Tensor(Float32Array.from({ length: 2 * 16 }, (_, i) => i), [2, 4, 4]), 2);
    expect(Array.from(t.data)).toEqual([5, 6, 9, 10, 21, 22, 25, 26]);
    const padded = centerCrop(new Tensor(Float32Array.from([1, 2, 3, 4]), [2, 2]), { width: 5, height: 3 });
    expect(Array.from(padded.data)).toEqual([0, 1, 2, 0, 0, 0, 3, 4, 0, 0, 0, 0, 0, 0, 0]);
    const leaf = new Tensor(Float32Array.from({ length: 16 }, (_, i) => i), [4, 4], true);
    const [g] = grad(sum(centerCrop(leaf, 2)), [leaf]);
    expect(Array.from(g!.data)).toEqual([0, 0, 0, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0]);
  });

  it('toTensor gives [1,3,H,W] in [0,1], normalize uses ImageNet statistics by default and is differentiable', () => {
    const x = toTensor(image(2, 1, (px) => [255, px * 51, 0, 7]));
    expect(x.shape).toEqual([1, 3, 1, 2]);
    expect(Array.from(x.data)).toEqual([1, 1, 0, 0.2, 0, 0].map(Math.fround));
    const n = normalize(x);
    expect(n.data[0]).toBeCloseTo((1 - 0.485) / 0.229, 6);
    expect(n.data[3]).toBeCloseTo((0.2 - 0.456) / 0.224, 6);
    expect(n.data[5]).toBeCloseTo((0 - 0.406) / 0.225, 6);
    const leaf = x.requireGrad();
    const [g] = grad(sum(normalize(leaf, { mean: [0, 0, 0], std: [2, 4, 8] })), [leaf]);
    expect(Array.from(g!.data)).toEqual([0.5, 0.5, 0.25, 0.25, 0.125, 0.125]);
    expect(() => normalize(x, { mean: [0, 0], std: [1, 1] })).toThrow(/one value per channel \(3\)/);
    const back = tensorToImage(x);
    expect(Array.from(back.data)).toEqual([255, 0, 0, 255, 255, 51, 0, 255]);
  });

  it('preprocess = Resize(shorter side) -> CenterCrop -> ToTensor -> Normalize', () => {
    expect(shorterSideSize(640, 480, 256)).toEqual({ width: 341, height: 256 }); // int(256 * 640 / 480) = 341
    expect(shorterSideSize(300, 500, 256)).toEqual({ width: 256, height: 426 });
    const src = noise(64, 48, 5);
    const x = preprocess(src, { resize: 32, crop: 24 });
    expect(x.shape).toEqual([1, 3, 24, 24]);
    // The same steps by hand.
    const manual = normalize(toTensor(centerCrop(resize(src, { width: 42, height: 32, antialias: true }), 24)));
    expect(maxAbsDiff(x.data, manual.data)).toBe(0);
  });
});
