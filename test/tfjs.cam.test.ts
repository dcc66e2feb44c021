/**
 * Every CAM method on a TensorFlow.js model that takes NHWC gives what it
 * gives on the same model behind an NCHW front (a module that permutes its
 * input to NHWC and calls the model): the methods read the input's layout
 * from `model.inputLayout`, and hooks see [N, C, h, w] at any layer.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as cam from '../src/cam/index.js';
import { Module, type ModelOutput } from '../src/layers/module.js';
import { rand } from '../src/tensor/random.js';
import type { Tensor } from '../src/tensor/tensor.js';
import { loadTfjsModel, toChannelsFirst, toChannelsLast, type TfjsLayersModel } from '../src/tfjs/index.js';
import { saveModel } from './helpers/tfjs.js';
import { expectClose } from './helpers/tfjs-compare.js';
import { teachableMachineModel } from './helpers/tfjs-models.js';

/** The tfjs model behind an NCHW input: same layers (same modules), NCHW in. */
class ChannelsFirstFront extends Module {
  readonly #inner: TfjsLayersModel;
  constructor(inner: TfjsLayersModel) {
    super();
    this.#inner = inner;
  }
  forward(x: Tensor): Tensor {
    return this.#inner.forward(toChannelsLast(x));
  }
  override forwardOutputs(x: Tensor): ModelOutput[] {
    return this.#inner.forwardOutputs(toChannelsLast(x));
  }
  override getModule(name: string): Module | undefined {
    return name === '' ? this : this.#inner.getModule(name);
  }
  override namedModules(): [string, Module][] {
    return [['', this], ...this.#inner.namedModules().slice(1)];
  }
}

let model: TfjsLayersModel;
let front: ChannelsFirstFront;
const nhwc = rand([2, 32, 32, 3], { seed: 21, low: -1, high: 1 });
const nchw = toChannelsFirst(nhwc);

beforeAll(async () => {
  const saved = await saveModel(teachableMachineModel(32, 3));
  model = loadTfjsModel(saved.modelJson, { weights: saved.weights }) as TfjsLayersModel;
  front = new ChannelsFirstFront(model);
});

describe('CAM methods on an NHWC model equal the same model behind an NCHW front', () => {
  const mapMethods = ['gradCam', 'gradCamPlusPlus', 'xGradCam', 'layerCam', 'hiResCam', 'eigenCam', 'ablationCam', 'scoreCam'] as const;
  it.each(mapMethods)('%s', (name) => {
    const method = cam[name] as (m: Module, x: Tensor, o: object) => cam.MapResult;
    const options = { layer: 'out_relu', target: [0, 2] };
    const mine = method(model, nhwc, options);
    const theirs = method(front, nchw, options);
    expect([...mine.maps.shape]).toEqual([2, 32, 32]);
    expectClose(mine.maps, theirs.maps, 1e-6, `${name} maps`);
    expectClose(mine.logits, theirs.logits, 0, 'logits');
  });

  it('guidedGradCam and saliency: gradients in the NHWC layout of the input', () => {
    const mine = cam.guidedGradCam(model, nhwc, { layer: 'out_relu', target: 1 });
    const theirs = cam.guidedGradCam(front, nchw, { layer: 'out_relu', target: 1 });
    expect([...mine.gradients.shape]).toEqual([2, 32, 32, 3]);
    expectClose(toChannelsFirst(mine.gradients), theirs.gradients, 1e-6, 'guided Grad-CAM');
    const s = cam.saliency(model, nhwc, { target: 1 });
    expectClose(toChannelsFirst(s.gradients), cam.saliency(front, nchw, { target: 1 }).gradients, 1e-6, 'saliency');
  });

  it('explains the logits before the final softmax by default, the probability on request', () => {
    const byDefault = cam.gradCam(model, nhwc, { layer: 'out_relu', target: 0 });
    const [out] = model.forwardOutputs(nhwc);
    expectClose(byDefault.logits, out!.logits!, 0, 'logits');
    const probability = cam.gradCam(model, nhwc, { layer: 'out_relu', target: 0, explainProbability: true });
    expect(Array.from(probability.maps.data)).not.toEqual(Array.from(byDefault.maps.data));
  });
});
