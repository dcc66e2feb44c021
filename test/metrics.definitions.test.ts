/**
 * The metrics checked against their definitions on hand-built cases: a
 * model whose score is a known linear function of the pixels gives known
 * confidence changes and deletion/insertion curves; localisation metrics on
 * maps placed by hand; and the helper numbers (percentile, Spearman, SSIM,
 * RISE's blur kernel) against numpy, scipy and skimage
 * (test/data/metrics/reference.json, from tools/crosscheck/gen_metrics_reference.py).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  averageDrop,
  confidenceChange,
  deletion,
  dropInConfidence,
  energyPointingGame,
  gaussianKernel1d,
  increaseInConfidence,
  insertion,
  linearImpute,
  percentile,
  pointingGame,
  relevanceMass,
  relevanceRank,
  riseBlur,
  road,
  spearmanCorrelation,
  ssim,
} from '../src/metrics/index.js';
import { Tensor } from '../src/tensor/tensor.js';

const reference = JSON.parse(readFileSync(new URL('./data/metrics/reference.json', import.meta.url), 'utf8'));

/** A model whose score is sum_e w_e x_e over every input element (C x H x W), as a scoring function. */
function linearScore(weights: Float32Array) {
  return (batch: Tensor): Float32Array => {
    const size = weights.length;
    const rows = batch.shape[0]!;
    const out = new Float32Array(rows);
    for (let r = 0; r < rows; r++) {
      let s = 0;
      for (let e = 0; e < size; e++) s += weights[e]! * batch.data[r * size + e]!;
      out[r] = s;
    }
    return out;
  };
}

const H = 6;
const W = 5;
const P = H * W;
/** One channel: weights with distinct values; input all ones, so contributions equal weights. */
const weights = Float32Array.from({ length: P }, (_, p) => ((p * 7) % P) / 4 - 2);
const ones = new Tensor(new Float32Array(P).fill(1), [1, 1, H, W]);

describe('confidence metrics on a linear model', () => {
  const map = Float32Array.from({ length: P }, (_, p) => (p % 3) / 2);
  const maps = new Tensor(map, [1, H, W]);
  const expectedChange = weights.reduce((s, w, p) => s + w * (map[p]! - 1), 0);
  const score = linearScore(weights);

  it('confidenceChange is score(x * map) - score(x)', () => {
    const r = confidenceChange(score, ones, maps);
    expect(r.scoreBefore[0]).toBeCloseTo(weights.reduce((s, w) => s + w, 0), 4);
    expect(r.value[0]).toBeCloseTo(expectedChange, 4);
    expect(Array.from(r.perturbed.data)).toEqual(Array.from(map));
    expect(r.cost).toEqual({ forwardPasses: 2, inputs: 2 });
  });

  it('drop, relative drop, average drop and increase follow from the change', () => {
    const before = weights.reduce((s, w) => s + w, 0);
    expect(dropInConfidence(score, ones, maps).value[0]).toBeCloseTo(Math.max(-expectedChange, 0), 4);
    expect(dropInConfidence(score, ones, maps, { relative: true }).value[0]).toBeCloseTo(Math.max(-expectedChange, 0) / (before + 1e-7), 5);
    const avg = averageDrop(score, ones, maps);
    expect(avg.mean).toBeCloseTo(avg.value[0]!, 7);
    expect(avg.value[0]).toBeCloseTo(Math.max(-expectedChange, 0) / (before + 1e-7), 5);
    const inc = increaseInConfidence(score, ones, maps);
    expect(inc.value[0]).toBe(expectedChange > 0 ? 1 : 0);
    // Negate the weights: the change flips sign, the increase flips.
    const flipped = increaseInConfidence(linearScore(weights.map((w) => -w)), ones, maps);
    expect(flipped.value[0]).toBe(expectedChange > 0 ? 0 : 1);
  });

  it('scores a batch with one target per image, rate over the batch', () => {
    const two = new Tensor(new Float32Array(2 * 2 * P).fill(1), [2, 2, H, W]);
    const classScores = (batch: Tensor) => {
      // Two classes: class 0 sums the first channel times w, class 1 the second times -w.
      const rows = batch.shape[0]!;
      const out = new Float32Array(rows * 2);
      for (let r = 0; r < rows; r++) {
        for (let p = 0; p < P; p++) {
          out[r * 2] = out[r * 2]! + weights[p]! * batch.data[r * 2 * P + p]!;
          out[r * 2 + 1] = out[r * 2 + 1]! - weights[p]! * batch.data[r * 2 * P + P + p]!;
        }
      }
      return out;
    };
    const r = increaseInConfidence(classScores, two, new Tensor(new Float32Array(2 * P).fill(0.5), [2, H, W]), { target: [0, 1] });
    const total = weights.reduce((s, w) => s + w, 0);
    // x * 0.5 halves both scores: class 0 (total > 0?) and class 1 (-total).
    expect(Array.from(r.value)).toEqual([total > 0 ? 0 : 1, total > 0 ? 1 : 0]);
    expect(r.rate).toBe(0.5);
    expect(r.targets).toEqual([0, 1]);
  });
});

