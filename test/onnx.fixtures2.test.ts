import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import {
  binaryTarget, classifierTarget, eigenCam, gradCam, gradCamPlusPlus, hiResCam, layerCam, rawTarget, scoreCam, segmentationTarget,
  swinReshape, vitReshape, xGradCam,
} from '../src/cam/index.js';
import { loadOnnx, type GraphModule } from '../src/onnx/index.js';
import { grad } from '../src/tensor/autograd.js';
import { mul } from '../src/tensor/ops/elementwise.js';
import { sum } from '../src/tensor/ops/reduce.js';
import { permute, reshape, slice } from '../src/tensor/ops/shape.js';
import { loadSafetensors } from '../src/tensor/safetensors.js';
import type { Tensor } from '../src/tensor/tensor.js';
import { expectClose } from './helpers/fixtures.js';
import { SHARED, describeShared } from './helpers/shared.js';

/**
 * ../shared/fixtures2 Part A (ViT, ConvNeXt, Swin, a segmentation FCN, a
 * regression CNN) through loadOnnx at both exported opsets (17: LayerNorm as
 * LayerNormalization; 13: decomposed): PyTorch's output, score, the layer's
 * activation as it emits it and after pytorch-grad-cam's reshape transform
 * (written out here as a slice / reshape / permute), d score / d activation,
 * and d score / d input, within the per-case tolerances of the manifest.
 */

const FIXTURES2 = join(SHARED, 'fixtures2');

interface Reshape { kind: 'vit' | 'swin'; height: number; width: number }
interface Case2 {
  id: string;
  file: string;
  part: string;
  model: string;
  layer: { module: string; reshape_transform: Reshape | null; onnx_tensor_opset17: string; onnx_tensor_opset13: string };
  target: { kind: string; category?: number };
  methods: string[];
  tolerances: { tensors: Record<string, number> } & Record<string, Record<string, number | boolean>>;
}
interface Manifest2 { models: { name: string; part: string; onnx: Record<string, string> }[]; cases: Case2[] }

/** pytorch-grad-cam's reshape transforms: ViT drops the class token and lays tokens on the grid; Swin is channels-last. */
function reshaped(t: Tensor, r: Reshape): Tensor {
  if (r.kind === 'swin') return permute(t, [0, 3, 1, 2]);
  const [n, , c] = t.shape as [number, number, number];
  return permute(reshape(slice(t, 1, 1), [n, r.height, r.width, c]), [0, 3, 1, 2]);
}

/** The case's scalar score of the model output (pytorch-grad-cam's targets, written out). */
function score(output: Tensor, c: Case2, data: Record<string, Tensor>): Tensor {
  const k = c.target.category ?? 0;
  switch (c.target.kind) {
    case 'ClassifierOutputTarget':
      return sum(slice(output, 1, k, k + 1));
    case 'SemanticSegmentationTarget':
      return sum(mul(slice(output, 1, k, k + 1), data.target_mask!));
    case 'RawScoresOutputTarget':
      return sum(output);
    case 'BinaryClassifierOutputTarget':
      return sum(mul(output, k === 1 ? 1 : -1));
    default:
      throw new Error(`unknown target ${c.target.kind}`);
  }
}

describeShared('fixtures2', 'fixtures2 Part A models through loadOnnx (opsets 17 and 13)', () => {
  const manifest = JSON.parse(readFileSync(join(FIXTURES2, 'manifest.json'), 'utf8')) as Manifest2;
  const cache = new Map<string, GraphModule>();
  const model = (name: string, opset: string): GraphModule => {
    const key = `${name}.${opset}`;
    if (!cache.has(key)) {
      const info = manifest.models.find((m) => m.name === name)!;
      cache.set(key, loadOnnx(readFileSync(join(FIXTURES2, info.onnx[opset]!))));
    }
    return cache.get(key)!;
  };

  for (const c of manifest.cases.filter((k) => k.part === 'A')) {
    for (const opset of ['opset17', 'opset13'] as const) {
      it(`${c.id} (${opset})`, () => {
        const m = model(c.model, opset);
        const data = loadSafetensors(readFileSync(join(FIXTURES2, c.file)));
        const tol = c.tolerances.tensors;
        // The module path names the tensor the fixtures name for this opset.
        const layer = m.layers().find((l) => l.name === c.layer.module);
        expect(layer?.tensor).toBe(c.layer[`onnx_tensor_${opset}`]);

        let emitted: Tensor | undefined;
        let gradEmitted: Tensor | undefined;
        const module = m.layer(c.layer.module);
        const hooks = [
          module.registerForwardHook((_m, _i, out) => void (emitted = out)),
          module.registerBackwardHook((_m, g) => void (gradEmitted = g)),
        ];
        try {
          const x = data.input!.requireGrad();
          const output = m.forward(x);
          expectClose(output, data.logits!, `${c.id} output`, { relative: tol.logits!, absolute: 1e-5 });
          const s = score(output, c, data);
          expect(Math.abs(s.item() - data.score!.data[0]!)).toBeLessThanOrEqual(tol.score! * Math.max(1, Math.abs(data.score!.data[0]!)));
          const [gradInput] = grad(s, [x]);
          expectClose(gradInput!, data.grad_input!, `${c.id} grad_input`, { relative: tol.grad_input! });
        } finally {
          for (const h of hooks) h.remove();
        }
        const r = c.layer.reshape_transform;
        if (r) {
          expectClose(emitted!, data.activation_emitted!, `${c.id} activation_emitted`, { relative: tol.activation_emitted! });
          expectClose(gradEmitted!, data.grad_activation_emitted!, `${c.id} grad_activation_emitted`, { relative: tol.grad_activation_emitted! });
        }
        expectClose(r ? reshaped(emitted!, r) : emitted!, data.activation!, `${c.id} activation`, { relative: tol.activation! });
        expectClose(r ? reshaped(gradEmitted!, r) : gradEmitted!, data.grad_activation!, `${c.id} grad_activation`, { relative: tol.grad_activation! });
      });
    }
  }
});

