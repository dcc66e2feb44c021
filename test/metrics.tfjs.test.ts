/**
 * Explaining a TensorFlow.js model (which tinycam cannot differentiate) with
 * rise and occlusion through a scoring function that calls model.predict:
 * a linear tfjs model gives its exact weight pattern, and a small tfjs CNN
 * gives the same maps as the same network built from tinycam layers and
 * explained through the Module path.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { occlusion, rise, riseMasks } from '../src/metrics/index.js';
import { Module } from '../src/layers/module.js';
import { Conv2d } from '../src/layers/conv.js';
import { Linear } from '../src/layers/linear.js';
import { ReLU } from '../src/layers/activation.js';
import { AdaptiveAvgPool2d } from '../src/layers/pooling.js';
import { flatten, permute } from '../src/tensor/ops/shape.js';
import { Rng } from '../src/tensor/random.js';
import { Tensor } from '../src/tensor/tensor.js';

const H = 12;
const W = 10;

/** A scoring function over a tfjs model: tinycam's NCHW batch in, model.predict on NHWC, scores [B, K] out. */
function tfjsScore(model: tf.LayersModel) {
  return (batch: Tensor): Float32Array => {
    const nhwc = permute(batch, [0, 2, 3, 1]);
    return tf.tidy(() => (model.predict(tf.tensor4d(nhwc.data, nhwc.shape as [number, number, number, number])) as tf.Tensor).dataSync() as Float32Array);
  };
}

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

describe('a TensorFlow.js model through a scoring function', () => {
  it('linear model: occlusion with a 1 x 1 window gives w x per pixel, RISE on every binary mask its affine image', () => {
    // Dense on a 1-channel 2 x 4 image: score = sum_p w_p x_p (no bias).
    const w = [0.5, -1, 2, 0.25, 1.5, -0.5, 3, 1];
    const model = tf.sequential({ layers: [tf.layers.flatten({ inputShape: [2, 4, 1] }), tf.layers.dense({ units: 1, useBias: false })] });
    model.layers[1]!.setWeights([tf.tensor2d(w, [8, 1])]);
    const x = new Tensor(Float32Array.of(1, 2, 3, 4, 5, 6, 7, 8), [1, 1, 2, 4]);
    const occ = occlusion(tfjsScore(model), x, { window: 1 });
    w.forEach((v, p) => expect(occ.maps.data[p]).toBeCloseTo(v * x.data[p]!, 4));
    const masks = new Tensor(Float32Array.from({ length: 256 * 8 }, (_, i) => (Math.floor(i / 8) >> i % 8) & 1), [256, 2, 4]);
    const r = rise(tfjsScore(model), x, { masks, probability: 0.5 });
    const total = w.reduce((s, v, p) => s + v * x.data[p]!, 0);
    w.forEach((v, p) => expect(r.maps.data[p]).toBeCloseTo(0.5 * v * x.data[p]! + 0.5 * total, 3));
  });

  describe('a small CNN in tfjs and the same CNN in tinycam layers', () => {
    const rng = new Rng(7);
    const draw = (n: number, scale: number) => Float32Array.from({ length: n }, () => (2 * rng.uniform() - 1) * scale);
    const convW = draw(6 * 3 * 3 * 3, 0.4); // OIHW [6, 3, 3, 3]
    const convB = draw(6, 0.1);
    const fcW = draw(4 * 6, 0.8); // [out, in]
    const fcB = draw(4, 0.1);

    const tfModel = tf.sequential({
      layers: [
        tf.layers.conv2d({ inputShape: [H, W, 3], filters: 6, kernelSize: 3, padding: 'same', activation: 'relu' }),
        tf.layers.globalAveragePooling2d({}),
        tf.layers.dense({ units: 4 }),
      ],
    });
    // OIHW -> HWIO, [out, in] -> [in, out].
    const hwio = new Float32Array(3 * 3 * 3 * 6);
    for (let o = 0; o < 6; o++) for (let i = 0; i < 3; i++) for (let y = 0; y < 3; y++) for (let x = 0; x < 3; x++) hwio[((y * 3 + x) * 3 + i) * 6 + o] = convW[((o * 3 + i) * 3 + y) * 3 + x]!;
    tfModel.layers[0]!.setWeights([tf.tensor4d(hwio, [3, 3, 3, 6]), tf.tensor1d(convB)]);
    tfModel.layers[2]!.setWeights([tf.tensor2d(Float32Array.from({ length: 24 }, (_, k) => fcW[(k % 4) * 6 + Math.floor(k / 4)]!), [6, 4]), tf.tensor1d(fcB)]);

    class Net extends Module {
      conv = new Conv2d(3, 6, 3, { padding: 1 });
      relu = new ReLU();
      pool = new AdaptiveAvgPool2d(1);
      fc = new Linear(6, 4);
      override forward(x: Tensor): Tensor {
        return this.fc.forward(flatten(this.pool.forward(this.relu.forward(this.conv.forward(x))), 1));
      }
    }
    const net = new Net();
    net.loadStateDict({
      'conv.weight': new Tensor(convW, [6, 3, 3, 3]),
      'conv.bias': new Tensor(convB, [6]),
      'fc.weight': new Tensor(fcW, [4, 6]),
      'fc.bias': new Tensor(fcB, [4]),
    });
    const input = new Tensor(Float32Array.from({ length: 2 * 3 * H * W }, (_, i) => Math.sin(i * 0.37) + Math.cos(i * 0.11)), [2, 3, H, W]);

    const expectSameMaps = (a: Tensor, b: Tensor) => {
      let scale = 0;
      let worst = 0;
      a.data.forEach((v, i) => {
        scale = Math.max(scale, Math.abs(b.data[i]!));
        worst = Math.max(worst, Math.abs(v - b.data[i]!));
      });
      expect(scale).toBeGreaterThan(0);
      expect(worst / scale).toBeLessThan(1e-4);
    };

    it('both compute the same logits', () => {
      const ours = net.forward(input);
      const theirs = tfjsScore(tfModel)(input);
      ours.data.forEach((v, i) => expect(theirs[i]).toBeCloseTo(v, 5));
    });

    it('rise: same map through tfjs predict and through the Module', () => {
      const masks = riseMasks(200, H, W, { cells: 4, seed: 3 });
      const viaTfjs = rise(tfjsScore(tfModel), input, { masks, batchSize: 50 });
      const viaModule = rise(net, input, { masks, batchSize: 50 });
      expect(viaTfjs.targets).toEqual(viaModule.targets);
      expectSameMaps(viaTfjs.maps, viaModule.maps);
    });

    it('occlusion: same map through tfjs predict and through the Module', () => {
      const viaTfjs = occlusion(tfjsScore(tfModel), input, { window: 3, stride: 2, target: [1, 3] });
      const viaModule = occlusion(net, input, { window: 3, stride: 2, target: [1, 3] });
      expectSameMaps(viaTfjs.maps, viaModule.maps);
    });
  });
});