describe('deletion and insertion on a linear model', () => {
  const score = linearScore(weights);
  const maps = new Tensor(weights.slice(), [1, H, W]);
  const order = Array.from({ length: P }, (_, p) => p).sort((a, b) => weights[b]! - weights[a]!);
  /** Score with the first k pixels of `order` taken from `from`, the rest from `rest`. */
  const partial = (k: number, from: Float32Array, rest: Float32Array) =>
    order.reduce((s, p, q) => s + weights[p]! * (q < k ? from[p]! : rest[p]!), 0);

  it("RISE's convention: step pixels per step, (sum - ends/2) / n", () => {
    const step = 4;
    const n = Math.ceil(P / step);
    const zero = new Float32Array(P);
    const one = new Float32Array(P).fill(1);
    const del = deletion(score, ones, maps, { step });
    const expected = Array.from({ length: n + 1 }, (_, i) => partial(Math.min(i * step, P), zero, one));
    del.curves[0]!.forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 4));
    const auc = (expected.reduce((s, v) => s + v, 0) - expected[0]! / 2 - expected[n]! / 2) / n;
    expect(del.value[0]).toBeCloseTo(auc, 4);
    expect(Array.from(del.fractions)).toEqual(Array.from({ length: n + 1 }, (_, i) => i / n));
    // The unperturbed point is not scored again: n more inputs after the first pass.
    expect(del.cost.inputs).toBe(1 + n);

    const ins = insertion(score, ones, maps, { step, substrate: 'zero' });
    const expectedIns = Array.from({ length: n + 1 }, (_, i) => partial(Math.min(i * step, P), one, zero));
    ins.curves[0]!.forEach((v, i) => expect(v).toBeCloseTo(expectedIns[i]!, 4));
    // A faithful map: deletion falls fastest and insertion rises fastest, so the AUCs order so.
    const reversed = insertion(score, ones, new Tensor(weights.map((w) => -w), [1, H, W]), { step, substrate: 'zero' });
    expect(ins.value[0]!).toBeGreaterThan(reversed.value[0]!);
  });

  it("torch-cam's convention: steps intervals, trapezoid over the fraction changed", () => {
    const steps = 7;
    const size = Math.ceil(P / steps); // 5 pixels, 6 intervals of 5
    const counts: number[] = [];
    for (let c = 0; c < P; c += size) counts.push(c);
    counts.push(P);
    const zero = new Float32Array(P);
    const one = new Float32Array(P).fill(1);
    const del = deletion(score, ones, maps, { convention: 'torch-cam', steps });
    expect(Array.from(del.fractions)).toEqual(counts.map((c) => c / P));
    const expected = counts.map((c) => partial(c, zero, one));
    del.curves[0]!.forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 4));
    let auc = 0;
    for (let i = 0; i + 1 < counts.length; i++) auc += ((expected[i]! + expected[i + 1]!) / 2) * ((counts[i + 1]! - counts[i]!) / P);
    expect(del.value[0]).toBeCloseTo(auc, 4);
  });

  it('blurred substrate: insertion starts from the blurred image', () => {
    const image = new Tensor(Float32Array.from({ length: P }, (_, p) => Math.sin(p)), [1, 1, H, W]);
    const blurred = riseBlur(image);
    const ins = insertion(score, image, maps, { step: P }); // one step: blurred, then the image
    expect(ins.curves[0]![0]).toBeCloseTo(weights.reduce((s, w, p) => s + w * blurred.data[p]!, 0), 4);
    expect(ins.curves[0]![1]).toBeCloseTo(weights.reduce((s, w, p) => s + w * image.data[p]!, 0), 4);
  });
});

describe("RISE's blur", () => {
  it('gkern(11, 5) equals scipy.ndimage.gaussian_filter of a dirac', () => {
    const g = gaussianKernel1d(11, 5);
    const kernel: number[] = reference.gkern.kernel;
    kernel.forEach((v, k) => expect(g[Math.floor(k / 11)]! * g[k % 11]!).toBeCloseTo(v, 12));
  });

  it('is a per-channel convolution with zero padding', () => {
    const image = new Float32Array(2 * 15 * 13);
    image[1 * 195 + 7 * 13 + 6] = 1; // a dirac in channel 1
    const out = riseBlur(new Tensor(image, [1, 2, 15, 13]));
    const g = gaussianKernel1d(11, 5);
    expect(out.data.subarray(0, 195).every((v) => v === 0)).toBe(true);
    expect(out.data[195 + 7 * 13 + 6]).toBeCloseTo(g[5]! * g[5]!, 7);
    expect(out.data[195 + 2 * 13 + 3]).toBeCloseTo(g[0]! * g[2]!, 7);
    expect(out.data[195 + 0 * 13 + 6]).toBe(0); // 7 rows away: outside the 11 x 11 kernel
  });
});

