/**
 * Every method with a PyTorch / pytorch-grad-cam reference, on every case of
 * the engine-built fixture models, within each case's tolerances
 * (manifest.json: tolerances and cases[i].tolerances).
 */
import { expect, it } from 'vitest';
import {
  cam,
  eigenCam,
  gradCam,
  gradCamPlusPlus,
  guidedBackprop,
  hiResCam,
  layerCam,
  postprocess,
  saliency,
  scoreCam,
  gradCamMaxNorm,
  xGradCam,
  type MapResult,
} from '../src/cam/index.js';
import { Tensor } from '../src/tensor/tensor.js';
import type { Module } from '../src/layers/module.js';
import { buildFixtureModel, FIXTURE_MODEL_NAMES } from './helpers/fixture-models.js';
import { casesOf, expectClose, fixtureBytes, fixtureExists, loadCase, manifest, maxAbs, type CaseTolerance, type FixtureCase } from './helpers/fixtures.js';
import { describeReference } from './helpers/shared.js';
import { loadOnnx } from '../src/onnx/index.js';
import { projectBackend } from './helpers/project.js';

const models = new Map<string, Module>();
function modelFor(name: (typeof FIXTURE_MODEL_NAMES)[number]): Module {
  if (!models.has(name)) models.set(name, buildFixtureModel(name));
  return models.get(name)!;
}

/** The final-map tolerance; ill-conditioned cases are compared loosely, as the manifest advises. */
function finalTol(t: CaseTolerance): number {
  return t.ill_conditioned ? Math.max(0.05, 10 * t.final_map) : Math.max(1e-3, t.final_map);
}

function rawTol(t: CaseTolerance): number {
  return t.ill_conditioned ? Math.max(0.05, 10 * t.raw_relative) : t.raw_relative;
}

const WEIGHTS = { relative: 1e-3, absolute: 1e-7 };

function checkMapMethod(
  result: MapResult,
  ref: Record<string, Tensor>,
  method: string,
  tol: CaseTolerance,
  options: { weights?: boolean } = {},
): MapResult {
  const layer = result.layers[0]!;
  // Weights: the manifest's 1e-3, or the case's raw-map sensitivity where that is larger
  // (Grad-CAM++ on MobileNetV2's features.13, whose denominators nearly cancel).
  if (options.weights) {
    expectClose(layer.weights!, ref[`${method}/weights`]!, `${method} weights`, { ...WEIGHTS, relative: Math.max(WEIGHTS.relative, rawTol(tol)) });
  }
  expectClose(layer.raw, ref[`${method}/raw`]!, `${method} raw`, { relative: rawTol(tol) });
  expectClose(result.maps, ref[`${method}/upsampled`]!, `${method} final map`, { absolute: finalTol(tol) });
  return result;
}

/** A flagged case has an all-zero gradient: every gradient-based map must be all zeros. */
function zeroGradientCase(c: FixtureCase): boolean {
  return typeof c.checks.note === 'string' && c.checks.note.includes('exactly 0');
}

/** Every referenced method on one case. `scoreCam: false` skips the (slow) Score-CAM check. */
function checkCase(model: Module, c: FixtureCase, options: { scoreCam: boolean }): void {
  const ref = loadCase(c);
  const input = ref.input!;
  const call = { layer: c.layer.module, target: c.target_class };
  const t = c.tolerances;

  const grad = gradCam(model, input, call);
  expectClose(grad.logits, ref.logits!, 'logits', { relative: 1e-4, absolute: 1e-5 });
  expect(grad.targets).toEqual([c.target_class]);
  expect(grad.layers[0]!.name).toBe(c.layer.module);
  checkMapMethod(grad, ref, 'gradcam', t.gradcam!, { weights: true });
  expectClose(grad.layers[0]!.map, ref['gradcam/minmax']!, 'gradcam minmax', { absolute: finalTol(t.gradcam!) });

  const seed = gradCamMaxNorm(model, input, call);
  expectClose(seed.layers[0]!.weights!, ref['seed_gradcam/weights']!, 'seed weights', WEIGHTS);
  expectClose(seed.layers[0]!.map, ref['seed_gradcam/map']!, 'seed map', { absolute: finalTol(t.seed_gradcam!) });

  const gradientMaps = [
    grad,
    seed,
    checkMapMethod(gradCamPlusPlus(model, input, call), ref, 'gradcampp', t.gradcampp!, { weights: true }),
    checkMapMethod(xGradCam(model, input, call), ref, 'xgradcam', t.xgradcam!, { weights: true }),
    checkMapMethod(layerCam(model, input, call), ref, 'layercam', t.layercam!),
    checkMapMethod(hiResCam(model, input, call), ref, 'hirescam', t.hirescam!),
  ];
  if (zeroGradientCase(c)) {
    // The score does not depend on the layer: every gradient-based map is all zeros.
    for (const r of gradientMaps) {
      expect(maxAbs(r.maps)).toBe(0);
      expect(maxAbs(r.layers[0]!.raw)).toBe(0);
    }
  }

  // EigenCAM: raw up to a global sign; the reference's final map comes from LAPACK's sign.
  const eigen = eigenCam(model, input, call);
  const eigenRef = ref['eigencam/raw']!;
  let dot = 0;
  for (let i = 0; i < eigenRef.size; i++) dot += eigen.layers[0]!.raw.data[i]! * eigenRef.data[i]!;
  const sign = dot < 0 ? -1 : 1;
  const aligned = new Tensor(eigen.layers[0]!.raw.data.map((v) => sign * v), eigenRef.shape);
  expectClose(aligned, eigenRef, 'eigencam raw (up to sign)', { relative: rawTol(t.eigencam!) });
  const finalFromRefSign = postprocess([aligned], input.shape.slice(2), {}).maps;
  expectClose(finalFromRefSign, ref['eigencam/upsampled']!, 'eigencam final map', { absolute: finalTol(t.eigencam!) });
  if (sign === 1) expectClose(eigen.maps, ref['eigencam/upsampled']!, 'eigencam final map (same sign)', { absolute: finalTol(t.eigencam!) });

  if (options.scoreCam) {
    const progress: number[] = [];
    const score = scoreCam(model, input, { ...call, onProgress: (p) => progress.push(p.done) });
    const channels = c.layer.shape[1]!;
    expect(progress[progress.length - 1]).toBe(channels);
    expect(progress.length).toBe(Math.ceil(channels / 16));
    expectClose(score.layers[0]!.scores, ref['scorecam/scores']!, 'scorecam scores', { relative: t.scorecam!.scores_relative ?? 1e-4 });
    expectClose(score.layers[0]!.weights!, ref['scorecam/weights']!, 'scorecam weights', { absolute: t.scorecam!.weights_abs ?? 1e-4 });
    expectClose(score.layers[0]!.raw, ref['scorecam/raw']!, 'scorecam raw', { relative: rawTol(t.scorecam!) });
    expectClose(score.maps, ref['scorecam/upsampled']!, 'scorecam final map', { absolute: Math.max(2e-3, finalTol(t.scorecam!)) });
  }

  if (c.layer.is_cam_layer) {
    const z = cam(model, input, call);
    expectClose(z.layers[0]!.raw, ref['cam/raw']!, 'cam raw', { relative: rawTol(t.cam!) });
    expectClose(z.maps, ref['cam/upsampled']!, 'cam final map', { absolute: finalTol(t.cam!) });
  }

  const gradientTol = { relative: 1e-4 }; // the manifest's tolerance for input gradients
  expectClose(saliency(model, input, { target: c.target_class }).gradients, ref.grad_input!, 'grad_input', gradientTol);
  expectClose(guidedBackprop(model, input, { target: c.target_class }).gradients, ref.guided_backprop!, 'guided_backprop', gradientTol);
}

