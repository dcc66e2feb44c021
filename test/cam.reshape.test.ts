/**
 * Token and channels-last layers (vitReshape, swinReshape, any function),
 * the errors that say which one to use, and signals and volumes: CAM over
 * 1 and 3 spatial axes, with maps resized by linear / trilinear interpolation.
 */
import { describe, expect, it } from 'vitest';
import { gradCam, hiResCam, layerCam, resizeMaps, scoreCam, swinReshape, vitReshape } from '../src/cam/index.js';
import { Module } from '../src/layers/module.js';
import { ShapeError } from '../src/tensor/errors.js';
import { mul } from '../src/tensor/ops/elementwise.js';
import { mean, sum } from '../src/tensor/ops/reduce.js';
import { concat, permute, reshape } from '../src/tensor/ops/shape.js';
import { randn } from '../src/tensor/random.js';
import { Parameter, Tensor } from '../src/tensor/tensor.js';

/** Channel mixing along axis 1 of [N, C, ...]: y[n,k,...] = sum_c W[k,c] x[n,c,...]. */
class Mix extends Module {
  weight: Parameter;
  constructor(inC: number, outC: number, seed: number) {
    super();
    const w = randn([outC, inC], { seed });
    this.weight = new Parameter(w.data, w.shape);
  }
  override forward(x: Tensor): Tensor {
    const [n, c] = x.shape as [number, number];
    const rest = x.shape.slice(2);
    const size = x.size / (n * c);
    const k = this.weight.shape[0]!;
    return reshape(sum(mul(reshape(x, [n, 1, c, size]), reshape(this.weight, [1, k, c, 1])), 2), [n, k, ...rest]);
  }
}

/** Mixing along the last axis of tokens [N, T, C]. */
class TokenMix extends Module {
  weight: Parameter;
  constructor(c: number, seed: number) {
    super();
    const w = randn([c, c], { seed });
    this.weight = new Parameter(w.data, w.shape);
  }
  override forward(t: Tensor): Tensor {
    const [n, count, c] = t.shape as [number, number, number];
    return reshape(sum(mul(reshape(t, [n, count, 1, c]), reshape(this.weight, [1, 1, c, c])), 3), [n, count, c]);
  }
}

/** A toy vision transformer: pixels of [N, 3, 3, 4] as 12 patch tokens of 3 channels after a class token; 'block' mixes tokens; the class token's... mean over tokens -> 3 logits. */
class ToyVit extends Module {
  block = new TokenMix(3, 21);
  override forward(x: Tensor): Tensor {
    const [n, c, h, w] = x.shape as [number, number, number, number];
    const patches = permute(reshape(x, [n, c, h * w]), [0, 2, 1]); // [N, hw, C]
    const cls = new Tensor(new Float32Array(n * c).fill(0.5), [n, 1, c]);
    const tokens = this.block.forward(concat([cls, patches], 1)); // [N, 1 + hw, C]
    return mean(tokens, 1);
  }
}

const image = randn([2, 3, 3, 4], { seed: 1 });

describe('vitReshape', () => {
  const model = new ToyVit();
  it('drops the class token and lays patches on the grid; Grad-CAM equals it computed by hand on the grid', () => {
    const r = gradCam(model, image, { layer: 'block', target: 1, reshape: vitReshape({ grid: [3, 4] }) });
    // logits = mean over 13 tokens: dlogit_1 / dtoken[t, k] = [k == 1] / 13 at every token.
    const weights = r.layers[0]!.weights!;
    expect(Array.from(weights.data).map((v) => Math.round(v * 13 * 1e5) / 1e5)).toEqual([0, 1, 0, 0, 1, 0]);
    const tokens = model.block.forward(concat([new Tensor(new Float32Array(6).fill(0.5), [2, 1, 3]), permute(reshape(image, [2, 3, 12]), [0, 2, 1])], 1));
    for (let n = 0; n < 2; n++) {
      for (let p = 0; p < 12; p++) {
        // raw at cell p = sum_k w_k A[k, p] = token (1 + p), channel 1, over 13
        expect(r.layers[0]!.raw.data[n * 12 + p]).toBeCloseTo(tokens.data[(n * 13 + 1 + p) * 3 + 1]! / 13, 6);
      }
    }
    expect(r.layers[0]!.raw.shape).toEqual([2, 3, 4]);
    expect(r.maps.shape).toEqual([2, 3, 4]);
  });

  it('Score-CAM upsamples the reshaped activations', () => {
    const r = scoreCam(model, image, { layer: 'block', target: 0, reshape: vitReshape({ grid: [3, 4] }) });
    expect(r.layers[0]!.scores.shape).toEqual([2, 3]);
    expect(r.maps.data.every(Number.isFinite)).toBe(true);
  });

  it('a token layer without a reshape says which one to use; grids that do not fit are typed errors', () => {
    expect(() => gradCam(model, image, { layer: 'block' })).toThrow(/outputs tokens \[2, 13, 3\], not \[N, C, h, w\]; pass reshape: vitReshape\(\{ grid: \[rows, columns\], prefixTokens \}\) with rows \* columns \+ prefixTokens = 13/);
    expect(() => gradCam(model, image, { layer: 'block', reshape: vitReshape() })).toThrow(/leave 12 patch tokens, which is not a square number; pass grid/);
    expect(() => gradCam(model, image, { layer: 'block', reshape: vitReshape({ grid: [2, 5] }) })).toThrow(/do not fill the grid 2x5/);
    expect(() => vitReshape({ grid: [0, 3] })).toThrow(/'grid' must be \[rows, columns\] of positive integers/);
    expect(() => gradCam(model, image, { layer: 'block', reshape: (t) => reshape(t, [2, 39]) })).toThrow(/the 'reshape' transform turned .* into \[2, 39\]; it must give \[N, C, \.\.\.spatial\]/);
  });

  it('infers a square grid and tells the inferred grid in the error', () => {
    const square = randn([1, 3, 2, 2], { seed: 3 });
    const r = layerCam(model, square, { layer: 'block', target: 2, reshape: vitReshape() });
    expect(r.layers[0]!.raw.shape).toEqual([1, 2, 2]);
    expect(() => gradCam(model, square, { layer: 'block' })).toThrow(/vitReshape\(\) \(5 tokens = 1 class token \+ a 2x2 grid\)/);
  });
});

