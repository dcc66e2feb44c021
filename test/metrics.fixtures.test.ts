/**
 * pytorch-grad-cam's metrics (Part C of ../shared/fixtures2): confidence
 * change, drop, increase, ROAD MoRF/LeRF at the stored percentiles (noise 0),
 * ROADCombined and ARCC, computed from the stored maps on the first-set models,
 * each within the case's tolerance.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { arcc, confidenceChange, dropInConfidence, increaseInConfidence, road, roadCombined } from '../src/metrics/index.js';
import { loadSafetensors } from '../src/tensor/safetensors.js';
import { Tensor } from '../src/tensor/tensor.js';
import type { Module } from '../src/layers/module.js';
import { buildFixtureModel, type FixtureModelName } from './helpers/fixture-models.js';
import { describeShared, SHARED } from './helpers/shared.js';
import { projectBackend } from './helpers/project.js';

const FIXTURES2 = join(SHARED, 'fixtures2');

interface Case {
  id: string;
  file: string;
  model: FixtureModelName;
  layer: { module: string };
  target: { category: number };
  metrics?: Record<string, { values: Record<string, number>; details: Record<string, { degenerate?: boolean }> }>;
  tolerances: Record<string, Record<string, number | boolean>>;
}

function metricCases(): Case[] {
  const manifest = JSON.parse(readFileSync(join(FIXTURES2, 'manifest.json'), 'utf8')) as { cases: Case[] };
  return manifest.cases.filter((c) => c.metrics);
}

/** |ours - ref| <= tol * max(1, |ref|) for scalars, the manifest's rule. */
function expectScalar(ours: number, ref: number, tol: number, what: string): void {
  const err = Math.abs(ours - ref) / Math.max(1, Math.abs(ref));
  expect(err, `${what}: ours ${ours}, reference ${ref}`).toBeLessThanOrEqual(tol);
}

/** max |ours - ref| <= tol * max |ref| for tensors. */
function expectTensor(ours: ArrayLike<number>, ref: Tensor, tol: number, what: string): void {
  expect(ours.length, `${what} size`).toBe(ref.size);
  let worst = 0;
  let scale = 0;
  for (let i = 0; i < ref.size; i++) {
    worst = Math.max(worst, Math.abs(ours[i]! - ref.data[i]!));
    scale = Math.max(scale, Math.abs(ref.data[i]!));
  }
  expect(worst, `${what}: max |diff| ${worst} (scale ${scale})`).toBeLessThanOrEqual(tol * Math.max(scale, 1e-12));
}

describeShared('fixtures2', 'pytorch-grad-cam metrics on the stored maps (fixtures2 Part C)', () => {
  const models = new Map<string, Module>();
  const modelFor = (name: FixtureModelName): Module => {
    if (!models.has(name)) models.set(name, buildFixtureModel(name));
    return models.get(name)!;
  };

  for (const c of metricCases()) {
    describe(c.id, () => {
      const load = () => loadSafetensors(new Uint8Array(readFileSync(join(FIXTURES2, c.file))));
      for (const cam of Object.keys(c.metrics!)) {
        const prefix = `metrics/${cam}`;
        const values = c.metrics![cam]!.values;
        const tol = (path: string, quantity: string) => c.tolerances[`${prefix}${path ? `/${path}` : ''}`]![quantity] as number;

        it(`${cam}: confidence change, drop and increase`, () => {
          const ref = load();
          const model = modelFor(c.model);
          const maps = ref[`${prefix}/cam`]!;
          const target = c.target.category;
          const change = confidenceChange(model, ref.input!, maps, { target });
          expectScalar(change.scoreBefore[0]!, values.score_before!, tol('', 'score_before'), 'score before');
          expectScalar(change.scoreAfter[0]!, values['cam_mult_image/score_after']!, tol('cam_mult_image', 'score_after'), 'score after');
          expectScalar(change.value[0]!, values['cam_mult_image/value']!, tol('cam_mult_image', 'value'), 'confidence change');
          const drop = dropInConfidence(model, ref.input!, maps, { target });
          expectScalar(drop.value[0]!, values['drop_in_confidence/value']!, tol('drop_in_confidence', 'value'), 'drop in confidence');
          const increase = increaseInConfidence(model, ref.input!, maps, { target });
          expect(increase.value[0]).toBe(values['increase_in_confidence/value']);
        });

        for (const order of ['morf', 'lerf'] as const) {
          for (const p of [20, 80]) {
            const key = `road_${order}_p${p}`;
            it(`${cam}: ROAD ${order} at ${p}`, () => {
              const ref = load();
              const result = road(modelFor(c.model), ref.input!, ref[`${prefix}/cam`]!, { target: c.target.category, order, percentile: p, noise: 0 });
              const keep = ref[`${prefix}/${key}/keep_mask`]!;
              expect(Array.from(result.keep.data)).toEqual(Array.from(keep.data));
              expectTensor(result.imputed.data, ref[`${prefix}/${key}/imputed_input`]!, tol(key, 'imputed_input'), `${key} imputed input`);
              expectScalar(result.value[0]!, values[`${key}/value`]!, tol(key, 'value'), `${key} value`);
            });
          }
        }

        // ROAD combined is ROAD at nine percentiles each way: its model passes are those of the
        // ROAD tests above (both projects); its imputations (most of its time) do not use the kernels.
        if (projectBackend() === 'js') it(`${cam}: ROAD combined`, () => {
          const ref = load();
          const result = roadCombined(modelFor(c.model), ref.input!, ref[`${prefix}/cam`]!, { target: c.target.category, noise: 0 });
          const t = (q: string) => tol('road_combined', q);
          expectTensor(result.morfScores.map((s) => s[0]!), ref[`${prefix}/road_combined/morf_scores`]!, t('morf_scores'), 'MoRF scores');
          expectTensor(result.lerfScores.map((s) => s[0]!), ref[`${prefix}/road_combined/lerf_scores`]!, t('lerf_scores'), 'LeRF scores');
          expectTensor(result.morfThresholds.map((s) => s[0]!), ref[`${prefix}/road_combined/morf_thresholds`]!, t('morf_thresholds'), 'MoRF thresholds');
          expectTensor(result.lerfThresholds.map((s) => s[0]!), ref[`${prefix}/road_combined/lerf_thresholds`]!, t('lerf_thresholds'), 'LeRF thresholds');
          expectScalar(result.value[0]!, values['road_combined/value']!, t('value'), 'ROAD combined');
        });

        it(`${cam}: ARCC (Grad-CAM at ${c.layer.module})`, () => {
          const ref = load();
          const result = arcc(modelFor(c.model), ref.input!, ref[`${prefix}/cam`]!, {
            target: c.target.category,
            noise: 0,
            methodOptions: { layer: c.layer.module },
          });
          const t = (q: string) => tol('arcc', q);
          let worst = 0;
          ref[`${prefix}/arcc/coherency_cam`]!.data.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - result.coherencyMaps.data[i]!))));
          expect(worst, 'coherency map').toBeLessThanOrEqual(t('coherency_cam'));
          expectScalar(result.complexity[0]!, values['arcc/complexity']!, t('complexity'), 'complexity');
          expectScalar(result.coherency[0]!, values['arcc/coherency']!, t('coherency'), 'coherency');
          expectScalar(result.roadCombined[0]!, values['arcc/road_combined']!, t('road_combined'), 'ROAD combined (20..80)');
          expectScalar(result.value[0]!, values['arcc/value']!, t('value'), 'ARCC');
        });
      }
    });
  }
});
