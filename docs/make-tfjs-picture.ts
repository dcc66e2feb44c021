/**
 * Draws docs/images/tfjs-nsfwjs.png, the README's TensorFlow.js example:
 * Grad-CAM of nsfwjs's models (the npm package nsfwjs 4.4, a devDependency)
 * on the two photographs in test/data/photos, for each photo's top class.
 * Rows: the MobileNetV2 layers model at out_relu, then the MobileNetV2-mid
 * graph model at its default layer. Run: `npx tsx docs/make-tfjs-picture.ts`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gradCam } from '../src/cam/index.js';
import { decodeImage, encodePng, grid, preprocess, resize } from '../src/image/index.js';
import { softmax } from '../src/tensor/ops/softmax.js';
import { Tensor } from '../src/tensor/tensor.js';
import { loadTfjsModel, TFJS_SCALING, toChannelsLast } from '../src/tfjs/index.js';
import { NSFW_CLASSES, nsfwModel, type NsfwModel } from '../test/helpers/nsfwjs.js';

const here = dirname(fileURLToPath(import.meta.url));
const PHOTOS = ['chelsea.png', 'rocket.jpg'];
const MODELS: [NsfwModel, string][] = [
  ['mobilenet_v2', 'MobileNetV2'],
  ['mobilenet_v2_mid', 'MobileNetV2-mid'],
];

const rows = [];
for (const [name, title] of MODELS) {
  const { modelJson, shards } = nsfwModel(name);
  const model = loadTfjsModel(modelJson, { weights: (path) => shards.get(path)! });
  for (const file of PHOTOS) {
    const image = resize(decodeImage(new Uint8Array(readFileSync(join(here, '../test/data/photos', file)))), { width: 224, height: 224, antialias: true });
    const input = toChannelsLast(preprocess(image, { ...TFJS_SCALING.unit }));
    const result = gradCam(model, input);
    const probabilities = softmax(result.logits, 1).data;
    const top = result.targets![0]!;
    rows.push({
      // Short: the label column sits beside the pictures; the README's caption names the layers.
      name: `${title}: ${NSFW_CLASSES[top]} ${(probabilities[top]! * 100).toFixed(1)} %`,
      image,
      map: new Tensor(result.maps.data, [224, 224]),
    });
  }
}
const out = join(here, 'images', 'tfjs-nsfwjs.png');
writeFileSync(out, encodePng(grid(rows)));
console.log(`wrote ${out}`);
