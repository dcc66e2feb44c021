/**
 * ../shared/fixtures2, within each case's tolerances (manifest.json:
 * tolerances, cases[i].tolerances). Part B: the methods pytorch-grad-cam
 * 084273b has beyond the first set (FullGrad, FinerCAM, RefineCAM, FEM,
 * ShapleyCAM, KPCA-CAM, Ablation-CAM, EigenGrad-CAM, Grad-CAM element-wise)
 * and the softmax and ReST targets, on the first set's engine-built models.
 * Part A: SegEigenCAM with the segmentation target on fcn_mini, and the raw
 * and binary targets on regress_cnn, both built with the layers API.
 */
import { expect, it } from 'vitest';
import {
  ablationCam,
  eigenGradCam,
  fem,
  finerCam,
  fullGrad,
  gradCam,
  gradCamElementWise,
  hiResCam,
  kpcaCam,
  postprocess,
  refineCam,
  binaryTarget,
  gradCamPlusPlus,
  layerCam,
  rawTarget,
  restTarget,
  scoreCam,
  segEigenCam,
  segmentationTarget,
  shapleyCam,
  softmaxTarget,
  xGradCam,
  eigenCam,
  type MapResult,
  type TargetFunction,
} from '../src/cam/index.js';
import { finerWeightedTarget } from '../src/cam/methods/finerCam.js';
import { Tensor } from '../src/tensor/tensor.js';
import type { Module } from '../src/layers/module.js';
import { buildFixtureModel, type FixtureModelName } from './helpers/fixture-models.js';
import { buildFixture2Model, expectMatches, loadCase2, partACases, partBCases, type Fixture2Case } from './helpers/fixtures2.js';
import { describeShared } from './helpers/shared.js';

/** Raw map and final map of a map method under `path`. */
function expectMap(c: Fixture2Case, ref: Record<string, Tensor>, result: MapResult, path: string, options: { weights?: boolean; layer?: number } = {}): void {
  const layer = result.layers[options.layer ?? 0]!;
  if (options.weights) expectMatches(c, ref, layer.weights!, path, 'weights', 'tensor');
  expectMatches(c, ref, layer.raw, path, 'raw', 'tensor');
  expectMatches(c, ref, result.maps, path, 'upsampled', 'map');
}

function checkPartB(model: Module, c: Fixture2Case): void {
  const ref = loadCase2(c);
  const input = ref.input!;
  const category = c.target.category!;
  const layer = c.layer.module;
  const call = { layer, target: category };
  const spatial = input.shape.slice(2);

  const grad = gradCam(model, input, call);
  expectMatches(c, ref, grad.logits, 'tensors', 'logits', 'tensor', { tensorName: 'logits' });
  expectMap(c, ref, grad, 'gradcam', { weights: true });

  // FullGrad: every bias layer, its folded bias, and each term.
  const full = fullGrad(model, input, { target: category });
  expect(full.layers.map((l) => l.name)).toEqual(c.method_settings.fullgrad!.layers);
  expectMatches(c, ref, full.terms, 'fullgrad', 'layer_maps', 'map');
  expectMatches(c, ref, full.maps, 'fullgrad', 'upsampled', 'map');

  // FinerCAM: the comparison classes, the score, and Grad-CAM with it.
  const finer = finerCam(model, input, call);
  expect(finer.targets).toEqual([category]);
  expect(finer.comparisons).toEqual([c.method_settings.finercam!.comparison_categories]);
  const finerScore = finerWeightedTarget(finer.targets, finer.comparisons, 1)(ref.logits!, [0], {});
  expectMatches(c, ref, finerScore, 'finercam', 'score', 'scalar');
  expectMap(c, ref, finer, 'finercam', { weights: true });

  // RefineCAM over the case's two layers, in the listed order.
  const refineLayers = c.method_settings.refinecam!.layers as string[];
  const refine = refineCam(model, input, { layer: refineLayers, target: category });
  expectMatches(c, ref, refine.layerMaps, 'refinecam', 'per_layer_upsampled', 'map');
  expectMatches(c, ref, refine.maps, 'refinecam', 'upsampled', 'map');

  expectMap(c, ref, fem(model, input, call), 'fem', { weights: true });

  const shapley = shapleyCam(model, input, call);
  expect(shapley.layers[0]!.hvpMethod).toBe('exact');
  expectMatches(c, ref, shapley.layers[0]!.hvp, 'shapleycam', 'hvp', 'tensor');
  expectMap(c, ref, shapley, 'shapleycam', { weights: true });

  expectMap(c, ref, kpcaCam(model, input, call), 'kpca');

  const ablation = ablationCam(model, input, call);
  expectMatches(c, ref, ablation.layers[0]!.scores, 'ablationcam', 'scores', 'tensor');
  expectMap(c, ref, ablation, 'ablationcam', { weights: true });

  // EigenGrad-CAM: raw up to a global sign; the reference's final map comes from its sign.
  const eigen = eigenGradCam(model, input, call);
  const eigenRef = ref['eigengradcam/raw']!;
  const dot = eigen.layers[0]!.raw.data.reduce((s, v, i) => s + v * eigenRef.data[i]!, 0);
  const aligned = new Tensor(eigen.layers[0]!.raw.data.map((v) => (dot < 0 ? -v : v)), eigenRef.shape);
  expectMatches(c, ref, aligned, 'eigengradcam', 'raw', 'tensor');
  expectMatches(c, ref, postprocess([aligned], spatial, {}).maps, 'eigengradcam', 'upsampled', 'map');

  expectMap(c, ref, gradCamElementWise(model, input, call), 'gradcamelementwise');

  // The softmax and ReST targets: score, dA, and Grad-CAM, HiResCAM, ShapleyCAM with them.
  for (const [prefix, target] of [['target_softmax', softmaxTarget(category)], ['target_rest', restTarget(category)]] as const) {
    const options = { layer, target };
    const score = (target as TargetFunction)(ref.logits!, [0], {});
    expectMatches(c, ref, score, prefix, 'score', 'scalar');
    const g = gradCam(model, input, options);
    expectMap(c, ref, g, `${prefix}/gradcam`, { weights: true });
    expectMap(c, ref, hiResCam(model, input, options), `${prefix}/hirescam`);
    const s = shapleyCam(model, input, options);
    expectMatches(c, ref, s.layers[0]!.hvp, `${prefix}/shapleycam`, 'hvp', 'tensor');
    expectMap(c, ref, s, `${prefix}/shapleycam`, { weights: true });
  }
}

