import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { loadOnnx } from '../src/onnx/index.js';
import { decodeTensor } from '../src/onnx/proto.js';
import { tensorFromProto } from '../src/onnx/tensorData.js';
import { ProtoReader } from '../src/onnx/wire.js';
import { noGrad } from '../src/tensor/autograd.js';
import { Tensor } from '../src/tensor/tensor.js';
import { describeReference, referencePath } from './helpers/shared.js';

/**
 * The classic ONNX model-zoo CNNs in "light" form (opset 9: LRN, Sum, old
 * BatchNormalization, Reshape with a shape input, initializers listed as
 * inputs, weights made by ConstantOfShape). Input arange(n)/n in the input's
 * shape; the expected output is the ONNX project's. Full-size graphs at
 * 224x224: VGG-19 alone is ~20 GFLOP and ~0.6 GB of weights.
 */
const ROOT = referencePath('onnx-model-zoo-light');
const MODELS = ['bvlc_alexnet', 'zfnet512', 'vgg19', 'resnet50', 'squeezenet', 'densenet121', 'inception_v1', 'inception_v2', 'shufflenet'];

function readTensorPb(path: string): Tensor {
  return tensorFromProto(decodeTensor(new ProtoReader(new Uint8Array(readFileSync(path)), 'TensorProto'))).tensor;
}

describeReference('onnx-model-zoo-light', 'onnx-model-zoo-light', () => {
  for (const name of MODELS) {
    it(name, { timeout: 240_000 }, () => {
      const model = loadOnnx(new Uint8Array(readFileSync(join(ROOT, `light_${name}.onnx`))));
      // Initializers listed as inputs are weights: one real input remains.
      expect(model.inputNames).toHaveLength(1);
      const input = model.inputShapes[model.inputNames[0]!]! as number[];
      expect(input).toEqual([1, 3, 224, 224]);
      const n = input.reduce((a, b) => a * b, 1);
      const x = new Tensor(Float32Array.from({ length: n }, (_, i) => i / n), input);
      const y = noGrad(() => model.forward(x));
      const ref = readTensorPb(join(ROOT, `light_${name}_output_0.pb`));
      expect([...y.shape]).toEqual([...ref.shape]);
      let worst = 0;
      for (let i = 0; i < ref.size; i++) worst = Math.max(worst, Math.abs(y.data[i]! - ref.data[i]!) - 1e-3 * Math.abs(ref.data[i]!));
      expect(worst, `${name}: max excess over rtol 1e-3 + atol 1e-7`).toBeLessThanOrEqual(1e-7);
    });
  }
});

