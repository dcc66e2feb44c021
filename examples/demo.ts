/**
 * `npm run demo`: explains a few generated shape scenes with the model tinycam
 * trained itself (examples/shapes), using Grad-CAM, Grad-CAM++ and CAM at its
 * last conv layer, prints what the model saw, and writes out/demo.png:
 * one column block per scene, one row per method, image | heat-map | overlay.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cam, gradCam, gradCamPlusPlus, type MapResult } from '../src/cam/index.js';
import { blit, createImage, drawText, encodePng, fillRect, grid, resize, type Rgba, type RgbaImage } from '../src/image/index.js';
import type { Module } from '../src/layers/module.js';
import { Tensor } from '../src/tensor/tensor.js';
import { CLASSES, DEMO_SEED_BASE, generateScenes, type Scene } from './shapes/generate.js';
import { peakOf, pointingHit, sceneToImage, scenesToTensor } from './shapes/data.js';
import { CAM_LAYER } from './shapes/model.js';
import { WEIGHTS_FILE, loadShapesNet } from './shapes/weights.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');
const OUT = join(root, 'out', 'demo.png');
/** Scenes shown: one of each class (consecutive seeds take the classes in turn). */
const SCENES = CLASSES.length;
/** Each 64x64 scene is drawn this many times larger, so the maps can be seen. */
const ZOOM = 2;
const CAPTION_SCALE = 2;
const BACKGROUND: Rgba = [24, 24, 24, 255];
const INK: Rgba = [240, 240, 240, 255];
const WRONG: Rgba = [255, 96, 96, 255];

type MapMethod = (model: Module, input: Tensor, options: { layer: string }) => MapResult;
const METHODS: [string, MapMethod][] = [
  ['Grad-CAM', gradCam],
  ['Grad-CAM++', gradCamPlusPlus],
  ['CAM', cam],
];

function main(): void {
  const started = performance.now();
  const { model, metadata } = loadShapesNet(readFileSync(join(here, 'shapes', WEIGHTS_FILE)));
  console.log(
    `tinycam demo: a ${metadata.model ?? 'ShapesNet'} that tinycam trained itself ` +
      `(test accuracy ${metadata.test_accuracy}, Grad-CAM pointing game ${metadata.test_pointing_game} on 1,000 generated scenes)`,
  );
  const scenes = generateScenes(DEMO_SEED_BASE, SCENES);
  const input = scenesToTensor(scenes);

  // Each method explains the predicted class (its default target) of every scene in one call.
  const results = METHODS.map(([name, method]) => ({ name, result: method(model, input, { layer: CAM_LAYER }) }));
  const predicted = results[0]!.result.targets!;

  const blocks: RgbaImage[] = [];
  scenes.forEach((scene, i) => {
    const hits = results.map(({ name, result }) => {
      const { x, y } = peakOf(result.maps, i);
      return `${name} peak (${x},${y}) ${pointingHit(result.maps, i, scene.box) ? 'in box' : 'OUTSIDE box'}`;
    });
    const verdict = predicted[i] === scene.label ? 'right' : 'WRONG';
    console.log(
      `scene ${i + 1} (seed ${scene.seed}): true ${scene.className}, predicted ${CLASSES[predicted[i]!]} (${verdict}); ` +
        `box [${scene.box.join(',')}]; ${hits.join('; ')}`,
    );
    blocks.push(sceneBlock(scene, i, results.map(({ name, result }) => ({ name, maps: result.maps })), CLASSES[predicted[i]!]!));
  });

  mkdirSync(dirname(OUT), { recursive: true });
  writeFileSync(OUT, encodePng(sideBySide(blocks)));
  console.log(`wrote ${relative(process.cwd(), OUT)} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

/** One scene's block: a caption (truth and prediction) over a grid with a row per method. */
function sceneBlock(scene: Scene, index: number, maps: { name: string; maps: Tensor }[], predictedName: string): RgbaImage {
  const image = resize(sceneToImage(scene), { width: scene.width * ZOOM, height: scene.height * ZOOM });
  // The first block names the rows; the blocks beside it share those rows.
  const body = grid(maps.map(({ name, maps: m }) => ({ name, image, map: sliceMap(m, index) })), { rowLabels: index === 0 });
  const caption = `${index + 1}. ${scene.className} - model: ${predictedName}`;
  const captionHeight = 2 * CAPTION_SCALE * 7 + 4;
  const block = createImage(body.width, body.height + captionHeight);
  fillRect(block, 0, 0, block.width, block.height, BACKGROUND);
  drawText(block, caption, 4, 4, predictedName === scene.className ? INK : WRONG, CAPTION_SCALE);
  blit(block, body, 0, captionHeight);
  return block;
}

/** Map `index` of [N,H,W] as [1,H,W]. */
function sliceMap(maps: Tensor, index: number): Tensor {
  const [, h, w] = maps.shape as [number, number, number];
  const data = maps.data.slice(index * h * w, (index + 1) * h * w);
  return new Tensor(data, [1, h, w]);
}

/** Grids placed left to right on one canvas. */
function sideBySide(images: readonly RgbaImage[]): RgbaImage {
  const width = images.reduce((w, im) => w + im.width, 0);
  const height = Math.max(...images.map((im) => im.height));
  const canvas = createImage(width, height);
  fillRect(canvas, 0, 0, width, height, BACKGROUND);
  let x = 0;
  for (const im of images) {
    blit(canvas, im, x, 0);
    x += im.width;
  }
  return canvas;
}

main();