describeShared('fixtures2', 'fixtures2 Part B: pytorch-grad-cam 084273b methods and targets on the first set\'s models', () => {
  describeShared('fixtures', 'engine-built first-set models', () => {
    const models = new Map<string, Module>();
    for (const c of partBCases()) {
      it(c.id, () => {
        const name = c.model as FixtureModelName;
        if (!models.has(name)) models.set(name, buildFixtureModel(name));
        checkPartB(models.get(name)!, c);
      });
    }
  });
});

/** EigenCAM-like raw maps have no sign of their own: align ours with the reference, then compare raw and final map. */
function expectUpToSign(c: Fixture2Case, ref: Record<string, Tensor>, result: MapResult, path: string): void {
  const want = ref[`${path}/raw`]!;
  const raw = result.layers[0]!.raw;
  const dot = raw.data.reduce((s, v, i) => s + v * want.data[i]!, 0);
  const aligned = new Tensor(raw.data.map((v) => (dot < 0 ? -v : v)), want.shape);
  expectMatches(c, ref, aligned, path, 'raw', 'tensor');
  expectMatches(c, ref, postprocess([aligned], ref.input!.shape.slice(2), {}).maps, path, 'upsampled', 'map');
}

describeShared('fixtures2', 'fixtures2 Part A: SegEigenCAM with the segmentation target on fcn_mini (layers API)', () => {
  let model: Module | undefined;
  for (const c of partACases('fcn_mini')) {
    it(c.id, () => {
      model ??= buildFixture2Model('fcn_mini');
      const ref = loadCase2(c);
      const input = ref.input!;
      const target = segmentationTarget(c.target.category!, ref.target_mask!);
      const options = { layer: c.layer.module, target };
      expectMatches(c, ref, (target as TargetFunction)(ref.logits!, [0], {}), 'tensors', 'score', 'scalar', { tensorName: 'score' });
      const grad = gradCam(model, input, options);
      expectMatches(c, ref, grad.logits, 'tensors', 'logits', 'tensor', { tensorName: 'logits' });
      expectMap(c, ref, grad, 'gradcam', { weights: true });
      expectMap(c, ref, segEigenCam(model, input, options), 'segeigencam');
      expectMap(c, ref, hiResCam(model, input, options), 'hirescam');
      expectMap(c, ref, layerCam(model, input, options), 'layercam');
      expectMap(c, ref, gradCamPlusPlus(model, input, options), 'gradcampp', { weights: true });
      expectUpToSign(c, ref, eigenCam(model, input, options), 'eigencam');
    });
  }
});

describeShared('fixtures2', 'fixtures2 Part A: the raw and binary targets on regress_cnn (layers API)', () => {
  let model: Module | undefined;
  const targetOf = (c: Fixture2Case): TargetFunction =>
    c.target.kind === 'RawScoresOutputTarget' ? rawTarget() : binaryTarget(c.target.category!);
  for (const c of partACases('regress_cnn')) {
    it(c.id, () => {
      model ??= buildFixture2Model('regress_cnn');
      const ref = loadCase2(c);
      const input = ref.input!;
      const target = targetOf(c);
      const options = { layer: c.layer.module, target };
      expectMatches(c, ref, target(ref.logits!, [0], {}), 'tensors', 'score', 'scalar', { tensorName: 'score' });
      const grad = gradCam(model, input, options);
      expectMatches(c, ref, grad.logits, 'tensors', 'logits', 'tensor', { tensorName: 'logits' });
      expectMap(c, ref, grad, 'gradcam', { weights: true });
      expectMap(c, ref, gradCamPlusPlus(model, input, options), 'gradcampp', { weights: true });
      expectMap(c, ref, xGradCam(model, input, options), 'xgradcam', { weights: true });
      expectMap(c, ref, layerCam(model, input, options), 'layercam');
      expectMap(c, ref, hiResCam(model, input, options), 'hirescam');
      expectUpToSign(c, ref, eigenCam(model, input, options), 'eigencam');
      const score = scoreCam(model, input, options);
      expectMatches(c, ref, score.layers[0]!.scores, 'scorecam', 'scores', 'tensor');
      expectMap(c, ref, score, 'scorecam', { weights: true });
    });
  }
});
