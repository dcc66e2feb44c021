// Grad-CAM on tinycam's ONNX GraphModule (layer by PyTorch module path) vs PyTorch.
// Usage (from /work/main): npx tsx tools/crosscheck/compare_onnx_cam.ts DATA
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadOnnx } from '../../src/onnx/index.js';
import { loadSafetensors } from '../../src/tensor/safetensors.js';
import { gradCam } from '../../src/cam/index.js';
import { diff, fmt } from './common.js';

const [data] = process.argv.slice(2);
const dir = join(data!, 'onnx');
const meta = JSON.parse(readFileSync(join(dir, 'cam_index.json'), 'utf8')) as Record<string, { layer: string; targets: number[]; opsets: number[] }>;
for (const [cid, m] of Object.entries(meta)) {
  const ref = loadSafetensors(new Uint8Array(readFileSync(join(dir, `${cid}.cam.safetensors`))));
  for (const variant of ['', '_preserve']) {
    for (const opset of m.opsets) {
      const file = join(dir, `${cid}${variant}_op${opset}.onnx`);
      try {
        const model = loadOnnx(new Uint8Array(readFileSync(file)));
        const r = gradCam(model, ref.input!, { layer: m.layer, target: m.targets });
        console.log(`${cid}${variant} op${opset} layer ${m.layer}: maps ${fmt(diff(r.maps, ref.cam_maps!))}\n    raw ${fmt(diff(r.layers[0]!.raw, ref.cam_raw!))}`);
      } catch (e) {
        console.log(`${cid}${variant} op${opset} layer ${m.layer}: ERROR ${(e as Error).name}: ${(e as Error).message.slice(0, 300)}`);
      }
    }
  }
}
