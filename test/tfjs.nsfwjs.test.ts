/**
 * The three models the npm package nsfwjs 4.4 ships, on real photographs
 * (test/data/photos), against TensorFlow.js 4.22 itself. MobileNetV2 and
 * InceptionV3 are Keras layers models with uint8-quantized weights;
 * MobileNetV2-mid is a graph model. nsfwjs feeds pixels / 255, NHWC.
 *
 * InceptionV3 at 299x299 is heavy for tfjs's pure-JS backend (about 25 s
 * per forward pass on a quiet core), so it is compared once: its outputs on
 * one photo, and a Grad-CAM map.
 */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { gradCam } from '../src/cam/index.js';
import { decodeImage, preprocess } from '../src/image/index.js';
import { concat } from '../src/tensor/ops/shape.js';
import { softmax } from '../src/tensor/ops/softmax.js';
import { mean, sum } from '../src/tensor/ops/reduce.js';
import { mul } from '../src/tensor/ops/elementwise.js';
import { setBackend } from '../src/tensor/backend.js';
import { Tensor } from '../src/tensor/tensor.js';
import { loadTfjsModel, TFJS_SCALING, toChannelsLast, type TfjsLayersModel } from '../src/tfjs/index.js';
import { concatenated, NSFW_CLASSES, nsfwModel } from './helpers/nsfwjs.js';
import { activationAndGradient, onTfjsWasm, onTfjsWasmElseCpu, predict, tf } from './helpers/tfjs.js';
import { asStored, classScore, expectClose, tinycamActivationAndGradient } from './helpers/tfjs-compare.js';

const PHOTOS = new URL('./data/photos/', import.meta.url);

/** A photo as nsfwjs feeds it: resized, pixels / 255, [1, size, size, 3]. */
function photo(file: string, size: number): Tensor {
  const image = decodeImage(new Uint8Array(readFileSync(new URL(file, PHOTOS))));
  return toChannelsLast(preprocess(image, { resize: { width: size, height: size }, ...TFJS_SCALING.unit }));
}

async function tfjsModel(modelJson: ReturnType<typeof nsfwModel>['modelJson'], shards: Map<string, Uint8Array>): Promise<tf.LayersModel> {
  const weightSpecs = modelJson.weightsManifest.flatMap((g) => g.weights) as tf.io.WeightsManifestEntry[];
  return tf.loadLayersModel(tf.io.fromMemory({ modelTopology: modelJson.modelTopology as object, weightSpecs, weightData: concatenated(shards).buffer }));
}

