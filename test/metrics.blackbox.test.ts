/**
 * The black-box methods (RISE, occlusion, feature ablation): exact maps of
 * linear models, captum's own occlusion test cases, seeded reproducibility,
 * passed-in masks, and the shapes model explained through a scoring function
 * and through its Module with the same result.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { featureAblation, gridSegments, occlusion, rise, riseMaskFromGrid, riseMasks, slicSegments } from '../src/metrics/index.js';
import { generateScenes, TEST_SEED_BASE } from '../examples/shapes/generate.js';
import { scenesToTensor } from '../examples/shapes/data.js';
import { loadShapesNet, WEIGHTS_FILE } from '../examples/shapes/weights.js';
import { Module } from '../src/layers/module.js';
import { Conv2d } from '../src/layers/conv.js';
import { Linear } from '../src/layers/linear.js';
import { ReLU } from '../src/layers/activation.js';
import { flatten } from '../src/tensor/ops/shape.js';
import { noGrad } from '../src/tensor/autograd.js';
import { Tensor } from '../src/tensor/tensor.js';
import { pearsonCorrelation } from '../src/metrics/statistics.js';

const reference = JSON.parse(readFileSync(new URL('./data/metrics/reference.json', import.meta.url), 'utf8'));

/** score = sum_e w_e x_e, one row per input. */
function linearScore(weights: Float32Array) {
  return (batch: Tensor): Float32Array =>
    Float32Array.from({ length: batch.shape[0]! }, (_, r) => weights.reduce((s, w, e) => s + w * batch.data[r * weights.length + e]!, 0));
}

describe('occlusion (captum.attr.Occlusion)', () => {
  it('a 1 x 1 window over all channels gives each pixel its contribution to a linear score', () => {
    const H = 5;
    const W = 4;
    const w = Float32Array.from({ length: 3 * H * W }, (_, e) => Math.sin(e) * 2);
    const x = new Tensor(Float32Array.from({ length: 3 * H * W }, (_, e) => 1 + (e % 5) / 10), [1, 3, H, W]);
    const r = occlusion(linearScore(w), x, { window: 1 });
    for (let p = 0; p < H * W; p++) {
      const contribution = [0, 1, 2].reduce((s, c) => s + w[c * H * W + p]! * x.data[c * H * W + p]!, 0);
      for (let c = 0; c < 3; c++) expect(r.attributions.data[c * H * W + p]).toBeCloseTo(contribution, 4);
      expect(r.maps.data[p]).toBeCloseTo(contribution, 4);
    }
    expect(r.cost.inputs).toBe(1 + H * W);
  });

  // BasicModel_MultiLayer of captum's tests: linear1 (ones, bias [-10, 1, 1, 1]), ReLU, linear2 (ones, bias [-1, 1]), target 0.
  const multiLayer = (batch: Tensor) =>
    Float32Array.from({ length: batch.shape[0]! }, (_, r) => {
      const s = batch.data[r * 3]! + batch.data[r * 3 + 1]! + batch.data[r * 3 + 2]!;
      return Math.max(s - 10, 0) + 3 * Math.max(s + 1, 0) - 1;
    });
  const x = new Tensor(Float32Array.of(20, 50, 30), [1, 1, 1, 3]);

  it("captum's test_simple_input_shape_with_stride: window 2, stride 2, the last window cut at the edge", () => {
    expect(Array.from(occlusion(multiLayer, x, { window: [1, 2], stride: 2 }).attributions.data)).toEqual([280, 280, 120]);
  });

  it("captum's test_simple_input_larger_shape: overlapping windows averaged, baseline 10", () => {
    expect(Array.from(occlusion(multiLayer, x, { window: [1, 2], baseline: 10 }).attributions.data)).toEqual([200, 220, 240]);
  });

  it("captum's test_simple_multi_input_conv (first input; the second, ones, added unchanged) through a Module", () => {
    // BasicModel_ConvNet_One_Conv: conv 3x3 of ones (bias -50, -75), ReLU, view(-1, 8), fc1 [ones(4,5), -ones(4,3)], ReLU.
    class Net extends Module {
      conv1 = new Conv2d(1, 2, 3);
      relu1 = new ReLU();
      fc1 = new Linear(8, 4);
      relu2 = new ReLU();
      override forward(input: Tensor): Tensor {
        const plusOnes = new Tensor(input.data.map((v) => v + 1), input.shape);
        return this.relu2.forward(this.fc1.forward(flatten(this.relu1.forward(this.conv1.forward(plusOnes)), 1)));
      }
    }
    const net = new Net();
    net.loadStateDict({
      'conv1.weight': new Tensor(new Float32Array(18).fill(1), [2, 1, 3, 3]),
      'conv1.bias': new Tensor(Float32Array.of(-50, -75), [2]),
      'fc1.weight': new Tensor(Float32Array.from({ length: 32 }, (_, i) => (i % 8 < 5 ? 1 : -1)), [4, 8]),
      'fc1.bias': new Tensor(new Float32Array(4), [4]),
    });
    const input = new Tensor(Float32Array.from({ length: 16 }, (_, i) => i), [1, 1, 4, 4]);
    const r = occlusion(net, input, { window: [1, 2, 3], stride: [1, 2, 1], target: 0 });
    expect(Array.from(r.attributions.data)).toEqual([17, 17, 17, 17, 17, 17, 17, 17, 64, 65.5, 65.5, 67, 64, 65.5, 65.5, 67]);
    expect(occlusion(net, input, { window: [1, 4, 4], target: 0 }).attributions.data.every((v) => v === 67)).toBe(true);
  });
});