/**
 * The same Part A cases through tinycam's CAM methods on the opset-17 graph,
 * with the target helpers and reshape transforms: every method's
 * weights, raw map (eigencam up to sign, its final map when the signs agree) and final map against
 * pytorch-grad-cam, within the per-case tolerances (paths marked
 * ill_conditioned are skipped, as the manifest advises). Score-CAM runs on
 * each model's first case only (it reruns the model once per channel);
 * SegEigenCAM has no tinycam method yet.
 */
describeShared('fixtures2', 'fixtures2 Part A: CAM methods on the ONNX graphs', () => {
  const manifest = JSON.parse(readFileSync(join(FIXTURES2, 'manifest.json'), 'utf8')) as Manifest2;
  const models = new Map<string, GraphModule>();
  const methods: Record<string, typeof gradCam> = {
    gradcam: gradCam, gradcampp: gradCamPlusPlus, xgradcam: xGradCam, layercam: layerCam, hirescam: hiResCam, eigencam: eigenCam, scorecam: scoreCam,
  };
  const scoreCamDone = new Set<string>();
  for (const c of manifest.cases.filter((k) => k.part === 'A')) {
    it(c.id, () => {
      const info = manifest.models.find((m) => m.name === c.model)!;
      if (!models.has(c.model)) models.set(c.model, loadOnnx(readFileSync(join(FIXTURES2, info.onnx.opset17!))));
      const model = models.get(c.model)!;
      const data = loadSafetensors(readFileSync(join(FIXTURES2, c.file)));
      const k = c.target.category ?? 0;
      const target = c.target.kind === 'SemanticSegmentationTarget' ? segmentationTarget(k, data.target_mask!)
        : c.target.kind === 'RawScoresOutputTarget' ? rawTarget()
          : c.target.kind === 'BinaryClassifierOutputTarget' ? binaryTarget(k) : classifierTarget(k);
      const r = c.layer.reshape_transform;
      const reshapeOption = r ? { reshape: r.kind === 'vit' ? vitReshape({ grid: [r.height, r.width] }) : swinReshape() } : {};
      const checked: string[] = [];
      for (const name of c.methods) {
        const method = methods[name];
        const tol = c.tolerances[name];
        if (!method || !tol || tol.ill_conditioned) continue;
        if (name === 'scorecam') {
          if (scoreCamDone.has(c.model)) continue;
          scoreCamDone.add(c.model);
        }
        checked.push(name);
        const result = method(model, data.input!, { layer: c.layer.module, target, ...reshapeOption });
        const layer = result.layers[0]!;
        const refRaw = data[`${name}/raw`]!;
        const sign = name === 'eigencam' && dot(layer.raw, refRaw) < 0 ? -1 : 1;
        expectClose(sign < 0 ? mul(layer.raw, -1) : layer.raw, refRaw, `${c.id} ${name}/raw`, { relative: tol.raw as number });
        // An EigenCAM whose singular vector came out with the other sign has a different final map (ReLU): compare it when the signs agree.
        if (sign > 0) expectClose(result.maps, data[`${name}/upsampled`]!, `${c.id} ${name}/upsampled`, { absolute: tol.upsampled as number });
        const refWeights = data[`${name}/weights`];
        if (refWeights && layer.weights) expectClose(layer.weights, refWeights, `${c.id} ${name}/weights`, { relative: tol.weights as number });
      }
      expect(checked.length).toBeGreaterThan(0);
    });
  }
});

function dot(a: Tensor, b: Tensor): number {
  let s = 0;
  for (let i = 0; i < a.size; i++) s += a.data[i]! * b.data[i]!;
  return s;
}
