/**
 * augSmooth and eigenSmooth (pytorch-grad-cam's aug_smooth / eigen_smooth)
 * against fixtures2's Part B references, and their contracts on tiny models:
 * a flip-symmetric model gives the plain map back, per-channel terms project.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { eigenCam, gradCam, hiResCam, layerCam } from '../src/cam/index.js';
import { Module } from '../src/layers/module.js';
import { mul } from '../src/tensor/ops/elementwise.js';
import { mean, sum } from '../src/tensor/ops/reduce.js';
import { reshape } from '../src/tensor/ops/shape.js';
import { randn } from '../src/tensor/random.js';
import { loadSafetensors } from '../src/tensor/safetensors.js';
import { Parameter, Tensor } from '../src/tensor/tensor.js';
import { buildFixtureModel, type FixtureModelName } from './helpers/fixture-models.js';
import { describeShared, SHARED } from './helpers/shared.js';

interface PartBCase {
  id: string;
  file: string;
  part?: string;
  model: FixtureModelName;
  layer: { module: string };
  target: { category: number };
  methods: string[];
  tolerances: Record<string, Record<string, number | boolean>>;
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < b.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  return worst;
}

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
}

describeShared('fixtures2', 'augSmooth and eigenSmooth on fixtures2 Part B (pytorch-grad-cam 084273b)', () => {
  const root = join(SHARED, 'fixtures2');
  const manifest = JSON.parse(readFileSync(join(root, 'manifest.json'), 'utf8')) as { cases: PartBCase[] };
  const cases = manifest.cases.filter((c) => c.methods?.includes('gradcam_aug_smooth'));
  const models = new Map<string, Module>();
  const modelFor = (name: FixtureModelName) => models.get(name) ?? models.set(name, buildFixtureModel(name)).get(name)!;

  it('has Part B cases to check', () => expect(cases.length).toBeGreaterThan(0));
  for (const c of cases) {
    it(c.id, () => {
      const ref = loadSafetensors(new Uint8Array(readFileSync(join(root, c.file))));
      const model = modelFor(c.model);
      const input = ref.input!;
      const call = { layer: c.layer.module, target: c.target.category };

      const aug = gradCam(model, input, { ...call, augSmooth: true });
      const tolAug = c.tolerances.gradcam_aug_smooth!;
      expect(maxDiff(aug.augmentedMaps!.data, ref['gradcam_aug_smooth/per_augmentation']!.data), 'per augmentation').toBeLessThanOrEqual(tolAug.per_augmentation as number);
      expect(maxDiff(aug.maps.data, ref['gradcam_aug_smooth/upsampled']!.data), 'aug_smooth map').toBeLessThanOrEqual(tolAug.upsampled as number);

      const eig = gradCam(model, input, { ...call, eigenSmooth: true });
      const tolEig = c.tolerances.gradcam_eigen_smooth!;
      const weightsRef = ref['gradcam_eigen_smooth/weights']!;
      expect(maxDiff(eig.layers[0]!.weights!.data, weightsRef.data)).toBeLessThanOrEqual((tolEig.weights as number) * maxAbs(weightsRef.data));
      // The projection's sign is LAPACK's choice in the reference: compare up to sign.
      const rawRef = ref['gradcam_eigen_smooth/raw']!;
      const raw = eig.layers[0]!.raw.data;
      let dot = 0;
      for (let i = 0; i < raw.length; i++) dot += raw[i]! * rawRef.data[i]!;
      const sign = dot < 0 ? -1 : 1;
      const aligned = Float32Array.from(raw, (v) => sign * v);
      expect(maxDiff(aligned, rawRef.data), 'eigen_smooth raw').toBeLessThanOrEqual((tolEig.raw as number) * maxAbs(rawRef.data));
      if (sign === 1) expect(maxDiff(eig.maps.data, ref['gradcam_eigen_smooth/upsampled']!.data)).toBeLessThanOrEqual(tolEig.upsampled as number);
    });
  }
});

/** y[n,k,h,w] = sum_c W[k,c] x[n,c,h,w]; logits = spatial mean. Symmetric under horizontal flips. */
class Pointwise extends Module {
  weight: Parameter;
  constructor() {
    super();
    const w = randn([3, 2], { seed: 12 });
    this.weight = new Parameter(w.data, w.shape);
  }
  override forward(x: Tensor): Tensor {
    const [n, c, h, w] = x.shape as [number, number, number, number];
    return reshape(sum(mul(reshape(x, [n, 1, c, h * w]), reshape(this.weight, [1, 3, c, 1])), 2), [n, 3, h, w]);
  }
}
class Net extends Module {
  mix = new Pointwise();
  override forward(x: Tensor): Tensor {
    return mean(this.mix.forward(x), [2, 3]);
  }
}

describe('smoothing contracts', () => {
  const model = new Net();
  const x = randn([2, 2, 4, 5], { seed: 3 });

  it('augSmooth on a pointwise model: each augmentation is the flipped / scaled plain map, flipped back it averages to the plain map', () => {
    const plain = gradCam(model, x, { layer: 'mix', target: 1 });
    const aug = gradCam(model, x, { layer: 'mix', target: 1, augSmooth: true });
    // Min-max maps of a pointwise linear model are invariant to the input scale, and flipping commutes with it.
    for (let i = 0; i < plain.maps.size; i++) expect(aug.maps.data[i]).toBeCloseTo(plain.maps.data[i]!, 5);
    expect(aug.augmentedMaps!.shape).toEqual([2, 6, 4, 5]);
    const flipped = aug.augmentedMaps!.data.subarray(4 * 20, 5 * 20); // image 0, (flip, x1)
    for (let r = 0; r < 4; r++) for (let c = 0; c < 5; c++) expect(flipped[r * 5 + c]).toBeCloseTo(plain.maps.data[r * 5 + (4 - c)]!, 5);
    expect(aug.targets).toEqual([1, 1]);
  });

  it('eigenSmooth projects the per-channel terms: HiResCAM dA * A, LayerCAM relu(dA) * A, Grad-CAM w * A', () => {
    for (const method of [gradCam, hiResCam, layerCam]) {
      const r = method(model, x, { layer: 'mix', target: 0, eigenSmooth: true });
      expect(r.layers[0]!.raw.shape).toEqual([2, 4, 5]);
      expect(r.maps.data.every(Number.isFinite)).toBe(true);
    }
    // With one non-zero channel weight, the terms have rank one: the projection is that channel, centred, up to scale.
    const r = gradCam(model, x, { layer: 'mix', target: 2, eigenSmooth: true });
    const a = model.mix.forward(x);
    for (let n = 0; n < 2; n++) {
      const channel = Array.from(a.data.subarray((n * 3 + 2) * 20, (n * 3 + 3) * 20));
      const m = channel.reduce((s, v) => s + v, 0) / 20;
      const centred = channel.map((v) => v - m);
      const raw = Array.from(r.layers[0]!.raw.data.subarray(n * 20, (n + 1) * 20));
      const scale = raw.reduce((t, v, i) => t + v * centred[i]!, 0) / centred.reduce((t, v) => t + v * v, 0);
      raw.forEach((v, i) => expect(v).toBeCloseTo(centred[i]! * scale, 4));
    }
    expect(() => eigenCam(model, x, { layer: 'mix', eigenSmooth: true })).toThrow(/'eigenSmooth' needs a method whose map is a sum over channels/);
    expect(() => gradCam(model, x, { layer: 'mix', augSmooth: 'yes' as never })).toThrow(/'augSmooth' must be true or false/);
  });
});
