/**
 * Scores a shapes model on scenes: classification accuracy, and the pointing
 * game of Grad-CAM at the CAM layer with the true class as target (as the
 * fixtures' labels.json scores PyTorch's model). One Grad-CAM call per batch
 * gives both, since it returns the logits of the forward pass it ran.
 */
import { gradCam } from '../../src/cam/index.js';
import type { Module } from '../../src/layers/module.js';
import { argmax } from '../../src/tensor/ops/reduce.js';
import { CLASSES, type Scene } from './generate.js';
import { pointingHit, scenesToTensor } from './data.js';
import { CAM_LAYER } from './model.js';

export interface SceneResult {
  seed: number;
  label: number;
  predicted: number;
  /** Grad-CAM's peak (for the true class) lies inside the true box. */
  hit: boolean;
}

export interface Evaluation {
  accuracy: number;
  pointing: number;
  /** Accuracy per class, in CLASSES order. */
  perClass: number[];
  results: SceneResult[];
}

export function evaluate(model: Module, scenes: readonly Scene[], options: { batchSize?: number; layer?: string } = {}): Evaluation {
  const batchSize = options.batchSize ?? 100;
  const wasTraining = model.training;
  model.eval();
  const results: SceneResult[] = [];
  try {
    for (let start = 0; start < scenes.length; start += batchSize) {
      const batch = scenes.slice(start, start + batchSize);
      const input = scenesToTensor(batch);
      const { maps, logits } = gradCam(model, input, {
        layer: options.layer ?? CAM_LAYER,
        target: batch.map((s) => s.label),
      });
      const predicted = argmax(logits, 1);
      batch.forEach((scene, i) => {
        results.push({
          seed: scene.seed,
          label: scene.label,
          predicted: predicted.data[i]!,
          hit: pointingHit(maps, i, scene.box),
        });
      });
    }
  } finally {
    model.train(wasTraining);
  }
  const correct = results.filter((r) => r.predicted === r.label).length;
  const hits = results.filter((r) => r.hit).length;
  const perClass = CLASSES.map((_, c) => {
    const ofClass = results.filter((r) => r.label === c);
    return ofClass.filter((r) => r.predicted === c).length / Math.max(ofClass.length, 1);
  });
  return { accuracy: correct / results.length, pointing: hits / results.length, perClass, results };
}
