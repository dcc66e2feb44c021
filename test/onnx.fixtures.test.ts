import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  cam, gradCam, gradCamPlusPlus, guidedBackprop, hiResCam, layerCam, scoreCam, xGradCam, type MapResult, type ScoreCamLayerResult,
} from '../src/cam/index.js';
import { GraphModule, loadOnnx } from '../src/onnx/index.js';
import { isReluModule } from '../src/layers/activation.js';
import { loadOnnxFile } from '../src/node/index.js';
import { grad, noGrad } from '../src/tensor/autograd.js';
import { indexSelect, reshape } from '../src/tensor/ops/shape.js';
import { Tensor } from '../src/tensor/tensor.js';
import {
  FIXTURES, casesOf, expectClose, fixtureBytes, fixtureExists, loadArch, loadCase, loadWeights, manifest, sharedExists, type FixtureCase,
} from './helpers/fixtures.js';
import { describeReference } from './helpers/shared.js';

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

describeReference('fixtures', 'fixture models through loadOnnx', () => {
  for (const info of models) {
    for (const variant of ['fused', 'unfused'] as const) {
      if (variant === 'fused' && !fixtureExists(info.onnx_fused)) continue; // left out of the compact copy
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

        it("resolves every module the arch file maps to an ONNX tensor to that tensor", () => {
          const arch = loadArch(info.name) as unknown as {
            onnx_module_outputs: Record<string, Record<'fused' | 'unfused', string | string[] | null>>;
          };
          let resolved = 0;
          const missing: string[] = [];
          for (const [module, outputs] of Object.entries(arch.onnx_module_outputs)) {
            const expected = outputs[variant];
            if (expected === null) continue;
            // A module called several times: its output is that of its last call.
            const last = Array.isArray(expected) ? expected[expected.length - 1]! : expected;
            const layer = get().layers().find((l) => l.name === module);
            if (!layer) {
              missing.push(module);
              continue;
            }
            expect(layer.tensor, module).toBe(last);
            resolved++;
          }
          expect(resolved).toBeGreaterThan(0);
          // Unfused graphs name every module; fused ones lose the BatchNorms folded into convolutions.
          if (variant === 'unfused') expect(missing).toEqual([]);
          else for (const m of missing) expect(loadArch(info.name).modules[m]!.type, m).toBe('BatchNorm2d');
        });

        for (const c of casesOf(info.name)) {
          it(c.id, () => checkCase(get(), c, variant));
        }
      });
    }
  }

  it("an unfused model's initializers carry the state_dict names: loadStateDict swaps the weights", () => {
    const info = models.find((m) => m.name === 'tiny_resnet')!;
    const model = loadOnnxFile(join(FIXTURES, info.onnx_unfused_external));
    const weights = loadWeights('tiny_resnet');
    // num_batches_tracked is a training counter the ONNX graph does not hold.
    const { unexpected } = model.loadStateDict(weights, { strict: false });
    expect(unexpected.every((k) => k.endsWith('num_batches_tracked'))).toBe(true);
    const c = casesOf('tiny_resnet')[0]!;
    const data = loadCase(c);
    expectClose(noGrad(() => model.forward(data.input!)), data.logits!, 'logits after loadStateDict', { relative: 1e-4, absolute: 1e-5 });
    // Zeroing the classifier leaves its bias as the logits.
    model.loadStateDict({ 'fc.weight': new Tensor(new Float32Array(weights['fc.weight']!.size), weights['fc.weight']!.shape) }, { strict: false });
    expectClose(noGrad(() => model.forward(data.input!)), reshape(weights['fc.bias']!, [1, 10]), 'logits with fc.weight = 0', { absolute: 1e-6 });
  });

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

  // CAM methods from src/cam accept a GraphModule exactly as a layers-API model.
  const methods: [string, (m: GraphModule, x: Tensor, o: { layer: string; target: number }) => MapResult][] = [
    ['gradcam', gradCam],
    ['gradcampp', gradCamPlusPlus],
    ['xgradcam', xGradCam],
    ['layercam', layerCam],
    ['hirescam', hiResCam],
    ['cam', cam],
  ];
  for (const info of models.filter((m) => fixtureExists(m.onnx_fused))) {
    const c = casesOf(info.name).find((k) => k.layer.is_cam_layer && !k.checks.note) ?? casesOf(info.name)[0]!;
    it(`CAM methods on ${info.name} (ONNX, layer by module path and tensor name)`, () => {
      const model = loadOnnx(fixtureBytes(info.onnx_fused));
      const data = loadCase(c);
      const checked: string[] = [];
      for (const [method, run] of methods) {
        if (!data[`${method}/raw`] || (c.checks.note && method !== 'cam')) continue;
        checked.push(method);
        for (const layer of [c.layer.module, c.layer.onnx_tensor_fused]) {
          const result = run(model, data.input!, { layer, target: c.target_class });
          const tol = c.tolerances[method]!;
          expectClose(result.layers[0]!.raw, data[`${method}/raw`]!, `${c.id} ${method}/raw at '${layer}'`, { relative: tol.raw_relative });
          expectClose(result.maps, data[`${method}/upsampled`]!, `${c.id} ${method}/upsampled at '${layer}'`, { absolute: tol.final_map });
        }
      }
      // Guided backprop through the CAM code sets backwardRule on every ReLU node module.
      const guided = guidedBackprop(model, data.input!, { target: c.target_class });
      expectClose(guided.gradients, data.guided_backprop!, `${c.id} guided_backprop`, { relative: ACTIVATION_TOL });
      // CAM finds the Gemm after global average pooling as its Linear layer.
      expect(checked).toEqual(info.is_gap_fc ? methods.map(([m]) => m) : methods.slice(0, 5).map(([m]) => m));
    });
  }

  it('Score-CAM runs the ONNX model on batches of masked inputs', () => {
    const info = models.find((m) => m.name === 'shapes_cnn')!;
    const model = loadOnnx(fixtureBytes(info.onnx_fused));
    const c = casesOf('shapes_cnn').find((k) => k.layer.is_cam_layer && !k.checks.note)!;
    const data = loadCase(c);
    const result = scoreCam(model, data.input!, { layer: c.layer.module, target: c.target_class });
    const layer = result.layers[0] as ScoreCamLayerResult;
    expectClose(layer.scores, data['scorecam/scores']!, `${c.id} scorecam/scores`, { relative: 1e-4 });
    expectClose(result.maps, data['scorecam/upsampled']!, `${c.id} scorecam/upsampled`, { absolute: 2e-3 });
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
  const relus = model.modules().filter(isReluModule);
  for (const r of relus) r.backwardRule = 'guided';
  try {
    const guided = capture(model, data.input!, c.layer.module, c.target_class);
    expectClose(guided.gradInput, data.guided_backprop!, `${c.id} guided_backprop`, { relative: ACTIVATION_TOL });
  } finally {
    for (const r of relus) r.backwardRule = 'standard';
  }
}
