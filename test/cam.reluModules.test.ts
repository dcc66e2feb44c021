/**
 * The ReLU module contract (isReluModule): guided backprop and deconvnet
 * change the backward rule of exactly the modules that carry it — the layers
 * API's ReLU, an ONNX Relu node, a Keras ReLU layer — and of no other module,
 * whatever its typeName, as pytorch-grad-cam changes only nn.ReLU modules.
 *
 * Every model here is x [1, 2, 1, 1] -> relu-like -> flatten -> y = h W with
 * W = [[1, -2], [-3, 1]] (y0 = h0 - 3 h1), explained for target 0 at
 * x = (-1, 2): the gradient reaching the relu is W[:, 0] = (1, -3), so
 *   saliency (standard rule): (0, -3)   (x > 0 passes the gradient)
 *   guided backprop:          (0, 0)    (also only positive gradients)
 *   deconvnet:                (1, 0)    (relu of the gradient, whatever x)
 * With 1x1 spatial size the NHWC and NCHW orders of x coincide.
 */
import { describe, expect, it } from 'vitest';
import { deconvnet, guidedBackprop, saliency } from '../src/cam/index.js';
import { Flatten, Linear, ReLU, ReLU6, LeakyReLU, Sequential, isReluModule } from '../src/layers/index.js';
import { Module } from '../src/layers/module.js';
import { loadOnnx } from '../src/onnx/index.js';
import { relu, type ReluBackwardRule } from '../src/tensor/ops/activations.js';
import { tensor, type Tensor } from '../src/tensor/tensor.js';
import { loadTfjsModel } from '../src/tfjs/index.js';
import { onnxModel } from './onnx.builder.js';
import { saveModel, tf } from './helpers/tfjs.js';

const x = tensor([-1, 2], [1, 2, 1, 1]);
const xNhwc = tensor([-1, 2], [1, 1, 1, 2]);
const W = [
  [1, -2],
  [-3, 1],
];

function explain(model: Module, input = x): { saliency: number[]; guided: number[]; deconvnet: number[] } {
  const values = (t: Tensor): number[] => Array.from(t.data);
  return {
    saliency: values(saliency(model, input, { target: 0 }).gradients),
    guided: values(guidedBackprop(model, input, { target: 0 }).gradients),
    deconvnet: values(deconvnet(model, input, { target: 0 }).gradients),
  };
}

const GUIDED = { saliency: [0, -3], guided: [0, 0], deconvnet: [1, 0] };
const UNTOUCHED = { saliency: [0, -3], guided: [0, -3], deconvnet: [0, -3] };

function layersModel(activation: Module): Module {
  const fc = new Linear(2, 2, { bias: false });
  fc.weight.data.set([W[0]![0]!, W[1]![0]!, W[0]![1]!, W[1]![1]!]); // torch's [out, in]
  return new Sequential({ act: activation, flatten: new Flatten(), fc });
}

/** typeName 'ReLU' and a backwardRule field, but not the contract. */
class NamedReLU extends Module {
  static override readonly typeName: string = 'ReLU';
  backwardRule: ReluBackwardRule = 'standard';
  override forward(input: Tensor): Tensor {
    return relu(input, { backwardRule: this.backwardRule });
  }
}

describe('isReluModule', () => {
  it("holds for the layers API's ReLU (and subclasses, as isinstance), not for other activations or a module only named 'ReLU'", () => {
    class MyReLU extends ReLU {
      static override readonly typeName: string = 'MyReLU';
    }
    expect([new ReLU(), new MyReLU(), new ReLU6(), new LeakyReLU(), new NamedReLU(), new Flatten()].map(isReluModule)).toEqual([
      true, true, false, false, false, false,
    ]);
  });
});

describe('guided backprop and deconvnet change the rule of ReLU modules only', () => {
  it("the layers API's ReLU", () => {
    expect(explain(layersModel(new ReLU()))).toEqual(GUIDED);
  });

  it("a module named 'ReLU' without the contract keeps its own rule", () => {
    const named = new NamedReLU();
    expect(explain(layersModel(named))).toEqual(UNTOUCHED);
    expect(named.backwardRule).toBe('standard');
  });

  it('an ONNX Relu node (and no other node), its rule restored afterwards', () => {
    const model = loadOnnx(
      onnxModel({
        opset: 13,
        nodes: [
          { op: 'Relu', name: '/act/Relu', inputs: ['x'], outputs: ['h'] },
          { op: 'Flatten', name: '/flatten/Flatten', inputs: ['h'], outputs: ['f'] },
          { op: 'MatMul', name: '/fc/MatMul', inputs: ['f', 'w'], outputs: ['y'] },
        ],
        inputs: [{ name: 'x', dims: ['N', 2, 1, 1] }, { name: 'w', dims: [2, 2] }],
        outputs: [{ name: 'y', dims: ['N', 2] }],
        initializers: [{ name: 'w', dims: [2, 2], floats: W.flat() }],
      }),
    );
    const relus = model.modules().filter(isReluModule);
    expect(relus.map((m) => m.typeName)).toEqual(['ReLU']);
    expect(explain(model)).toEqual(GUIDED);
    expect(relus[0]!.backwardRule).toBe('standard');
  });

  /** Input [1, 1, 2] (NHWC) -> the activation layer -> Flatten -> Dense(2, W, no bias). */
  async function kerasModel(activation: tf.layers.Layer): Promise<Module> {
    const dense = tf.layers.dense({ units: 2, useBias: false, name: 'fc' });
    const model = tf.sequential({ layers: [tf.layers.inputLayer({ inputShape: [1, 1, 2] }), activation, tf.layers.flatten(), dense] });
    dense.setWeights([tf.tensor2d(W)]); // Keras's kernel is [in, out]
    const saved = await saveModel(model);
    return loadTfjsModel(saved.modelJson, { weights: saved.weights });
  }

  it('a TensorFlow.js ReLU layer', async () => {
    const model = await kerasModel(tf.layers.reLU({ name: 'act' }));
    expect(model.modules().filter(isReluModule).map((m) => m.typeName)).toEqual(['ReLU']);
    expect(explain(model, xNhwc)).toEqual(GUIDED);
  });

  it("not Keras's Activation('relu') (pytorch-grad-cam changes nn.ReLU modules only)", async () => {
    const model = await kerasModel(tf.layers.activation({ activation: 'relu', name: 'act' }));
    expect(model.modules().some(isReluModule)).toBe(false);
    expect(explain(model, xNhwc)).toEqual(UNTOUCHED);
  });
});
