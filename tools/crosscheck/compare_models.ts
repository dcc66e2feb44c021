// Compare tinycam's torchvision architectures with PyTorch (data from gen_models.py).
// Usage (from /work/main): npx tsx tools/crosscheck/compare_models.ts DATA [filter]
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createModel } from '../../src/models/index.js';
import { loadSafetensors } from '../../src/tensor/safetensors.js';
import { grad } from '../../src/tensor/autograd.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { diff, fmt } from './common.js';

const [data, filter = ''] = process.argv.slice(2);
const index = JSON.parse(readFileSync(join(data!, 'models', 'index.json'), 'utf8')) as Record<string, {
  id: string; name: string; kwargs: Record<string, number>; size: number[]; numClasses: number; layer: string; targets: number[];
}>;
type MapFn = (m: unknown, x: Tensor, o: unknown) => { maps: Tensor; layers: { raw: Tensor; weights: Tensor | null }[] };
let gradCam: MapFn | undefined;
let camModule: Record<string, unknown> = {};
try {
  camModule = await import('../../src/cam/index.js');
  gradCam = camModule.gradCam as never;
} catch (e) {
  console.log('gradCam unavailable:', (e as Error).message);
}
const results: Record<string, unknown> = {};
for (const c of Object.values(index)) {
  if (filter && !c.id.includes(filter)) continue;
  const t0 = Date.now();
  const line: string[] = [];
  const res: Record<string, unknown> = {};
  try {
    const opts: Record<string, number> = { numClasses: c.numClasses };
    if (c.kwargs.width_mult !== undefined) opts.widthMult = c.kwargs.width_mult;
    const model = createModel(c.name, opts);
    if (model.camLayer !== c.layer) line.push(`camLayer '${model.camLayer}' vs torch '${c.layer}'`);
    model.loadStateDict(loadSafetensors(new Uint8Array(readFileSync(join(data!, 'models', `${c.id}.weights.safetensors`)))));
    model.eval();
    const ref = loadSafetensors(new Uint8Array(readFileSync(join(data!, 'models', `${c.id}.case.safetensors`))));
    const x = ref.input!.requireGrad();
    let A: Tensor | undefined;
    const layer = model.getModule(c.layer)!;
    const h = layer.registerForwardHook((_m, _i, o) => { A = o as Tensor; });
    const logits = model.forward(x) as Tensor;
    h.remove();
    const [n, k] = logits.shape as [number, number];
    const onehot = new Float32Array(n * k);
    c.targets.forEach((t, i) => (onehot[i * k + t] = 1));
    const [dA, dx] = grad(logits, [A!, x], { gradOutput: new Tensor(onehot, [n, k]) });
    const d = { logits: diff(logits, ref.logits!), A: diff(A!, ref.A!), dA: diff(dA!, ref.dA!), dinput: diff(dx!, ref.dinput!) };
    for (const [key, v] of Object.entries(d)) { line.push(`${key}: ${fmt(v)}`); res[key] = v; }
    if (ref.dinput64) {
      // How far each float32 result is from PyTorch's float64 run (large for both = ill-conditioned, not a bug).
      const tc = diff(dx!, ref.dinput64), th = diff(ref.dinput!, ref.dinput64);
      const tl = diff(logits, ref.logits64!), thl = diff(ref.logits!, ref.logits64!);
      line.push(`vs float64: logits tinycam ${tl.maxRel.toExponential(2)} torch32 ${thl.maxRel.toExponential(2)}; dinput tinycam ${tc.maxRel.toExponential(2)} torch32 ${th.maxRel.toExponential(2)} (rel to max)`);
      res.dinput64 = { tinycam: tc, torch32: th };
    }
    if (gradCam) {
      const r = gradCam(model, ref.input!, { layer: c.layer, target: c.targets });
      const dm = diff(r.maps, ref.cam_maps!);
      line.push(`gradCam maps: ${fmt(dm)}`); res.cam_maps = dm;
      const dr = diff(r.layers[0]!.raw, ref.cam_raw!);
      line.push(`gradCam raw: ${fmt(dr)}`); res.cam_raw = dr;
      // The other gradient methods against pytorch-grad-cam's formulas (EigenCAM: raw up to sign per image).
      for (const name of ['gradCamPlusPlus', 'xGradCam', 'hiResCam', 'gradCamElementWise', 'layerCam', 'eigenCam', 'scoreCam']) {
        const f = camModule[name] as MapFn | undefined;
        const wantRaw = ref[`m_${name}_raw`];
        if (!f || !wantRaw) continue;
        try {
          const rr = f(model, ref.input!, { layer: c.layer, target: c.targets });
          if (name === 'eigenCam') {
            const raw = rr.layers[0]!.raw;
            const per = raw.size / raw.shape[0]!;
            const flipped = new Float32Array(raw.data);
            for (let i = 0; i < raw.shape[0]!; i++) {
              let dot = 0;
              for (let p = i * per; p < (i + 1) * per; p++) dot += raw.data[p]! * wantRaw.data[p]!;
              if (dot < 0) for (let p = i * per; p < (i + 1) * per; p++) flipped[p] = -flipped[p]!;
            }
            const de = diff(flipped, wantRaw.data, raw.shape, wantRaw.shape);
            line.push(`${name} raw (up to sign): ${fmt(de)}`); res[name] = de;
          } else {
            const dm2 = diff(rr.maps, ref[`m_${name}_maps`]!);
            const dr2 = diff(rr.layers[0]!.raw, wantRaw);
            line.push(`${name} maps: ${fmt(dm2)}; raw rel ${dr2.maxRel.toExponential(2)}`); res[name] = { maps: dm2, raw: dr2 };
          }
        } catch (e) {
          line.push(`${name}: ERROR ${(e as Error).name}: ${(e as Error).message}`);
        }
      }
      const guided = camModule.guidedBackprop as ((m: unknown, x: Tensor, o: unknown) => { gradients: Tensor }) | undefined;
      if (guided && ref.guided_bp) {
        const dg = diff(guided(model, ref.input!, { target: c.targets }).gradients, ref.guided_bp);
        line.push(`guidedBackprop: ${fmt(dg)}`); res.guidedBackprop = dg;
      }
      if (ref.cam_maps_pgc_inplace) {
        const dp = diff(r.maps, ref.cam_maps_pgc_inplace);
        line.push(`gradCam maps vs pytorch-grad-cam-with-inplace-relu: ${fmt(dp)}`); res.cam_maps_pgc = dp;
      }
    }
  } catch (e) {
    line.push(`ERROR ${(e as Error).name}: ${(e as Error).message}`);
    res.error = (e as Error).message;
  }
  console.log(`== ${c.id} (${c.name} ${JSON.stringify(c.kwargs)} ${c.size.join('x')}, layer ${c.layer}) ${((Date.now() - t0) / 1000).toFixed(1)}s\n  ${line.join('\n  ')}`);
  results[c.id] = res;
}
writeFileSync(join(data!, `models.results${filter ? '.' + filter : ''}.json`), JSON.stringify(results, null, 1));
