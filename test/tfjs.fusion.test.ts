import { beforeAll, describe, expect, it, vi } from 'vitest';
import { gradCam } from '../src/cam/methods/gradCam.js';
import type { Module } from '../src/layers/module.js';
import { noGrad } from '../src/tensor/autograd.js';
import { setBackend, type BackendName } from '../src/tensor/backend.js';
import { rand } from '../src/tensor/random.js';
import type { Tensor } from '../src/tensor/tensor.js';
import { loadTfjsModel, type TfjsLayersModel } from '../src/tfjs/index.js';
import type { KerasLayer } from '../src/tfjs/keras/layer.js';
import { KerasBatchNormalization } from '../src/tfjs/keras/normalization.js';
import { expectSameBits } from './helpers/buffer-pool.js';
import { layerByLayer } from './helpers/hooks.js';
import { NSFW_MODELS, nsfwModel } from './helpers/nsfwjs.js';
import { randomizeWeights, teachableMachineModel } from './helpers/tfjs-models.js';
import { saveModel, tf } from './helpers/tfjs.js';

/**
 * Conv2D / DepthwiseConv2D -> BatchNormalization (-> ReLU, ReLU(6),
 * Activation('relu')) of a Keras model run as one convolution
 * (src/tfjs/keras/fusion.ts) only where nothing can tell: the reference is
 * the same model with a hook on every layer, which runs them one by one.
 */

const L = tf.layers;

/** x -> Conv2D -> BN -> ReLU(6) -> DepthwiseConv2D -> BN -> Activation('relu') -> Conv2D -> BN -> ReLU, the last one the output; `branch` also reads the first conv's output. */
function chainModel(branch: boolean): tf.LayersModel {
  const input = tf.input({ shape: [9, 9, 3], name: 'x' });
  const apply = (layer: tf.layers.Layer, x: tf.SymbolicTensor | tf.SymbolicTensor[]) => layer.apply(x) as tf.SymbolicTensor;
  const c1 = apply(L.conv2d({ filters: 6, kernelSize: 3, padding: 'same', name: 'c1' }), input);
  let x = apply(L.batchNormalization({ name: 'bn1' }), c1);
  x = apply(L.reLU({ maxValue: 6, name: 'r1' }), x);
  x = apply(L.depthwiseConv2d({ kernelSize: 3, strides: 2, padding: 'same', useBias: false, name: 'dw' }), x);
  x = apply(L.batchNormalization({ name: 'bn2', scale: false }), x);
  x = apply(L.activation({ activation: 'relu', name: 'r2' }), x);
  x = apply(L.conv2d({ filters: 6, kernelSize: 1, name: 'c3' }), x);
  x = apply(L.batchNormalization({ name: 'bn3' }), x);
  x = apply(L.reLU({ name: 'r3' }), x);
  const outputs = branch ? [x, apply(L.globalAveragePooling2d({ name: 'side' }), c1)] : x;
  const model = tf.model({ inputs: input, outputs, name: 'chains' });
  randomizeWeights(model, 5);
  return model;
}

/** Two branches made as Keras lists layers, by depth: both convs, then both batch norms, then both ReLUs, then their concatenation. */
function branchesModel(): tf.LayersModel {
  const input = tf.input({ shape: [8, 8, 3], name: 'x' });
  const apply = (layer: tf.layers.Layer, x: tf.SymbolicTensor | tf.SymbolicTensor[]) => layer.apply(x) as tf.SymbolicTensor;
  const convs = [apply(L.conv2d({ filters: 4, kernelSize: 3, padding: 'same', name: 'a_conv' }), input), apply(L.conv2d({ filters: 5, kernelSize: 1, name: 'b_conv' }), input)];
  const norms = convs.map((c, i) => apply(L.batchNormalization({ name: `${'ab'[i]}_bn` }), c));
  const relus = norms.map((n, i) => apply(L.activation({ activation: 'relu', name: `${'ab'[i]}_relu` }), n));
  const model = tf.model({ inputs: input, outputs: apply(L.concatenate({ name: 'mixed' }), relus), name: 'branches' });
  randomizeWeights(model, 6);
  return model;
}

async function ours(model: tf.LayersModel): Promise<TfjsLayersModel> {
  const saved = await saveModel(model);
  return loadTfjsModel(saved.modelJson, { weights: saved.weights }) as TfjsLayersModel;
}

/** `f`, and how many of `model`'s batch norm layers' forwards ran during it. */
function batchNormsRun<T>(model: Module, f: () => T): { value: T; count: number } {
  const spies = [...model.modules()].filter((m) => m instanceof KerasBatchNormalization).map((m) => vi.spyOn(m, 'forward'));
  try {
    const value = f();
    return { value, count: spies.reduce((n, spy) => n + spy.mock.calls.length, 0) };
  } finally {
    for (const spy of spies) spy.mockRestore();
  }
}

let chains: TfjsLayersModel;
let branched: TfjsLayersModel;
let teachable: TfjsLayersModel;
let branches: TfjsLayersModel;
beforeAll(async () => {
  branches = await ours(branchesModel());
  chains = await ours(chainModel(false));
  branched = await ours(chainModel(true));
  const tm = teachableMachineModel();
  randomizeWeights(tm, 9);
  teachable = await ours(tm);
});

