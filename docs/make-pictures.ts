/**
 * Draws the picture of every method in docs/methods.md: three generated
 * scenes explained by the model tinycam trained itself (examples/shapes),
 * image | heat-map | overlay per scene. Run: `npx tsx docs/make-pictures.ts`.
 * Input-gradient methods are shown as max |gradient| over the colour channels.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as cams from '../src/cam/index.js';
import { encodePng, grid, resize } from '../src/image/index.js';
import type { Module } from '../src/layers/module.js';
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
};

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
for (const [name, run] of Object.entries(METHODS)) {
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
