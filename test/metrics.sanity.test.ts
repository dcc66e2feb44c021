/**
 * The model parameter randomisation test (Adebayo et al. 2018, Quantus's
 * MPRT): Grad-CAM of the shapes model stops resembling itself as layers are
 * re-initialised; a "method" that only looks at the image, or randomising a
 * layer the model never calls, keeps a rank correlation and SSIM of 1; and the
 * model's parameters come back afterwards, even when the method throws.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { gradCam } from '../src/cam/index.js';
import { modelParameterRandomisation } from '../src/metrics/index.js';
import { generateScenes, TEST_SEED_BASE } from '../examples/shapes/generate.js';
import { scenesToTensor } from '../examples/shapes/data.js';
import { loadShapesNet, WEIGHTS_FILE } from '../examples/shapes/weights.js';
import { Module } from '../src/layers/module.js';
import { Linear } from '../src/layers/linear.js';
import { Tensor } from '../src/tensor/tensor.js';
import { ArgumentError } from '../src/tensor/errors.js';

const { model } = loadShapesNet(readFileSync(fileURLToPath(new URL(`../examples/shapes/${WEIGHTS_FILE}`, import.meta.url))));
const input = scenesToTensor(generateScenes(TEST_SEED_BASE, 3));
const layer = 'features.13';
const maps = gradCam(model, input, { layer }).maps;
const parameters = () => model.parameters().map((p) => Array.from(p.data));

describe('model parameter randomisation', () => {
  it('cascading from the top, the last step (every layer random) leaves little rank correlation', () => {
    const before = parameters();
    const r = modelParameterRandomisation(model, input, maps, { methodOptions: { layer } });
    expect(r.steps.map((s) => s.layer)).toEqual(['fc', 'features.12', 'features.11', 'features.9', 'features.8', 'features.5', 'features.4', 'features.1', 'features.0']);
    const last = r.steps[r.steps.length - 1]!;
    expect(Array.from(r.value)).toEqual(Array.from(last.spearman));
    const mean = last.spearman.reduce((s, v) => s + v, 0) / 3;
    expect(mean).toBeLessThan(0.5);
    for (const v of last.ssim) expect(v).toBeLessThan(0.8);
    expect(last.maps.shape).toEqual([3, 64, 64]);
    expect(parameters()).toEqual(before);
  });

  it('a method that ignores the model keeps 1 at every step (the failure the test exists to catch)', () => {
    const imageOnly = (_m: never, x: Tensor) => {
      const out = new Float32Array(3 * 64 * 64);
      for (let i = 0; i < out.length; i++) {
        const n = Math.floor(i / 4096);
        out[i] = Math.abs(x.data[n * 3 * 4096 + (i % 4096)]!);
      }
      return { maps: new Tensor(out, [3, 64, 64]) };
    };
    const original = imageOnly(undefined as never, input).maps;
    const r = modelParameterRandomisation(model, input, original, { method: imageOnly, order: 'bottom-up' });
    for (const step of r.steps) {
      expect(Array.from(step.spearman)).toEqual([1, 1, 1]);
      expect(Array.from(step.ssim)).toEqual([1, 1, 1]);
    }
  });

  it('randomising a layer the model never calls changes nothing', () => {
    class WithSpare extends Module {
      constructor(readonly inner: Module, readonly spare: Linear) {
        super();
      }
      override forward(x: Tensor): Tensor {
        return this.inner.forward(x);
      }
    }
    const wrapped = new WithSpare(model, new Linear(4, 4, { seed: 1 }));
    const r = modelParameterRandomisation(wrapped, input, maps, { layers: ['spare'], methodOptions: { layer: `inner.${layer}` } });
    expect(Array.from(r.value)).toEqual([1, 1, 1]);
    expect(Array.from(r.steps[0]!.ssim)).toEqual([1, 1, 1]);
  });

  it('puts the parameters back when the method throws, and refuses scoring functions', () => {
    const before = parameters();
    let calls = 0;
    const failing = (m: never, x: Tensor, o: object) => {
      if (++calls === 2) throw new Error('boom');
      return gradCam(m as unknown as Module, x, o);
    };
    expect(() => modelParameterRandomisation(model, input, maps, { method: failing as never, methodOptions: { layer } })).toThrow('boom');
    expect(parameters()).toEqual(before);
    expect(() => modelParameterRandomisation(((b: Tensor) => b.data) as never, input, maps)).toThrow(ArgumentError);
    expect(() => modelParameterRandomisation(model, input, maps, { layers: ['features.2'] })).toThrow(/no parameters of its own/);
  });
});