describe('RISE', () => {
  it("makes its masks as RISE does (skimage's resize of the grid, cropped at the shift)", () => {
    for (const c of reference.rise_masks.cases as { cells: number; height: number; width: number; grid: number[]; shiftY: number; shiftX: number; mask: number[] }[]) {
      const mask = riseMaskFromGrid(c.grid, c.cells, c.height, c.width, c.shiftY, c.shiftX);
      c.mask.forEach((v, i) => expect(mask[i]).toBeCloseTo(v, 6));
    }
  });

  it('with every binary mask of 8 pixels, equals w x (1 - p) + p sum(w x) for a linear score exactly', () => {
    const w = Float32Array.of(0.5, -1, 2, 0.25, 1.5, -0.5, 3, 1);
    const masks = new Tensor(Float32Array.from({ length: 256 * 8 }, (_, i) => (Math.floor(i / 8) >> i % 8) & 1), [256, 2, 4]);
    const x = new Tensor(new Float32Array(8).fill(1), [1, 1, 2, 4]);
    const r = rise(linearScore(w), x, { masks, probability: 0.5 });
    const total = w.reduce((s, v) => s + v, 0);
    w.forEach((v, p) => expect(r.maps.data[p]).toBeCloseTo(0.5 * v + 0.5 * total, 5));
    expect(r.scores.shape).toEqual([1, 256]);
  });

  it('with random smooth masks, recovers the weight pattern of a linear model up to scale', () => {
    const H = 24;
    const W = 24;
    // A bump with its mean removed: RISE's estimate carries a term p * score that is the same
    // for every pixel in expectation but noisy across pixels; a zero-mean score keeps it small.
    const bump = Float32Array.from({ length: H * W }, (_, p) => Math.exp(-(((p % W) - 7) ** 2 + (Math.floor(p / W) - 15) ** 2) / 30));
    const mean = bump.reduce((s, v) => s + v, 0) / bump.length;
    const w = bump.map((v) => v - mean);
    const x = new Tensor(new Float32Array(H * W).fill(1), [1, 1, H, W]);
    const r = rise(linearScore(w), x, { masks: 1000, cells: 8, seed: 1 });
    // Smooth masks blur the pattern a little (the masks' autocorrelation): not 1, but close.
    expect(pearsonCorrelation(r.maps.data, w)).toBeGreaterThan(0.95);
    // Seeded: the same seed repeats; the masks it used are riseMasks(...) with that seed.
    const again = rise(linearScore(w), x, { masks: riseMasks(1000, H, W, { cells: 8, seed: 1 }) });
    expect(Array.from(again.maps.data)).toEqual(Array.from(r.maps.data));
    const other = rise(linearScore(w), x, { masks: 1000, cells: 8, seed: 2 });
    expect(Array.from(other.maps.data)).not.toEqual(Array.from(r.maps.data));
  });
});

describe('feature ablation', () => {
  it('gives every pixel of a segment the contribution of the whole segment to a linear score', () => {
    const H = 6;
    const W = 8;
    const w = Float32Array.from({ length: H * W }, (_, p) => (p % 7) - 3);
    const x = new Tensor(Float32Array.from({ length: H * W }, (_, p) => 1 + p / 10), [1, 1, H, W]);
    const r = featureAblation(linearScore(w), x, { segments: { grid: [2, 4] } });
    const segments = gridSegments(H, W, [2, 4]).data;
    for (let p = 0; p < H * W; p++) {
      const expected = w.reduce((s, v, q) => s + (segments[q] === segments[p] ? v * x.data[q]! : 0), 0);
      expect(r.maps.data[p]).toBeCloseTo(expected, 4);
    }
    expect(r.cost.inputs).toBe(1 + 8);
  });

  it('SLIC keeps every superpixel inside one of two flat regions', () => {
    const H = 30;
    const W = 40;
    const values = new Float32Array(3 * H * W);
    for (let y = 0; y < H; y++) for (let xx = 0; xx < W; xx++) values[(xx < 17 ? 0 : 2) * H * W + y * W + xx] = 1;
    const seg = slicSegments(values, 3, H, W, { segments: 12 }).data;
    const side = new Map<number, Set<boolean>>();
    seg.forEach((id, p) => side.set(id, (side.get(id) ?? new Set()).add(p % W < 17)));
    for (const sides of side.values()) expect(sides.size).toBe(1);
    expect(side.size).toBeGreaterThanOrEqual(6);
    expect(side.size).toBeLessThanOrEqual(24);
    expect(Math.max(...seg)).toBe(side.size - 1);
  });
});

describe('the shapes model through a scoring function and through its Module', () => {
  const { model } = loadShapesNet(readFileSync(fileURLToPath(new URL(`../examples/shapes/${WEIGHTS_FILE}`, import.meta.url))));
  const input = scenesToTensor(generateScenes(TEST_SEED_BASE, 2));
  const score = (batch: Tensor) => noGrad(() => model.forward(batch));

  it('rise gives the same map both ways', () => {
    const viaModule = rise(model, input, { masks: 24, seed: 5, batchSize: 12 });
    const viaFunction = rise(score, input, { masks: 24, seed: 5, batchSize: 12 });
    expect(viaFunction.targets).toEqual(viaModule.targets);
    expect(Array.from(viaFunction.maps.data)).toEqual(Array.from(viaModule.maps.data));
    expect(viaModule.cost).toEqual({ forwardPasses: 1 + 2 * 2, inputs: 2 + 2 * 24 });
  });

  it('occlusion gives the same map both ways', () => {
    const viaModule = occlusion(model, input, { window: 32, stride: 16 });
    const viaFunction = occlusion(score, input, { window: 32, stride: 16 });
    expect(Array.from(viaFunction.maps.data)).toEqual(Array.from(viaModule.maps.data));
    expect(model.training).toBe(false);
  });
});