/**
 * Score-CAM is one forward pass per 16 channels, most of this file's time on
 * the pure-TS kernels (about 3 s of a shapes_cnn case's 3.3 s). On them it
 * runs on the first case of each model and layer; the wasm project runs it on
 * every case. The masked passes go through the same layers and kernels as
 * every other check here, which run on every case on both backends.
 */
const scoreCamOnJs = new Set<string>();
function firstOfItsLayer(c: FixtureCase): boolean {
  const key = `${c.model} ${c.layer.module}`;
  if (scoreCamOnJs.has(key)) return false;
  scoreCamOnJs.add(key);
  return true;
}
const everyCaseOrFirstOnJs = (first: boolean): boolean => first || projectBackend() === 'wasm';

for (const modelName of FIXTURE_MODEL_NAMES) {
  describeReference('fixtures', `fixtures, engine-built: ${modelName}`, () => {
    for (const c of casesOf(modelName)) {
      const first = firstOfItsLayer(c);
      it(c.id, () => checkCase(modelFor(modelName), c, { scoreCam: everyCaseOrFirstOnJs(first) }));
    }
  });
}

// The same checks on the ONNX files (fused export). Score-CAM costs one forward
// pass per 16 channels, so here it runs only where the engine-built models do
// not cover it, on the rand0 cases of layers with at most 256 channels
// (MobileNetV2 features.13, SqueezeNet features.7), and on the WebAssembly
// kernels only (SqueezeNet's takes 12 s on the pure-TS ones; Score-CAM runs on
// them on the engine-built models above, and these graphs' forward passes in
// every other check here).
for (const info of manifest().models.filter((m) => fixtureExists(m.onnx_fused))) {
  describeReference('fixtures', `fixtures, ONNX import: ${info.name}`, () => {
    let model: Module | undefined;
    const get = (): Module => (model ??= loadOnnx(fixtureBytes(info.onnx_fused)));
    const engineBuilt = (FIXTURE_MODEL_NAMES as readonly string[]).includes(info.name);
    for (const c of casesOf(info.name)) {
      const withScoreCam = !engineBuilt && c.layer.shape[1]! <= 256 && c.id.includes('/rand0__');
      it(c.id, () => checkCase(get(), c, { scoreCam: withScoreCam && projectBackend() === 'wasm' }));
    }
  });
}

describeReference('fixtures', 'default layer on the fixture models (torch-cam rule)', () => {
  const expected: Record<string, string> = { vgg_small: 'features', tiny_resnet: 'layer3', shapes_cnn: 'features' };
  for (const modelName of FIXTURE_MODEL_NAMES) {
    it(`${modelName}: '${expected[modelName]}', whose output is the CAM layer's`, () => {
      const c = casesOf(modelName).find((x) => x.layer.is_cam_layer)!;
      const model = modelFor(modelName);
      const ref = loadCase(c);
      const r = gradCam(model, ref.input!, { target: c.target_class });
      expect(r.layers[0]!.name).toBe(expected[modelName]);
      expectClose(r.maps, ref['gradcam/upsampled']!, 'gradcam final map at the default layer', { absolute: finalTol(c.tolerances.gradcam!) });
    });
  }
});

