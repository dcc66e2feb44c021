import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { TEST_SEED_BASE, generateScenes } from '../examples/shapes/generate.js';
import { scenesToTensor } from '../examples/shapes/data.js';
import { evaluate, type Evaluation } from '../examples/shapes/evaluate.js';
import { CAM_LAYER } from '../examples/shapes/model.js';
import { loadShapesNet, WEIGHTS_FILE } from '../examples/shapes/weights.js';
import { noGrad } from '../src/tensor/autograd.js';
import type { Tensor } from '../src/tensor/tensor.js';

const weightsPath = fileURLToPath(new URL(`../examples/shapes/${WEIGHTS_FILE}`, import.meta.url));

describe('the shapes model tinycam trained itself (committed weights)', () => {
  const { model, metadata } = loadShapesNet(readFileSync(weightsPath));
  const scenes = generateScenes(TEST_SEED_BASE, 1000);
  let evaluation: Evaluation;

  beforeAll(() => {
    evaluation = evaluate(model, scenes, { batchSize: 100 });
  }, 120_000);

  it('classifies at least 95 % of the 1,000 test scenes correctly', () => {
    expect(evaluation.results).toHaveLength(1000);
    expect(evaluation.accuracy).toBeGreaterThanOrEqual(0.95);
  });

  it('puts the Grad-CAM peak (true class, last conv layer) inside the true box on at least 90 % of them', () => {
    expect(evaluation.pointing).toBeGreaterThanOrEqual(0.9);
  });

  it('reproduces the scores recorded when the weights were written', () => {
    // The training script stores its own evaluation in the file's metadata.
    // A kernel that sums in another order may flip a near-tie or two (float32),
    // so up to 3 of the 1,000 scenes may differ; more means the generator or
    // an op changed what the model computes.
    expect(Math.abs(evaluation.accuracy - Number(metadata.test_accuracy))).toBeLessThanOrEqual(0.003);
    expect(Math.abs(evaluation.pointing - Number(metadata.test_pointing_game))).toBeLessThanOrEqual(0.003);
  });

  it('gets its predictions from a plain forward pass (the logits Grad-CAM returns are the model\'s)', () => {
    const some = scenes.slice(0, 100);
    const logits = noGrad(() => model.forward(scenesToTensor(some)));
    some.forEach((_, i) => {
      let best = 0;
      for (let k = 1; k < 5; k++) if (logits.data[i * 5 + k]! > logits.data[i * 5 + best]!) best = k;
      expect(evaluation.results[i]!.predicted).toBe(best);
    });
  });

  it('scores the same pointing game with CAM computed independently (fc weights times A, naive bilinear)', () => {
    // For GAP + one linear layer, Grad-CAM's channel weights are fc.weight[c] / (h w):
    // the map is relu(sum_k W[c,k] A_k) up to a positive factor. Upsampled
    // here with a plain half-pixel bilinear written for this test.
    const some = scenes.slice(0, 100);
    let activation: Tensor | null = null;
    const handle = model.getModule(CAM_LAYER)!.registerForwardHook((_m, _i, out) => {
      activation = out;
    });
    try {
      noGrad(() => model.forward(scenesToTensor(some)));
    } finally {
      handle.remove();
    }
    const a = activation as unknown as Tensor;
    const [, channels, h, w] = a.shape as [number, number, number, number];
    const fc = model.fc.weight.data;
    let agree = 0;
    some.forEach((scene, i) => {
      const low = new Float64Array(h * w);
      for (let k = 0; k < channels; k++) {
        const wk = fc[scene.label * channels + k]!;
        for (let p = 0; p < h * w; p++) low[p] = low[p]! + wk * a.data[(i * channels + k) * h * w + p]!;
      }
      for (let p = 0; p < h * w; p++) low[p] = Math.max(low[p]!, 0);
      let bestValue = -Infinity;
      let bestX = 0;
      let bestY = 0;
      for (let y = 0; y < 64; y++) {
        const sy = Math.min(Math.max(((y + 0.5) * h) / 64 - 0.5, 0), h - 1);
        const y0 = Math.floor(sy);
        const y1 = Math.min(y0 + 1, h - 1);
        for (let x = 0; x < 64; x++) {
          const sx = Math.min(Math.max(((x + 0.5) * w) / 64 - 0.5, 0), w - 1);
          const x0 = Math.floor(sx);
          const x1 = Math.min(x0 + 1, w - 1);
          const fy = sy - y0;
          const fx = sx - x0;
          const v =
            (1 - fy) * ((1 - fx) * low[y0 * w + x0]! + fx * low[y0 * w + x1]!) +
            fy * ((1 - fx) * low[y1 * w + x0]! + fx * low[y1 * w + x1]!);
          if (v > bestValue) {
            bestValue = v;
            bestX = x;
            bestY = y;
          }
        }
      }
      const [bx0, by0, bx1, by1] = scene.box;
      const hit = bestX >= bx0 && bestX <= bx1 && bestY >= by0 && bestY <= by1;
      if (hit === evaluation.results[i]!.hit) agree++;
    });
    // Float32 against float64 may split a near-tie between two pixels differently.
    expect(agree).toBeGreaterThanOrEqual(98);
  });
});