describe.each(['js', 'wasm'] as BackendName[])('Keras conv chains run as one convolution on the %s kernels', (backend) => {
  const use = async (): Promise<void> => {
    expect(await setBackend(backend)).toBe(true);
  };
  const input = (seed: number, size = 9): Tensor => rand([2, size, size, 3], { seed, low: -1, high: 1 });

  it("gives the layers' values bit for bit without running a batch norm (ReLU6, Activation('relu'), ReLU, no scale)", async () => {
    await use();
    const x = input(1);
    const reference = layerByLayer(chains, () => noGrad(() => chains.forward(x)));
    const fused = batchNormsRun(chains, () => noGrad(() => chains.forward(x)));
    expect(fused.count).toBe(0);
    expectSameBits(fused.value.data, reference.data);
    expect(reference.data.some((v) => v === 0) && reference.data.some((v) => v > 0)).toBe(true); // the last ReLU did something
    // The skipped layers still report their output's shape.
    const shape = (name: string) => (chains.layer(name) as KerasLayer).lastShape;
    expect(shape('bn2')).toEqual(shape('dw'));
    expect(shape('r2')).toEqual([2, 6, 5, 5]);
  });

  it('fuses the chains of parallel branches that Keras lists by depth (all convs, then all batch norms), and keeps the default CAM layer', async () => {
    await use();
    const x = input(4, 8);
    const reference = layerByLayer(branches, () => noGrad(() => branches.forward(x)));
    const fused = batchNormsRun(branches, () => noGrad(() => branches.forward(x)));
    expect(fused.count).toBe(0);
    expectSameBits(fused.value.data, reference.data);
    expect(branches.camLayer).toBe('mixed');
  });

  it('runs a chain by itself where a hook watches one of its layers, or its conv output has a second reader', async () => {
    await use();
    const x = input(2);
    const reference = layerByLayer(chains, () => noGrad(() => chains.forward(x)));
    const seen: Tensor[] = [];
    const handle = chains.layer('bn1').registerForwardHook((_m, _inputs, output) => {
      seen.push(output as Tensor);
    });
    try {
      const hooked = batchNormsRun(chains, () => noGrad(() => chains.forward(x)));
      expect(hooked.count).toBe(1); // bn1 ran; the other two chains stayed fused
      expect(seen).toHaveLength(1);
      expect(seen[0]!.data.some((v) => v < 0)).toBe(true); // the hook saw the batch norm's output, before the ReLU6
      expectSameBits(hooked.value.data, reference.data);
    } finally {
      handle.remove();
    }
    // c1's output also feeds the side output: that chain runs layer by layer, the other two fused.
    const side = layerByLayer(branched, () => noGrad(() => branched.forwardOutputs(x)));
    const run = batchNormsRun(branched, () => noGrad(() => branched.forwardOutputs(x)));
    expect(run.count).toBe(1);
    run.value.forEach((o, i) => expectSameBits(o.value.data, side[i]!.value.data));
  });

  it('runs layer by layer where a gradient is recorded, and Grad-CAM is bit for bit the unfused one', async () => {
    await use();
    const x = input(3, 32);
    const recorded = batchNormsRun(teachable, () => teachable.forward(x));
    expect(recorded.count).toBe(4); // parameters require grad: every batch norm ran
    const reference = layerByLayer(teachable, () => gradCam(teachable, x, { layer: 'out_relu' }));
    const fused = gradCam(teachable, x, { layer: 'out_relu' });
    expectSameBits(fused.maps.data, reference.maps.data);
    expectSameBits(fused.logits.data, reference.logits.data);
  });
});

/** An nsfwjs Keras model: every one of its `chains` batch norms runs fused (none of their forwards), bit for bit the layers one by one. */
function expectAllFused(name: 'mobilenet_v2' | 'inception_v3', chains: number): TfjsLayersModel {
  const { modelJson, shards } = nsfwModel(name);
  const model = loadTfjsModel(modelJson, { weights: (path) => shards.get(path)! }) as TfjsLayersModel;
  const x = rand([1, NSFW_MODELS[name].size, NSFW_MODELS[name].size, 3], { seed: 4 });
  const reference = batchNormsRun(model, () => layerByLayer(model, () => noGrad(() => model.forward(x))));
  expect(reference.count).toBe(chains);
  const fused = batchNormsRun(model, () => noGrad(() => model.forward(x)));
  expect(fused.count).toBe(0);
  expectSameBits(fused.value.data, reference.value.data);
  return model;
}

describe.each(['js', 'wasm'] as BackendName[])("nsfwjs's MobileNetV2 (a Keras model) on the %s kernels", (backend) => {
  it('runs all 52 of its batch norms fused into their convolutions, bit for bit the layers one by one', async () => {
    expect(await setBackend(backend)).toBe(true);
    expectAllFused('mobilenet_v2', 52);
  });
});

// InceptionV3 at 299x299 on the WebAssembly kernels only: on the JS kernels its two passes take seconds.
describe("nsfwjs's InceptionV3 (a Keras model) on the wasm kernels", () => {
  it('runs all 94 of its batch norms fused, whose parallel branches Keras lists by depth, bit for bit the layers one by one', async () => {
    expect(await setBackend('wasm')).toBe(true);
    expect(expectAllFused('inception_v3', 94).camLayer).toBe('mixed10');
  });
});
