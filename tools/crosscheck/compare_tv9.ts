// gen_tv9.py's architectures through loadOnnx: output, A and dA at the layer (as emitted and
// reshaped), and Grad-CAM (mean-dA weights over every spatial axis, ReLU, min-max, resize to the
// input, min-max) against PyTorch + pytorch-grad-cam's pipeline.
// Usage (from the repository root): npx tsx tools/crosscheck/compare_tv9.ts DATA [filter]
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { postprocess } from '../../src/cam/postprocess.js';
import { loadOnnx } from '../../src/onnx/index.js';
import { grad } from '../../src/tensor/autograd.js';
import { mul } from '../../src/tensor/ops/elementwise.js';
import { interpolateNd } from '../../src/tensor/ops/resample.js';
import { mean, sum } from '../../src/tensor/ops/reduce.js';
import { permute, reshape, slice } from '../../src/tensor/ops/shape.js';
import { loadSafetensors } from '../../src/tensor/safetensors.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { diff, fmt } from './common.js';

type Reshape = ['vit' | 'swin', number, number] | null;
const [data, filter = ''] = process.argv.slice(2);
const dir = join(data!, 'tv9');
const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as Record<string, {
  layer: string; kind: 'class' | 'segmentation' | 'detection'; reshape: Reshape; target: number; files: Record<string, string>; errors: Record<string, string>;
}>;

function reshaped(t: Tensor, r: Reshape): Tensor {
  if (!r) return t;
  if (r[0] === 'swin') return permute(t, [0, 3, 1, 2]);
  return permute(reshape(slice(t, 1, 1), [t.shape[0]!, r[1], r[2], t.shape[2]!]), [0, 3, 1, 2]);
}

/** Grad-CAM from A and dA with any number of spatial axes (what the CAM core will do for 1-D / 3-D). */
export function gradCamNd(A: Tensor, dA: Tensor, size: readonly number[]): { raw: Tensor; maps: Tensor } {
  const axes = A.shape.slice(2).map((_, i) => i + 2);
  const w = mean(dA, axes, true);
  const raw = sum(mul(w, A), 1);
  if (axes.length === 2) return { raw, maps: postprocess([raw], size, {}).maps };
  const n = raw.shape[0]!;
  const norm = (t: Tensor): Tensor => {
    const d = t.data.slice();
    const per = d.length / n;
    for (let i = 0; i < n; i++) {
      const part = d.subarray(i * per, (i + 1) * per);
      for (let j = 0; j < per; j++) if (part[j]! < 0) part[j] = 0;
      const lo = Math.min(...part);
      for (let j = 0; j < per; j++) part[j] = part[j]! - lo;
      const hi = Math.max(...part);
      for (let j = 0; j < per; j++) part[j] = part[j]! / (1e-7 + hi);
    }
    return new Tensor(d, t.shape);
  };
  const cam = norm(raw);
  const up = interpolateNd(reshape(cam, [n, 1, ...cam.shape.slice(1)]), { size, mode: axes.length === 1 ? 'linear' : 'trilinear' });
  return { raw, maps: norm(reshape(up, [n, ...size])) };
}

for (const [cid, m] of Object.entries(index)) {
  if (filter && !cid.includes(filter)) continue;
  const ref = loadSafetensors(new Uint8Array(readFileSync(join(dir, `${cid}.ref.safetensors`))));
  for (const [opset, file] of Object.entries(m.files)) {
    const t0 = Date.now();
    try {
      const model = loadOnnx(new Uint8Array(readFileSync(join(dir, file))));
      const module = model.layer(m.layer);
      let A: Tensor | undefined, dA: Tensor | undefined;
      const hooks = [module.registerForwardHook((_m, _i, o) => void (A = o)), module.registerBackwardHook((_m, g) => void (dA = g))];
      const y = model.forward(ref.input!.requireGrad());
      const c = m.target;
      const score = m.kind === 'class' ? sum(slice(y, 1, c, c + 1))
        : m.kind === 'segmentation' ? sum(mul(slice(y, 1, c, c + 1), ref.mask!))
          : sum(slice(y, 1, 4 + c, 5 + c));
      grad(score, [A!]);
      for (const h of hooks) h.remove();
      const cam = gradCamNd(reshaped(A!, m.reshape), reshaped(dA!, m.reshape), ref.input!.shape.slice(2));
      const rows: [string, ReturnType<typeof diff>][] = [
        ['output', diff(y, ref.output!)], ['A', diff(A!, ref.A_emitted!)], ['dA', diff(dA!, ref.dA_emitted!)],
        ['cam raw', diff(cam.raw, ref.cam_raw!)], ['cam maps', diff(cam.maps, ref.cam_maps!)],
      ];
      const ok = rows.every(([name, d]) => d.shapeOk && (name === 'cam maps' ? d.maxAbs <= 1e-3 : d.maxRel <= 1e-4));
      console.log(`${ok ? 'ok  ' : 'FAIL'} ${cid} op${opset} layer '${m.layer}' ${((Date.now() - t0) / 1000).toFixed(1)}s`);
      for (const [name, d] of rows) console.log(`     ${name}: ${fmt(d)}`);
    } catch (e) {
      console.log(`ERR  ${cid} op${opset}: ${(e as Error).name}: ${(e as Error).message.slice(0, 400)}`);
    }
  }
}
