// Compare issue 13's methods without fixtures against gen_methods.py's PyTorch references:
// DeepLIFT, DeepLiftShap, GradientShap, LRP, SS-CAM, IS-CAM, Smooth Grad-CAM++, DFF.
// Usage (from the repository root): npx tsx tools/crosscheck/compare_methods.ts DATA [filter]
// BACKEND=js runs the pure-TS kernels; the default is WebAssembly: SS-CAM and IS-CAM are thousands of
// forward passes (samples x C masks x images), about 5x the CPU time on the JS kernels.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  deepFeatureFactorization, deepLift, deepLiftShap, gradientShap, isCam, lrp, smoothGradCamPlusPlus, ssCam, type LrpOptions,
} from '../../src/cam/index.js';
import { createModel } from '../../src/models/index.js';
import { setBackend } from '../../src/tensor/backend.js';
import { loadSafetensors } from '../../src/tensor/safetensors.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { diff, fmt } from './common.js';

const [data, filter = ''] = process.argv.slice(2);
const index = JSON.parse(readFileSync(join(data!, 'methods', 'index.json'), 'utf8')) as Record<string, {
  id: string; name: string; kwargs: Record<string, number>; size: number[]; numClasses: number; layer: string; targets: number[]; dff_iterations: number;
  sscam_samples?: number; iscam_steps?: number;
}>;
const backend = process.env.BACKEND === 'js' ? 'js' : 'wasm';
if (!(await setBackend(backend))) throw new Error(`backend ${backend} did not load`);
console.log(`backend ${backend}`);

/** Sum over all but the first axis, per image: what DeepLIFT and LRP must add up to. */
function sums(t: Tensor): string {
  const n = t.shape[0]!;
  const per = t.size / n;
  return Array.from({ length: n }, (_, i) => t.data.subarray(i * per, (i + 1) * per).reduce((s, v) => s + v, 0).toPrecision(6)).join(', ');
}

let worst = 0;
for (const c of Object.values(index)) {
  if (filter && !c.id.includes(filter)) continue;
  console.log(`== ${c.id} (layer ${c.layer}, targets ${c.targets.join(', ')}; SS-CAM ${c.sscam_samples ?? 3} samples, IS-CAM ${c.iscam_steps ?? 3} steps)`);
  const opts: Record<string, number> = { numClasses: c.numClasses };
  if (c.kwargs.width_mult !== undefined) opts.widthMult = c.kwargs.width_mult;
  const model = createModel(c.name, opts);
  model.loadStateDict(loadSafetensors(new Uint8Array(readFileSync(join(data!, 'methods', `${c.id}.weights.safetensors`)))));
  model.eval();
  const ref = loadSafetensors(new Uint8Array(readFileSync(join(data!, 'methods', `${c.id}.methods.safetensors`))));
  const x = ref.input!;
  const target = c.targets;
  let clock = process.cpuUsage();
  const report = (what: string, got: Tensor, want: Tensor, extra = ''): void => {
    const d = diff(got, want);
    worst = Math.max(worst, d.maxRel);
    const cpu = process.cpuUsage(clock);
    clock = process.cpuUsage();
    console.log(`  ${what.padEnd(23)} ${fmt(d)}${extra} [${((cpu.user + cpu.system) / 1e6).toFixed(1)} s cpu]`);
  };
  const t0 = Date.now();
  const zero = deepLift(model, x, { target });
  report('deepLift (0)', zero.gradients, ref.deeplift_zero!, `; sums ${sums(zero.gradients)} vs torch ${sums(ref.deeplift_zero!)}; delta ${Array.from(zero.delta.data, (v) => v.toExponential(1))}`);
  report('deepLift (baseline)', deepLift(model, x, { target, baseline: ref.baseline! }).gradients, ref.deeplift_baseline!);
  report('deepLiftShap', deepLiftShap(model, x, { target, baselines: ref.baselines! }).gradients, ref.deepliftshap!);
  report('gradientShap', gradientShap(model, x, { target, baselines: ref.baselines!, samples: 6, std: 0.1, seed: 3 }).gradients, ref.gradientshap!);
  for (const [key, options] of [
    ['lrp_composite', {}],
    ['lrp_epsilon', { rule: { rule: 'epsilon', epsilon: 0.25 } }],
    ['lrp_alphabeta', { rule: { rule: 'alphaBeta', alpha: 2, beta: 1 } }],
  ] as [string, LrpOptions][]) {
    const r = lrp(model, x, { ...options, target });
    report(key, r.gradients, ref[key]!, `; sums ${sums(r.gradients)} vs torch ${sums(ref[key]!)}`);
  }
  const layer = { layer: c.layer, target };
  const ss = ssCam(model, x, { ...layer, samples: c.sscam_samples ?? 3, std: 2, seed: 5 });
  report('ssCam weights', ss.layers[0]!.weights!, ref.sscam_weights!);
  report('ssCam raw', ss.layers[0]!.raw, ref.sscam_raw!);
  if (ref.sscam_scores) report('ssCam scores', ss.layers[0]!.scores, ref.sscam_scores);
  const is = isCam(model, x, { ...layer, steps: c.iscam_steps ?? 3 });
  report('isCam weights', is.layers[0]!.weights!, ref.iscam_weights!);
  report('isCam raw', is.layers[0]!.raw, ref.iscam_raw!);
  if (ref.iscam_scores) report('isCam scores', is.layers[0]!.scores, ref.iscam_scores);
  const sg = smoothGradCamPlusPlus(model, x, { ...layer, samples: 4, std: 0.3, seed: 6 });
  report('smoothGradCam++ weights', sg.layers[0]!.weights!, ref.sgcampp_weights!);
  report('smoothGradCam++ raw', sg.layers[0]!.raw, ref.sgcampp_raw!);
  const dff = deepFeatureFactorization(model, x, { layer: c.layer, components: 4, classifier: false });
  report('dff concepts', dff.concepts, ref.dff_concepts!, `; iterations ${dff.iterations} vs scikit-learn ${c.dff_iterations}`);
  report('dff raw', dff.raw, ref.dff_raw!);
  console.log(`  (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
}
console.log(`worst relative difference: ${worst.toExponential(2)}`);
