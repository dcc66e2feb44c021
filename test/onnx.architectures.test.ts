import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { gradCam, vitReshape, type TargetFunction } from '../src/cam/index.js';
import { loadOnnx } from '../src/onnx/index.js';
import { grad } from '../src/tensor/autograd.js';
import { sum } from '../src/tensor/ops/reduce.js';
import { slice } from '../src/tensor/ops/shape.js';
import { loadSafetensors } from '../src/tensor/safetensors.js';
import type { Tensor } from '../src/tensor/tensor.js';
import { expectClose } from './helpers/fixtures.js';

/**
 * Architectures beyond the fixtures, exported by torch.onnx at opset 17 with
 * seeded random weights (tools/crosscheck/gen_tv9.py; Debian's torch 1.13,
 * torchvision 0.14): a small torchvision ViT (vit_b_16's layout), ConvNeXt
 * (convnext_tiny's four stages, narrower), RegNetY, a YOLOv8-style detector
 * (C2f backbone with Split/Concat, FPN/PAN neck, DFL head with Softmax,
 * output [1, 4 + 3, 84] = xywh and sigmoid class scores), and Conv1d and
 * Conv3d classifiers. Each gives PyTorch's output, A and dA at the named
 * layer (score: the argmax logit, or for the detector the class-c confidence
 * summed over anchors), and tinycam's gradCam on the graph (ViT through
 * vitReshape) gives pytorch-grad-cam's raw and final maps (for 1-D and 3-D:
 * the mean of dA over every spatial axis, maps resized linearly /
 * trilinearly to the input, as F.interpolate).
 */
const dir = new URL('./data/onnx/tv9/', import.meta.url);
type Reshape = ['vit' | 'swin', number, number] | null;
const index = JSON.parse(readFileSync(new URL('index.json', dir), 'utf8')) as Record<string, {
  layer: string; kind: 'class' | 'detection'; reshape: Reshape; target: number; files: Record<string, string>;
}>;

describe('torchvision-style architectures and a YOLO-style detector through loadOnnx (opset 17)', () => {
  for (const [id, m] of Object.entries(index)) {
    it(`${id}: output, A and dA at '${m.layer}', Grad-CAM`, () => {
      const ref = loadSafetensors(readFileSync(new URL(`${id}.ref.safetensors`, dir)));
      const model = loadOnnx(readFileSync(new URL(m.files['17']!, dir)));
      const module = model.layer(m.layer);
      let A: Tensor | undefined;
      let dA: Tensor | undefined;
      const hooks = [module.registerForwardHook((_m, _i, o) => void (A = o)), module.registerBackwardHook((_m, g) => void (dA = g))];
      try {
        const y = model.forward(ref.input!.requireGrad());
        expectClose(y, ref.output!, `${id} output`, { relative: 1e-4, absolute: 1e-5 });
        const c = m.target;
        const score = sum(slice(y, 1, m.kind === 'class' ? c : 4 + c, (m.kind === 'class' ? c : 4 + c) + 1));
        expect(Math.abs(score.item() - ref.score!.data[0]!)).toBeLessThanOrEqual(1e-4 * Math.max(1, Math.abs(ref.score!.data[0]!)));
        grad(score, [A!]);
      } finally {
        for (const h of hooks) h.remove();
      }
      expectClose(A!, ref.A_emitted!, `${id} A`, { relative: 1e-4 });
      expectClose(dA!, ref.dA_emitted!, `${id} dA`, { relative: 1e-4 });
      // tinycam's Grad-CAM on the graph: the detector's score is the class-c confidence summed over anchors.
      const detection: TargetFunction = (output) => sum(slice(output, 1, 4 + m.target, 5 + m.target), [1, 2]);
      const r = gradCam(model, ref.input!, {
        layer: m.layer,
        target: m.kind === 'detection' ? detection : m.target,
        ...(m.reshape ? { reshape: vitReshape({ grid: [m.reshape[1], m.reshape[2]] }) } : {}),
      });
      expectClose(r.layers[0]!.raw, ref.cam_raw!, `${id} Grad-CAM raw`, { relative: 1e-3 });
      expectClose(r.maps, ref.cam_maps!, `${id} Grad-CAM map`, { absolute: 1e-3 });
    });
  }
});