describe('nsfwjs MobileNetV2 (layers model, uint8 weights)', () => {
  let reference: tf.LayersModel;
  let ours: TfjsLayersModel;
  const cat = () => photo('chelsea.png', 224);
  const rocket = () => photo('rocket.jpg', 224);
  // tfjs's A and dA of the class-2 ('Neutral') score on the cat, by layer and score, computed once.
  const references = new Map<string, ReturnType<typeof activationAndGradient>>();
  const tfjsReference = async (layer: string, beforeSoftmax: boolean) => {
    const key = `${layer}|${beforeSoftmax}`;
    if (!references.has(key)) references.set(key, await onTfjsWasmElseCpu(() => activationAndGradient(reference, cat(), layer, classScore([2]), { beforeSoftmax })));
    return references.get(key)!;
  };

  beforeAll(async () => {
    const { modelJson, shards } = nsfwModel('mobilenet_v2');
    ours = loadTfjsModel(modelJson, { weights: (path) => shards.get(path)! }) as TfjsLayersModel;
    reference = await tfjsModel(modelJson, shards);
  });

  it('loads with its Keras layer names; out_relu is the CAM layer', () => {
    for (const name of ['Conv1', 'block_16_project_BN', 'Conv_1', 'out_relu', 'dense_3']) expect(ours.hasLayer(name)).toBe(true);
    expect(ours.camLayer).toBe('out_relu');
    expect(ours.inputShapes).toEqual([[null, 224, 224, 3]]);
  });

  it('outputs equal model.predict on two photos (1e-4 relative)', async () => {
    const input = concat([cat(), rocket()], 0);
    const got = ours.forward(input);
    expectClose(got, (await onTfjsWasm(() => predict(reference, input)))[0]!, 1e-4, 'probabilities');
    // The cat and the rocket are 'Neutral'.
    for (let n = 0; n < 2; n++) {
      const row = Array.from(got.data.subarray(n * 5, n * 5 + 5));
      expect(NSFW_CLASSES[row.indexOf(Math.max(...row))]).toBe('Neutral');
    }
  }, 300_000);

  // At out_relu only: a layer before Conv_1 would need tfjs's gradient through a conv on 'cpu' (tfjs-backend-wasm
  // has no Conv2DBackpropFilter), about 25 s of CI. Gradients through every layer class are checked against tfjs
  // in tfjs.layers, and through this network's Conv_1 on real weights by the graph model (tfjs.graph, project_16).
  it('A and dA (of the Neutral logit) at out_relu equal tf.grad (1e-4 relative)', async () => {
    for (const layer of ['out_relu']) {
      const theirs = await tfjsReference(layer, true);
      const mine = tinycamActivationAndGradient(ours, cat(), layer, [2]);
      expectClose(mine.logits, theirs.output, 1e-4, 'logits');
      expectClose(mine.activation, asStored(theirs.activation, true), 1e-4, `A at ${layer}`);
      expectClose(mine.gradient, asStored(theirs.gradient, true), 1e-4, `dA at ${layer}`);
    }
  }, 300_000);

  it("Grad-CAM at out_relu equals a Grad-CAM from tfjs's A and dA", async () => {
    // The Neutral logit, before dense_3's softmax: what the CAM methods explain by default.
    const result = gradCam(ours, cat(), { layer: 'out_relu', target: 2 });
    expect(result.output).toBe('dense_3');
    const theirs = await tfjsReference('out_relu', true);
    expectClose(result.logits, theirs.output, 1e-4, 'logits');
    const a = asStored(theirs.activation, true);
    const expected = sum(mul(a, mean(asStored(theirs.gradient, true), [2, 3], true)), 1);
    expectClose(result.layers[0]!.raw, expected, 1e-4, 'raw map');
    expect([...result.maps.shape]).toEqual([1, 224, 224]);
    expect(result.maps.data.every((v) => v >= 0 && v <= 1)).toBe(true);
  }, 300_000);
});

describe('nsfwjs InceptionV3 (layers model, uint8 weights in 6 shards), compared once', () => {
  it('outputs equal model.predict on a photo; Grad-CAM at mixed10 gives a map', async () => {
    const { modelJson, shards } = nsfwModel('inception_v3');
    const ours = loadTfjsModel(modelJson, { weights: (path) => shards.get(path)! });
    expect(ours.camLayer).toBe('mixed10');
    const input = photo('rocket.jpg', 299);
    const reference = await tfjsModel(modelJson, shards);
    // One forward pass each: the Grad-CAM run's logits give tinycam's probabilities. On tinycam's WebAssembly
    // kernels (this checks the loader, not the kernels; a 299x299 InceptionV3 takes ~10 s more on the JS ones).
    await setBackend('wasm');
    let result: ReturnType<typeof gradCam>;
    try {
      result = gradCam(ours, input, { target: 2 });
    } finally {
      await setBackend('js');
    }
    expectClose(softmax(result.logits, 1), (await onTfjsWasm(() => predict(reference, input)))[0]!, 1e-4, 'probabilities');
    expect(result.layers[0]!.name).toBe('mixed10');
    expect([...result.layers[0]!.raw.shape]).toEqual([1, 8, 8]);
    expect([...result.maps.shape]).toEqual([1, 299, 299]);
    expect(result.maps.data.every((v) => v >= 0 && v <= 1)).toBe(true);
    expect(Math.max(...result.maps.data)).toBeCloseTo(1, 5);
  }, 600_000);
});
