/**
 * The WebAssembly kernels' weight cache on a model whose Winograd transforms
 * need more than the default 256 MiB (VGG-16: about 294 MB): one Grad-CAM at
 * 224x224 with the default cache, with a cache big enough for everything and
 * with none, alternating in rounds in one process, and what the cache did
 * (transforms reused / made / cache emptied) per call.
 *
 *   npx tsx bench/weight-cache.ts [rounds=3] [--model vgg16] [--layer features.29]
 *
 * Run it in another checkout (same command there) to compare with its cache
 * policy; a checkout without cacheStats() prints "-" for those columns.
 */
import { loadavg } from 'node:os';
import { gradCam, randn, setBackend } from '../src/index.js';
import { kernels } from '../src/tensor/backend.js';
import { createModel } from '../src/models/index.js';

const args = process.argv.slice(2);
const flag = (name: string, fallback: string): string => {
  const i = args.indexOf(name);
  return i >= 0 ? args.splice(i, 2)[1]! : fallback;
};
const modelName = flag('--model', 'vgg16');
const layer = flag('--layer', 'features.29');
const rounds = Number(args[0] ?? 3) || 3;
const model = createModel(modelName);
const input = randn([1, 3, 224, 224], { seed: 10 });
type Stats = { reused: number; made: number; emptied: number };
const settings: [string, number | undefined][] = [['default (256 MiB)', undefined], ['everything fits (2 GB)', 2e9], ['none (0)', 0]];
const times: Record<string, number[]> = {};
const did: Record<string, string> = {};
const median = (v: number[]): number => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;
console.log(`# ${new Date().toISOString()}; ${modelName} Grad-CAM at ${layer}, 224x224, WebAssembly kernels; load ${loadavg().map((l) => l.toFixed(2)).join(', ')}`);
for (let r = 0; r < rounds; r++) {
  for (const [label, bytes] of settings) {
    // A fresh instance per setting (another weightCacheBytes than the last loads afresh), warmed by one call.
    await setBackend('wasm', { weightCacheBytes: bytes });
    gradCam(model, input, { layer });
    const k = kernels() as unknown as { cacheStats?: () => Stats; cacheBytes(): number };
    const before = k.cacheStats?.();
    const t0 = performance.now();
    const calls = 2;
    for (let i = 0; i < calls; i++) gradCam(model, input, { layer });
    (times[label] ??= []).push((performance.now() - t0) / calls);
    const after = k.cacheStats?.();
    did[label] = before && after
      ? `${(after.reused - before.reused) / calls} / ${(after.made - before.made) / calls} / ${(after.emptied - before.emptied) / calls}`
      : '-';
    did[`${label} bytes`] = `${(k.cacheBytes() / 1e6).toFixed(0)} MB`;
  }
  console.error(`round ${r + 1}/${rounds}, load ${loadavg()[0]!.toFixed(2)}`);
}
console.log('\n| weight cache | Grad-CAM, ms (median) | cache holds | per call: reused / made / emptied |');
console.log('|---|---|---|---|');
for (const [label] of settings) console.log(`| ${label} | ${median(times[label]!).toFixed(0)} | ${did[`${label} bytes`]} | ${did[label]} |`);
