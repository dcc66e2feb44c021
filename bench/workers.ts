/**
 * Images per second of Grad-CAM (ResNet-18, 224x224, layer4, WebAssembly
 * kernels in each worker) on batches of 8, with a pool of 1 and of 2 worker
 * threads (createWorkerPool from tinycam/node), measured two ways in the same
 * alternating rounds:
 *
 *   split    one batch of 8 at a time, its images split over the workers
 *            (pool.explain: 4 + 4 with 2 workers), as one caller with one
 *            batch would use the pool;
 *   stream   batches of 8 arriving back to back (two in flight), each run
 *            whole by a free worker (pool.run), as a service explaining
 *            request after request would use it.
 *
 *   npx tsx bench/workers.ts [rounds=3]
 *
 * Wall time: the work is in the worker threads. Only meaningful on a quiet
 * machine (two busy workers need both cores): the load average is printed.
 */
import { cpus, loadavg } from 'node:os';
import { createWorkerPool } from '../src/node/workers.js';
import { serialize } from '../src/parallel/protocol.js';
import { randn } from '../src/index.js';
import { resnet18 } from '../src/models/index.js';

const rounds = Number(process.argv[2] ?? 3) || 3;
const median = (v: number[]): number => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;
const load = (): string => loadavg().map((l) => l.toFixed(2)).join(', ');

const model = resnet18();
const stateDict = serialize(model.stateDict()) as never;
const batches = [randn([8, 3, 224, 224], { seed: 10 }), randn([8, 3, 224, 224], { seed: 11 })];
const options = { layer: 'layer4' };

console.log(`# ${new Date().toISOString()}; node ${process.version}; ${cpus()[0]?.model} (${cpus().length} logical cores); load ${load()}`);
const pools = { 1: createWorkerPool({ workers: 1, backend: 'wasm', model: { arch: 'resnet18', stateDict } }), 2: createWorkerPool({ workers: 2, backend: 'wasm', model: { arch: 'resnet18', stateDict } }) };
await Promise.all(Object.values(pools).map((p) => p.ready()));
// Warm-up: each worker's kernels, weight cache and JIT.
for (const pool of Object.values(pools)) await Promise.all(batches.map((b) => pool.run('gradCam', b, options)));

const rates: Record<string, number[]> = { 'split 1': [], 'split 2': [], 'stream 1': [], 'stream 2': [] };
const loads: string[] = [];
for (let r = 0; r < rounds; r++) {
  for (const workers of [1, 2] as const) {
    const pool = pools[workers];
    let t0 = performance.now();
    for (const batch of batches) await pool.explain('gradCam', batch, options);
    rates[`split ${workers}`]!.push((8 * batches.length) / ((performance.now() - t0) / 1000));
    t0 = performance.now();
    await Promise.all(batches.map((batch) => pool.run('gradCam', batch, options)));
    rates[`stream ${workers}`]!.push((8 * batches.length) / ((performance.now() - t0) / 1000));
  }
  loads.push(loadavg()[0]!.toFixed(1));
  console.error(`round ${r + 1}/${rounds}, load ${load()}`);
}
for (const pool of Object.values(pools)) pool.close();

console.log(`\n${rounds} rounds, pools alternating; 1-minute load after each round: ${loads.join(' -> ')}\n`);
console.log('| mode | 1 worker, images/s | 2 workers, images/s | 2 over 1 |');
console.log('|---|---|---|---|');
for (const mode of ['split', 'stream']) {
  const one = median(rates[`${mode} 1`]!);
  const two = median(rates[`${mode} 2`]!);
  console.log(`| ${mode} | ${one.toFixed(2)} | ${two.toFixed(2)} | ${(two / one).toFixed(2)}x |`);
}