describe('ROAD on hand-built inputs', () => {
  const layout = { n: 1, channels: 1, height: 9, width: 8, positions: 72 };

  it('linear imputation reproduces a linear image inside a kept border', () => {
    const image = Float32Array.from({ length: 72 }, (_, p) => 0.5 * Math.floor(p / 8) - 0.25 * (p % 8) + 1);
    const keep = Float32Array.from({ length: 72 }, (_, p) => (Math.floor(p / 8) === 0 || Math.floor(p / 8) === 8 || p % 8 === 0 || p % 8 === 7 ? 1 : 0));
    const corrupted = image.map((v, p) => (keep[p] ? v : 100));
    const out = linearImpute(corrupted, keep, layout);
    out.forEach((v, p) => expect(v).toBeCloseTo(image[p]!, 5));
  });

  it('every removed pixel satisfies the 8-neighbour mean equation (random mask)', () => {
    const image = Float32Array.from({ length: 72 }, (_, p) => Math.cos(p * 1.7));
    const keep = Float32Array.from({ length: 72 }, (_, p) => ((p * 5) % 7 < 2 ? 1 : 0));
    const out = linearImpute(image, keep, layout);
    for (let p = 0; p < 72; p++) {
      if (keep[p]) {
        expect(out[p]).toBe(image[p]);
        continue;
      }
      const y = Math.floor(p / 8);
      const x = p % 8;
      let s = 0;
      for (const [dy, dx, w] of [[1, 1, 1 / 12], [0, 1, 1 / 6], [-1, 1, 1 / 12], [1, -1, 1 / 12], [0, -1, 1 / 6], [-1, -1, 1 / 12], [1, 0, 1 / 6], [-1, 0, 1 / 6]] as const) {
        if (y + dy < 0 || y + dy >= 9 || x + dx < 0 || x + dx >= 8) continue;
        s += w * (out[(y + dy) * 8 + x + dx]! - out[p]!);
      }
      expect(Math.abs(s)).toBeLessThan(1e-6);
    }
  });

  it('removes everything at or above the percentile (MoRF) and fills with zeros when nothing is kept', () => {
    const map = new Tensor(Float32Array.from({ length: 72 }, (_, p) => p / 71), [1, 9, 8]);
    const image = new Tensor(Float32Array.from({ length: 72 }, (_, p) => p), [1, 1, 9, 8]);
    const score = (b: Tensor) => Float32Array.from({ length: b.shape[0]! }, (_, r) => b.data[r * 72 + 71]!);
    const r = road(score, image, map, { percentile: 50, noise: 0 });
    // numpy: percentile of 0..71 / 71 at 50 is 35.5 / 71; pixels 0..35 kept.
    expect(r.threshold[0]).toBeCloseTo(35.5 / 71, 7);
    expect(Array.from(r.keep.data)).toEqual(Array.from({ length: 72 }, (_, p) => (p <= 35 ? 1 : 0)));
    const all = road(score, image, new Tensor(new Float32Array(72), [1, 9, 8]), { percentile: 20, noise: 0 });
    expect(all.imputed.data.every((v) => v === 0)).toBe(true);
    const lerf = road(score, image, map, { order: 'lerf', percentile: 50, noise: 0 });
    expect(Array.from(lerf.keep.data)).toEqual(Array.from({ length: 72 }, (_, p) => (p >= 36 ? 1 : 0)));
    // Noise is seeded: the same seed repeats, another seed differs.
    const a = road(score, image, map, { noise: 0.01, seed: 3 }).imputed.data;
    const b = road(score, image, map, { noise: 0.01, seed: 3 }).imputed.data;
    const c = road(score, image, map, { noise: 0.01, seed: 4 }).imputed.data;
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a)).not.toEqual(Array.from(c));
  });
});

