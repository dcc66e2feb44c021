import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { gradCam } from '../src/cam/index.js';
import { GraphModule, loadOnnx } from '../src/models/onnx/index.js';
import { OnnxReLU } from '../src/models/onnx/index.js';
import { loadOnnxFile } from '../src/node/index.js';
import { grad, noGrad } from '../src/tensor/autograd.js';
import { indexSelect } from '../src/tensor/ops/shape.js';
import type { Tensor } from '../src/tensor/tensor.js';
import {
  FIXTURES, casesOf, expectClose, fixtureBytes, loadCase, manifest, sharedExists, type FixtureCase,
} from './helpers/fixtures.js';

/**
 * The public fixture models through the ONNX importer, fused (BatchNorm
 * folded, self-contained) and unfused (BatchNormalization kept, weights as
 * external data in the safetensors file): PyTorch's logits, A, dA, the input
 * gradient and guided backprop, with the layer named by module path and by
 * ONNX tensor name, within the manifest's tolerances.
 */

interface Captured {
  logits: Tensor;
  activation: Tensor;
  gradActivation: Tensor;
  gradInput: Tensor;
}

/** Forward with hooks on `layer`, backward of logits[0, c] to the input. */
function capture(model: GraphModule, input: Tensor, layer: string, c: number): Captured {
  const module = model.getModule(layer);
  if (!module) throw new Error(`no layer ${layer}`);
  let activation: Tensor | undefined;
  let gradActivation: Tensor | undefined;
  const forwardHandle = module.registerForwardHook((_m, _inputs, output) => void (activation = output));
  const backwardHandle = module.registerBackwardHook((_m, g) => void (gradActivation = g));
  try {
    const x = input.requireGrad();
    const logits = model.forward(x);
    const score = indexSelect(logits, 1, [c]);
    const [gradInput] = grad(score, [x]);
    return { logits, activation: activation!, gradActivation: gradActivation!, gradInput: gradInput! };
  } finally {
    forwardHandle.remove();
    backwardHandle.remove();
  }
}

const models = sharedExists() ? manifest().models : [];
const ACTIVATION_TOL = 1e-4;

describe.skipIf(!sharedExists())('fixture models through loadOnnx', () => {
  for (const info of models) {
    for (const variant of ['fused', 'unfused'] as const) {
      describe(`${info.name} (${variant})`, () => {
        const load = (): GraphModule =>
          variant === 'fused'
            ? loadOnnx(fixtureBytes(info.onnx_fused))
            : loadOnnxFile(join(FIXTURES, info.onnx_unfused_external));
        let model: GraphModule | undefined;
        const get = (): GraphModule => (model ??= load());

        it('has one input and the logits output', () => {
          expect(get().inputNames).toEqual(['input']);
          expect(get().outputNames).toEqual(['logits']);
          const names = get().layers().map((l) => l.name);
          for (const layer of Object.values(info.layers)) {
            expect(names).toContain(layer.module);
            expect(names).toContain(variant === 'fused' ? layer.onnx_tensor_fused : layer.onnx_tensor_unfused);
          }
        });

        for (const c of casesOf(info.name)) {
          it(c.id, () => checkCase(get(), c, variant));
        }
      });
    }
  }

  it('unfused models also load through the externalData callback', () => {
    const info = models.find((m) => m.name === 'tiny_resnet')!;
    const requested: string[] = [];
    const model = loadOnnx(fixtureBytes(info.onnx_unfused_external), {
      externalData: (location) => {
        requested.push(location);
        return fixtureBytes(`models/${location}`);
      },
    });
    expect(new Set(requested)).toEqual(new Set(['tiny_resnet.safetensors']));
    const c = casesOf('tiny_resnet')[0]!;
    const data = loadCase(c);
    const logits = noGrad(() => model.forward(data.input!));
    expectClose(logits, data.logits!, 'logits', { relative: 1e-4, absolute: 1e-5 });
  });

  it("Grad-CAM from tinycam's CAM code runs on an ONNX model and matches pytorch-grad-cam", () => {
    const model = loadOnnx(fixtureBytes(models.find((m) => m.name === 'vgg_small')!.onnx_fused));
    for (const c of casesOf('vgg_small').slice(0, 2)) {
      const data = loadCase(c);
      for (const layer of [c.layer.module, c.layer.onnx_tensor_fused]) {
        const result = gradCam(model, data.input!, { layer, target: c.target_class });
        expectClose(result.layers[0]!.raw, data['gradcam/raw']!, `${c.id} gradcam/raw at '${layer}'`, {
          relative: c.tolerances.gradcam!.raw_relative,
        });
        expectClose(result.maps, data['gradcam/upsampled']!, `${c.id} gradcam/upsampled at '${layer}'`, {
          absolute: c.tolerances.gradcam!.final_map,
        });
      }
    }
  });
});

function checkCase(model: GraphModule, c: FixtureCase, variant: 'fused' | 'unfused'): void {
  const data = loadCase(c);
  const tensorName = variant === 'fused' ? c.layer.onnx_tensor_fused : c.layer.onnx_tensor_unfused;
  const byModule = capture(model, data.input!, c.layer.module, c.target_class);
  expectClose(byModule.logits, data.logits!, `${c.id} logits`, { relative: 1e-4, absolute: 1e-5 });
  expectClose(byModule.activation, data.activation!, `${c.id} A at '${c.layer.module}'`, { relative: ACTIVATION_TOL });
  expectClose(byModule.gradActivation, data.grad_activation!, `${c.id} dA at '${c.layer.module}'`, { relative: ACTIVATION_TOL });
  expectClose(byModule.gradInput, data.grad_input!, `${c.id} grad_input`, { relative: ACTIVATION_TOL });

  // The same layer by its ONNX tensor name gives the same tensors.
  const byTensor = capture(model, data.input!, tensorName, c.target_class);
  expect(Array.from(byTensor.activation.data)).toEqual(Array.from(byModule.activation.data));
  expect(Array.from(byTensor.gradActivation.data)).toEqual(Array.from(byModule.gradActivation.data));

  // Guided backprop: every Relu node is a ReLU module with a backwardRule.
  const relus = model.modules().filter((m): m is OnnxReLU => m.typeName === 'ReLU');
  for (const r of relus) r.backwardRule = 'guided';
  try {
    const guided = capture(model, data.input!, c.layer.module, c.target_class);
    expectClose(guided.gradInput, data.guided_backprop!, `${c.id} guided_backprop`, { relative: ACTIVATION_TOL });
  } finally {
    for (const r of relus) r.backwardRule = 'standard';
  }
}
