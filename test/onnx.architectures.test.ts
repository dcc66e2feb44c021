import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { gradCam } from '../src/cam/index.js';
import { postprocess } from '../src/cam/postprocess.js';
import { loadOnnx } from '../src/onnx/index.js';
import { grad } from '../src/tensor/autograd.js';
import { mul } from '../src/tensor/ops/elementwise.js';
import { interpolateNd } from '../src/tensor/ops/resample.js';
import { mean, sum } from '../src/tensor/ops/reduce.js';
import { permute, reshape, slice } from '../src/tensor/ops/shape.js';
import { loadSafetensors } from '../src/tensor/safetensors.js';
import { Tensor } from '../src/tensor/tensor.js';
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
 * summed over anchors) and pytorch-grad-cam's Grad-CAM raw and final maps
 * (for 1-D and 3-D: the mean of dA over every spatial axis, maps resized
 * linearly / trilinearly to the input).
 */
const dir = new URL('./data/onnx/tv9/', import.meta.url);
type Reshape = ['vit' | 'swin', number, number] | null;
const index = JSON.parse(readFileSync(new URL('index.json', dir), 'utf8')) as Record<string, {
  layer: string; kind: 'class' | 'detection'; reshape: Reshape; target: number; files: Record<string, string>;
}>;

function reshaped(t: Tensor, r: Reshape): Tensor {
  if (!r) return t;
  return permute(reshape(slice(t, 1, 1), [t.shape[0]!, r[1], r[2], t.shape[2]!]), [0, 3, 1, 2]);
}

/** pytorch-grad-cam's ReLU + min-max of each map (eps 1e-7), for 1-D and 3-D maps. */
function scaled(t: Tensor): Tensor {
  const d = t.data.map((v) => Math.max(v, 0));
  let lo = Infinity;
  for (const v of d) lo = Math.min(lo, v);
  let hi = 0;
  for (let i = 0; i < d.length; i++) hi = Math.max(hi, (d[i] = d[i]! - lo));
  return new Tensor(d.map((v) => v / (1e-7 + hi)), t.shape);
}

function gradCamNd(A: Tensor, dA: Tensor, size: readonly number[]): { raw: Tensor; maps: Tensor } {
  const axes = A.shape.slice(2).map((_, i) => i + 2);
  const raw = sum(mul(mean(dA, axes, true), A), 1);
  if (axes.length === 2) return { raw, maps: postprocess([raw], size[0]!, size[1]!, {}).maps };
  const cam = scaled(raw);
  const up = interpolateNd(reshape(cam, [1, 1, ...cam.shape.slice(1)]), { size, mode: axes.length === 1 ? 'linear' : 'trilinear' });
  return { raw, maps: scaled(reshape(up, [1, ...size])) };
}

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
      const cam = gradCamNd(reshaped(A!, m.reshape), reshaped(dA!, m.reshape), ref.input!.shape.slice(2));
      expectClose(cam.raw, ref.cam_raw!, `${id} Grad-CAM raw`, { relative: 1e-3 });
      expectClose(cam.maps, ref.cam_maps!, `${id} Grad-CAM map`, { absolute: 1e-3 });
      if (m.kind === 'class' && !m.reshape && A!.ndim === 4) {
        // The CAM core itself on the ONNX graph agrees.
        const r = gradCam(model, ref.input!, { layer: m.layer, target: m.target });
        expectClose(r.maps, ref.cam_maps!, `${id} gradCam() map`, { absolute: 1e-3 });
      }
    });
  }
});