describe('numbers against numpy, scipy and skimage', () => {
  it('percentile equals numpy.percentile on float32 data', () => {
    const values = Float32Array.from(reference.percentile.values as number[]);
    for (const { p, value } of reference.percentile.cases as { p: number; value: number }[]) expect(percentile(values, p)).toBe(value);
  });

  it('Spearman equals scipy.stats.spearmanr (ties averaged)', () => {
    const { a, b, c, ab, ac } = reference.spearman;
    expect(spearmanCorrelation(a, b)).toBeCloseTo(ab, 10);
    expect(spearmanCorrelation(a, c)).toBeCloseTo(ac, 10);
    expect(spearmanCorrelation(a, a)).toBe(1);
  });

  it("SSIM equals skimage's structural_similarity (7 x 7 window, data range of both maps)", () => {
    const { height, width, x, y, z, xy, xz } = reference.ssim;
    expect(ssim(x, y, height, width)).toBeCloseTo(xy, 10);
    expect(ssim(x, z, height, width)).toBeCloseTo(xz, 10);
    expect(ssim(x, x, height, width)).toBe(1);
  });

  it('torch compares float32 with a Python float in float32, as ROAD keeps pixels', () => {
    const { value, threshold, less } = reference.torch_float32_compare;
    expect(Math.fround(value) < Math.fround(threshold)).toBe(less);
  });
});

describe('localisation', () => {
  const input = new Tensor(new Float32Array(3 * 40 * 50), [1, 3, 40, 50]);
  const peakAt = (px: number, py: number) => {
    const m = new Float32Array(40 * 50);
    for (let y = 0; y < 40; y++) for (let x = 0; x < 50; x++) m[y * 50 + x] = Math.exp(-((x - px) ** 2 + (y - py) ** 2) / 50);
    return new Tensor(m, [1, 40, 50]);
  };
  const box = [10, 5, 20, 15] as const;

  it('pointing game: a peak inside the box scores 1, outside 0, within 15 px counts for TorchRay only', () => {
    expect(pointingGame(null, input, peakAt(12, 9), { boxes: [box] }).value[0]).toBe(1);
    expect(pointingGame(null, input, peakAt(12, 9), { boxes: box, tolerance: 0 }).value[0]).toBe(1);
    const near = peakAt(30, 10); // 10 px right of the box
    expect(pointingGame(null, input, near, { boxes: [box] }).value[0]).toBe(1);
    expect(pointingGame(null, input, near, { boxes: [box], tolerance: 0 }).value[0]).toBe(0);
    // Exactly 15 px away misses: TorchRay accepts distances strictly below the tolerance.
    expect(pointingGame(null, input, peakAt(35, 10), { boxes: [box] }).value[0]).toBe(0);
    expect(pointingGame(null, input, peakAt(34, 10), { boxes: [box] }).value[0]).toBe(1);
    const r = pointingGame(null, input, peakAt(45, 35), { boxes: [box] });
    expect(r.value[0]).toBe(0);
    expect(r.points).toEqual([[45, 35]]);
  });

  it("pointing game ties: 'first' tests the first maximum, 'any' (Quantus) every one", () => {
    const m = new Float32Array(40 * 50);
    m[0] = 1; // first maximum, outside
    m[10 * 50 + 15] = 1; // a second one, inside
    const maps = new Tensor(m, [1, 40, 50]);
    expect(pointingGame(null, input, maps, { boxes: [box], tolerance: 0 }).value[0]).toBe(0);
    expect(pointingGame(null, input, maps, { boxes: [box], tolerance: 0, ties: 'any' }).value[0]).toBe(1);
  });

  it('energy pointing game, relevance mass and rank by hand', () => {
    const m = new Float32Array(40 * 50);
    m[10 * 50 + 12] = 3; // inside
    m[6 * 50 + 19] = 1; // inside
    m[30 * 50 + 40] = 2; // outside
    m[0] = -4; // outside, negative
    const maps = new Tensor(m, [1, 40, 50]);
    expect(energyPointingGame(null, input, maps, { boxes: [box] }).value[0]).toBeCloseTo(4 / 6, 6);
    expect(relevanceMass(null, input, maps, { boxes: [box] }).value[0]).toBeCloseTo(4 / 2, 6);
    expect(relevanceMass(null, input, maps, { boxes: [box], abs: true }).value[0]).toBeCloseTo(4 / 10, 6);
    // A 3-pixel region holding the three positive values: all of its top 3.
    const mask = new Float32Array(40 * 50);
    mask[10 * 50 + 12] = mask[6 * 50 + 19] = mask[30 * 50 + 40] = 1;
    expect(relevanceRank(null, input, maps, { masks: new Tensor(mask, [1, 40, 50]) }).value[0]).toBeCloseTo(1, 6);
    // The box's top 121: 3 (inside), 2 (outside), 1 (inside), then 118 zeros in index order,
    // positions 1..118 of rows 0-2, none in the box: 2 hits.
    expect(relevanceRank(null, input, maps, { boxes: [box] }).value[0]).toBeCloseTo(2 / 121, 6);
  });
});
