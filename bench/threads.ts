/**
 * Intra-op threads of the WebAssembly kernels: one ResNet-18 forward pass and
 * one Grad-CAM at layer4 (1x3x224x224, random weights, eval mode) with the
 * convolutions' GEMMs on 1 thread and split over 2 (setBackend('wasm', {
 * threads: 2, spawnThread: spawnKernelThread })), alternating in rounds in one
 * process. Wall time, and CPU time of the whole process (all its threads).
 *
 *   npx tsx bench/threads.ts [rounds]      (default 7)
 *
 * Measured 2026-12-01 on the shared 2-core machine (Xeon @ 2.00GHz), under
 * nice, medians (wall ms, 1 thread -> 2 threads):
 *   07:17, 9 rounds, load 2.1 (falling from 6.5): forward 325 -> 239 (1.36x),
 *          Grad-CAM 342 -> 280 (1.22x); CPU time 367 / 374 and 376 / 417 ms
 *   07:25, 11 rounds, load 1.5 -> 2.6: forward 327 -> 276 (1.19x),
 *          Grad-CAM 329 -> 311 (1.06x); CPU time 344 / 345 and 341 / 369 ms
 *   07:28, 11 rounds, load 1.8: forward 315 -> 230 (1.37x),
 *          Grad-CAM 336 -> 231 (1.46x); CPU time 352 / 357 and 375 / 358 ms
 *   07:29, 11 rounds, load 2.4: forward 283 -> 224 (1.26x),
 *          Grad-CAM 301 -> 238 (1.26x); CPU time 315 / 349 and 347 / 377 ms
 *   07:01, 7 rounds, load 8 -> 10: 0.99x and 0.97x (no free core; before
 *          helpers could be skipped when late it was 0.88x and 0.92x)
 * What bounds it: in one thread's forward pass the split GEMMs were about 70%
 * of the wall time (Grad-CAM about 60%; timed by wrapping the kernels, under
 * load), the rest (Winograd transforms, im2col, copies in and out of the
 * WebAssembly memory, pooling, normalisation, JS ops) stays on the calling
 * thread, so about 1.5x is what 2 cores can give with this split.
 */
import { cpus, loadavg } from 'node:os';
import { gradCam } from '../src/cam/index.js';
import { resnet18 } from '../src/models/index.js';
import { spawnKernelThread } from '../src/node/kernel-threads.js';
import { kernels, setBackend, useKernels } from '../src/tensor/backend.js';
import type { WasmKernels } from '../src/tensor/kernels/wasm.js';
import { noGrad } from '../src/tensor/autograd.js';
import { randn } from '../src/tensor/random.js';

const rounds = Number(process.argv[2] ?? 7);

await setBackend('wasm');
const one = kernels();
if (!(await setBackend('wasm', { threads: 2, spawnThread: spawnKernelThread }))) throw new Error('wasm did not load');
const two = kernels() as WasmKernels;
if (two.threads() !== 2) throw new Error('the helper thread did not start');

const model = resnet18();
model.eval();
const x = randn([1, 3, 224, 224], { seed: 1 });

const tasks = {
  forward: () => noGrad(() => model.forward(x)),
  'Grad-CAM layer4': () => gradCam(model, x, { layer: 'layer4' }),
};
const setups = { '1 thread': one, '2 threads': two };
type Sample = { wall: number; cpu: number };
const samples = new Map<string, Sample[]>();

function time(run: () => unknown): Sample {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  run();
  const wall = performance.now() - t0;
  const c = process.cpuUsage(c0);
  return { wall, cpu: (c.user + c.system) / 1000 };
}

// Warm up: weight caches, V8's tiers.
for (const k of Object.values(setups)) {
  useKernels(k);
  for (const run of Object.values(tasks)) { run(); run(); }
}
for (let r = 0; r < rounds; r++) {
  for (const [task, run] of Object.entries(tasks)) {
    // Alternate which setup goes first, so drift in the machine's load hits both alike.
    const order = r % 2 ? Object.entries(setups).reverse() : Object.entries(setups);
    for (const [name, k] of order) {
      useKernels(k);
      const key = `${task} | ${name}`;
      samples.set(key, [...(samples.get(key) ?? []), time(run)]);
    }
  }
}
useKernels(one);
two.close();

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
console.log(`# ${new Date().toISOString()}, ${cpus().length} cores (${cpus()[0]?.model}), load ${loadavg().map((l) => l.toFixed(2)).join(' ')}, ${rounds} rounds, medians`);
console.log('| task | 1 thread wall ms | 2 threads wall ms | speed-up | 1 thread CPU ms | 2 threads CPU ms |');
console.log('|---|---|---|---|---|---|');
for (const task of Object.keys(tasks)) {
  const a = samples.get(`${task} | 1 thread`)!;
  const b = samples.get(`${task} | 2 threads`)!;
  const wa = median(a.map((s) => s.wall)), wb = median(b.map((s) => s.wall));
  const ca = median(a.map((s) => s.cpu)), cb = median(b.map((s) => s.cpu));
  console.log(`| ${task} | ${wa.toFixed(1)} | ${wb.toFixed(1)} | ${(wa / wb).toFixed(2)}x | ${ca.toFixed(1)} | ${cb.toFixed(1)} |`);
}