describe('swinReshape', () => {
  /** A channels-last model: 'stage' outputs [N, h, w, C]. */
  class ChannelsLast extends Module {
    stage = new Mix(3, 3, 4);
    override forward(x: Tensor): Tensor {
      const y = permute(this.stage.forward(x), [0, 2, 3, 1]);
      return mean(y, [1, 2]);
    }
  }
  it('[N, h, w, C] -> [N, C, h, w]: HiResCAM through the channels-last view equals the channels-first layer', () => {
    const model = new ChannelsLast();
    const direct = hiResCam(model, image, { layer: 'stage', target: 2 });
    // A channels-first layer reshaped by a permutation and back gives the same numbers.
    const viaSwin = hiResCam(model, image, { layer: 'stage', target: 2, reshape: (t) => swinReshape()(permute(t, [0, 2, 3, 1])) });
    expect(Array.from(viaSwin.layers[0]!.raw.data)).toEqual(Array.from(direct.layers[0]!.raw.data));
    const tokens = swinReshape({ grid: [3, 4] })(randn([1, 12, 5], { seed: 1 }));
    expect(tokens.shape).toEqual([1, 5, 3, 4]);
    expect(() => swinReshape()(randn([1, 12, 5], { seed: 1 }))).toThrow(ShapeError);
  });
});

describe('signals [N, C, L] and volumes [N, C, D, H, W]', () => {
  class Net extends Module {
    features = new Mix(2, 3, 9);
    override forward(x: Tensor): Tensor {
      return mean(this.features.forward(x), Array.from({ length: x.ndim - 2 }, (_, i) => i + 2));
    }
  }
  it('Grad-CAM over one spatial axis: mean of dA over L, maps [N, L]', () => {
    const x = randn([2, 2, 5], { seed: 4 });
    const model = new Net();
    const r = gradCam(model, x, { target: 1 });
    expect(r.layers[0]!.name).toBe('features');
    expect(r.maps.shape).toEqual([2, 5]);
    const a = model.features.forward(x);
    for (let n = 0; n < 2; n++) for (let p = 0; p < 5; p++) expect(r.layers[0]!.raw.data[n * 5 + p]).toBeCloseTo(a.data[(n * 3 + 1) * 5 + p]! / 5, 6);
  });
  it('Grad-CAM over three spatial axes: maps [N, D, H, W]', () => {
    const x = randn([1, 2, 2, 3, 3], { seed: 4 });
    const r = gradCam(new Net(), x, { target: 0 });
    expect(r.maps.shape).toEqual([1, 2, 3, 3]);
    expect(r.layers[0]!.weights!.data[0]).toBeCloseTo(1 / 18, 7);
  });
});

describe('resizeMaps', () => {
  /** Linear interpolation with half-pixel centres along one axis, clamped at the edges (align_corners=False). */
  const sample = (values: (i: number) => number, n: number, out: number, at: number): number => {
    const src = Math.max((at + 0.5) * (n / out) - 0.5, 0);
    const i0 = Math.min(Math.floor(src), n - 1);
    const i1 = Math.min(i0 + 1, n - 1);
    const t = src - i0;
    return values(i0) * (1 - t) + values(i1) * t;
  };
  it('is linear along one axis and trilinear along three, as a naive per-axis formula', () => {
    const line = randn([1, 4], { seed: 2 });
    const up = resizeMaps(line, [9]);
    for (let j = 0; j < 9; j++) expect(up.data[j]).toBeCloseTo(sample((i) => line.data[i]!, 4, 9, j), 6);
    const vol = randn([1, 2, 3, 2], { seed: 3 });
    const big = resizeMaps(vol, [3, 5, 4]);
    const at = (d: number, h: number, w: number) => vol.data[(d * 3 + h) * 2 + w]!;
    for (let D = 0; D < 3; D++) for (let H = 0; H < 5; H++) for (let W = 0; W < 4; W++) {
      const v = sample((d) => sample((h) => sample((w) => at(d, h, w), 2, 4, W), 3, 5, H), 2, 3, D);
      expect(big.data[(D * 5 + H) * 4 + W]).toBeCloseTo(v, 5);
    }
    expect(() => resizeMaps(line, [3, 3])).toThrow(/give one positive integer size per spatial axis/);
    expect(() => resizeMaps(line, [2.5])).toThrow(/positive integer/);
  });
});
