/**
 * Draws the picture of every method in docs/methods.md: three generated
 * scenes explained by the model tinycam trained itself (examples/shapes),
 * image | heat-map | overlay per scene. Run: `npx tsx docs/make-pictures.ts`
 * (or name the methods to redraw). Input-gradient and attribution methods are
 * shown as max |gradient| over the colour channels.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as cams from '../src/cam/index.js';
import { encodePng, grid, resize } from '../src/image/index.js';
import type { Module } from '../src/layers/module.js';
import { randn } from '../src/tensor/random.js';
import { Tensor } from '../src/tensor/tensor.js';
import { sceneToImage, scenesToTensor } from '../examples/shapes/data.js';
import { CLASSES, DEMO_SEED_BASE, generateScenes } from '../examples/shapes/generate.js';
import { CAM_LAYER } from '../examples/shapes/model.js';
import { WEIGHTS_FILE, loadShapesNet } from '../examples/shapes/weights.js';

const here = dirname(fileURLToPath(import.meta.url));
const OUT = join(here, 'images', 'methods');
const ZOOM = 2;

type Maps = (model: Module, input: Tensor) => Tensor;
const layer = { layer: CAM_LAYER };
const mapMethod = (f: (m: Module, x: Tensor, o: { layer: string }) => { maps: Tensor }): Maps => (m, x) => f(m, x, layer).maps;
const gradientMethod = (f: (m: Module, x: Tensor) => { gradients: Tensor }): Maps => (m, x) => gradientMap(f(m, x).gradients);

const METHODS: Record<string, Maps> = {
  cam: mapMethod(cams.cam),
  gradCam: mapMethod(cams.gradCam),
  gradCamMaxNorm: mapMethod(cams.gradCamMaxNorm),
  hiResCam: mapMethod(cams.hiResCam),
  gradCamElementWise: mapMethod(cams.gradCamElementWise),
  gradCamPlusPlus: mapMethod(cams.gradCamPlusPlus),
  xGradCam: mapMethod(cams.xGradCam),
  layerCam: mapMethod(cams.layerCam),
  scoreCam: mapMethod(cams.scoreCam),
  ablationCam: mapMethod(cams.ablationCam),
  eigenCam: mapMethod(cams.eigenCam),
  eigenGradCam: mapMethod(cams.eigenGradCam),
  guidedGradCam: gradientMethod((m, x) => cams.guidedGradCam(m, x, layer)),
  guidedBackprop: gradientMethod(cams.guidedBackprop),
  deconvnet: gradientMethod(cams.deconvnet),
  saliency: gradientMethod(cams.saliency),
  inputXGradient: gradientMethod(cams.inputXGradient),
  integratedGradients: gradientMethod(cams.integratedGradients),
  smoothGrad: gradientMethod((m, x) => cams.smoothGrad(m, x, { seed: 0 })),
  fullGrad: (m, x) => cams.fullGrad(m, x).maps,
  finerCam: mapMethod(cams.finerCam),
  refineCam: (m, x) => cams.refineCam(m, x, { layer: ['features.6', CAM_LAYER] }).maps,
  fem: mapMethod(cams.fem),
  shapleyCam: (m, x) => cams.shapleyCam(m, x, { ...layer, target: cams.softmaxTarget(argmaxOf(m, x)) }).maps,
  kpcaCam: mapMethod(cams.kpcaCam),
  segEigenCam: mapMethod(cams.segEigenCam),
  randomCam: mapMethod(cams.randomCam),
  sobelCam: (m, x) => cams.sobelCam(m, x).maps,
  ssCam: mapMethod(cams.ssCam),
  isCam: mapMethod(cams.isCam),
  smoothGradCamPlusPlus: mapMethod(cams.smoothGradCamPlusPlus),
  deepFeatureFactorization: (m, x) => dominantConcept(m, x),
  deepLift: gradientMethod(cams.deepLift),
  deepLiftShap: gradientMethod((m, x) => cams.deepLiftShap(m, x, { baselines: referenceScenes() })),
  gradientShap: gradientMethod((m, x) => cams.gradientShap(m, x, { baselines: referenceScenes(), samples: 20 })),
  lrp: gradientMethod(cams.lrp),
};

/** The predicted class of each image. */
function argmaxOf(m: Module, x: Tensor): number[] {
  return cams.gradCam(m, x, layer).targets!;
}

/**
 * The reference set of DeepLiftShap and GradientShap: four images of
 * Gaussian noise (std 0.5, seeded). Scenes with shapes as references would
 * leave the references' shapes in the attributions (see docs/methods.md).
 */
function referenceScenes(): Tensor {
  return randn([4, ...input.shape.slice(1)], { seed: 7, std: 0.5 });
}

/** DFF with 4 concepts over the three scenes: each scene's map of the concept that scores its predicted class highest. */
function dominantConcept(m: Module, x: Tensor): Tensor {
  const dff = cams.deepFeatureFactorization(m, x, { layer: CAM_LAYER, components: 4 });
  const [n, k, h, w] = dff.maps.shape as [number, number, number, number];
  const classes = dff.scores!.shape[1]!;
  const out = new Float32Array(n * h * w);
  argmaxOf(m, x).forEach((c, i) => {
    let best = 0;
    for (let t = 1; t < k; t++) if (dff.scores!.data[t * classes + c]! > dff.scores!.data[best * classes + c]!) best = t;
    out.set(dff.maps.data.subarray((i * k + best) * h * w, (i * k + best + 1) * h * w), i * h * w);
  });
  return new Tensor(out, [n, h, w]);
}

/** [N,C,H,W] gradients -> [N,H,W] max |g| over channels, scaled per image to [0,1]. */
function gradientMap(g: Tensor): Tensor {
  const [n, c, h, w] = g.shape as [number, number, number, number];
  const out = new Float32Array(n * h * w);
  for (let i = 0; i < n; i++) {
    let top = 0;
    for (let p = 0; p < h * w; p++) {
      let v = 0;
      for (let k = 0; k < c; k++) v = Math.max(v, Math.abs(g.data[(i * c + k) * h * w + p]!));
      out[i * h * w + p] = v;
      top = Math.max(top, v);
    }
    for (let p = 0; p < h * w; p++) out[i * h * w + p] = top > 0 ? out[i * h * w + p]! / top : 0;
  }
  return new Tensor(out, [n, h, w]);
}

const { model } = loadShapesNet(readFileSync(join(here, '..', 'examples', 'shapes', WEIGHTS_FILE)));
const scenes = [0, 2, 4].map((k) => generateScenes(DEMO_SEED_BASE + k, 1)[0]!);
const input = scenesToTensor(scenes);
const images = scenes.map((s) => {
  const img = sceneToImage(s);
  return resize(img, { width: img.width * ZOOM, height: img.height * ZOOM });
});
mkdirSync(OUT, { recursive: true });
// `npx tsx docs/make-pictures.ts gradCam lrp` redraws those only.
const only = process.argv.slice(2);
for (const [name, run] of Object.entries(METHODS).filter(([name]) => only.length === 0 || only.includes(name))) {
  const maps = run(model, input);
  const [, h, w] = maps.shape as [number, number, number];
  const rows = scenes.map((s, i) => ({
    name: `${CLASSES[s.label]}`,
    image: images[i]!,
    map: new Tensor(maps.data.slice(i * h * w, (i + 1) * h * w), [h, w]),
  }));
  writeFileSync(join(OUT, `${name}.png`), encodePng(grid(rows)));
  console.log(`docs/images/methods/${name}.png`);
}
