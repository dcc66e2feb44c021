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
 *   npx tsx bench/workers.ts [rounds=3] [--batches K] [--fresh-pools]
 *
 * (K batches of 8 per measurement, default 6; --fresh-pools: a pool started for each measurement and closed
 * after it, instead of both pools alive throughout.)
 *
 * With --score-cam, instead: the wall time of one image's Score-CAM
 * (ResNet-18, 224x224, WebAssembly kernels, pytorch-grad-cam's batches of 16
 * masks) with a pool of 1 worker (the whole call in it) and of 2 (its
 * masked passes spread, pool.explain on one image), alternating in rounds;
 * it checks that both give the same map, bit for bit.
 *
 *   npx tsx bench/workers.ts --score-cam [rounds=1] [--layer layer4]
 *
 * (layer4: 512 masked passes of one image, a few minutes per round on a
 * quiet machine; --layer layer3 has 256.)
 *
 * Wall time: the work is in the worker threads. Only meaningful on a quiet
 * machine (two busy workers need both cores): the load average is printed.
 */
import { cpus, loadavg } from 'node:os';
import { createWorkerPool } from '../src/node/workers.js';
import { serialize } from '../src/parallel/protocol.js';
import { randn } from '../src/index.js';
import { resnet18 } from '../src/models/index.js';

const args = process.argv.slice(2);
const flag = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args.splice(i, 2)[1] : undefined;
};
const scoreCamMode = args.includes('--score-cam');
if (scoreCamMode) args.splice(args.indexOf('--score-cam'), 1);
const scoreCamLayer = flag('--layer') ?? 'layer4';
const batchCount = Number(flag('--batches') ?? 6);
const rounds = Number(args[0] ?? (scoreCamMode ? 1 : 3)) || (scoreCamMode ? 1 : 3);
const median = (v: number[]): number => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;
const load = (): string => loadavg().map((l) => l.toFixed(2)).join(', ');

const model = resnet18();
const stateDict = serialize(model.stateDict()) as never;
// Batches per measurement (--batches K, default 6): the stream keeps them all queued, so with 2 workers the
// last one to finish is not a single batch's imbalance; split runs them one after another.
const batches = Array.from({ length: batchCount }, (_, i) => randn([8, 3, 224, 224], { seed: 10 + i }));
const options = { layer: 'layer4' };

console.log(`# ${new Date().toISOString()}; node ${process.version}; ${cpus()[0]?.model} (${cpus().length} logical cores); load ${load()}`);
const makePool = (workers: 1 | 2) => createWorkerPool({ workers, backend: 'wasm', model: { arch: 'resnet18', stateDict } });
// Warm-up: each worker's kernels, weight cache and JIT, on both paths (whole batches and halves).
const warm = async (pool: ReturnType<typeof makePool>): Promise<void> => {
  await Promise.all(batches.map((b) => pool.run('gradCam', b, options)));
  for (const b of batches.slice(0, 2)) await pool.explain('gradCam', b, options);
};
if (scoreCamMode) {
  await benchScoreCam();
  process.exit(0);
}
// --fresh-pools: each measurement gets a pool of its own, started and warmed just before it and closed after,
// so the other pool's idle workers (V8 collecting their garbage after a busy spell) are not in the process.
const freshPools = args.includes('--fresh-pools');
const kept = freshPools ? null : { 1: makePool(1), 2: makePool(2) };
if (kept) {
  await Promise.all(Object.values(kept).map((p) => p.ready()));
  for (const pool of Object.values(kept)) await warm(pool);
}

const rates: Record<string, number[]> = { 'split 1': [], 'split 2': [], 'stream 1': [], 'stream 2': [] };
// Cores busy while a mode runs (process CPU time of all threads over wall time): with one worker, what
// is above 1 is V8's background work (GC helpers, compilers) and the main thread, on the second core.
const busy: Record<string, number[]> = { 'split 1': [], 'split 2': [], 'stream 1': [], 'stream 2': [] };
const cpuMs = (since: NodeJS.CpuUsage): number => {
  const c = process.cpuUsage(since);
  return (c.user + c.system) / 1000;
};
const loads: string[] = [];
for (let r = 0; r < rounds; r++) {
  for (const workers of [1, 2] as const) {
    const pool = kept ? kept[workers] : makePool(workers);
    if (!kept) {
      await pool.ready();
      await warm(pool);
    }
    let t0 = performance.now();
    let c0 = process.cpuUsage();
    for (const batch of batches) await pool.explain('gradCam', batch, options);
    let wall = performance.now() - t0;
    rates[`split ${workers}`]!.push((8 * batches.length) / (wall / 1000));
    busy[`split ${workers}`]!.push(cpuMs(c0) / wall);
    t0 = performance.now();
    c0 = process.cpuUsage();
    await Promise.all(batches.map((batch) => pool.run('gradCam', batch, options)));
    wall = performance.now() - t0;
    rates[`stream ${workers}`]!.push((8 * batches.length) / (wall / 1000));
    busy[`stream ${workers}`]!.push(cpuMs(c0) / wall);
    if (!kept) pool.close();
  }
  loads.push(loadavg()[0]!.toFixed(1));
  console.error(`round ${r + 1}/${rounds}, load ${load()}`);
}
if (kept) for (const pool of Object.values(kept)) pool.close();

console.log(`\n${rounds} rounds, pools alternating${freshPools ? ' (a fresh pool for each measurement)' : ''}, ${batchCount} batches of 8 per measurement; 1-minute load after each round: ${loads.join(' -> ')}\n`);
// Two estimates of the speed-up: the ratio of the medians, and the median of each round's own ratio (the
// two pools measured back to back, so a host that is slower for a while weighs on both sides of it).
console.log('| mode | 1 worker, images/s | 2 workers, images/s | 2 over 1 (medians) | 2 over 1 (median of rounds) | rounds\' ratios | cores busy, 1 / 2 workers |');
console.log('|---|---|---|---|---|---|---|');
for (const mode of ['split', 'stream']) {
  const ones = rates[`${mode} 1`]!;
  const twos = rates[`${mode} 2`]!;
  const one = median(ones);
  const two = median(twos);
  const perRound = twos.map((t, i) => t / ones[i]!);
  const cores = `${median(busy[`${mode} 1`]!).toFixed(2)} / ${median(busy[`${mode} 2`]!).toFixed(2)}`;
  const spread = `${Math.min(...perRound).toFixed(2)}-${Math.max(...perRound).toFixed(2)}`;
  console.log(`| ${mode} | ${one.toFixed(2)} | ${two.toFixed(2)} | ${(two / one).toFixed(2)}x | ${median(perRound).toFixed(2)}x | ${spread} | ${cores} |`);
}

/** One image's Score-CAM with 1 worker (whole) and 2 (passes spread), wall time per round. */
async function benchScoreCam(): Promise<void> {
  const image = randn([1, 3, 224, 224], { seed: 12 });
  const scoreOptions = { layer: scoreCamLayer, batchSize: 16 };
  const pools = { 1: makePool(1), 2: makePool(2) };
  await Promise.all(Object.values(pools).map((p) => p.ready()));
  // Warm-up: every worker's kernels and JIT, on the passes Score-CAM runs (one batch of 16 images each).
  for (const pool of Object.values(pools)) await Promise.all(Array.from({ length: pool.size }, () => pool.run('gradCam', randn([16, 3, 224, 224], { seed: 13 }), options)));
  const times: Record<1 | 2, number[]> = { 1: [], 2: [] };
  // CPU time of the whole process: worker threads are in it (the other pool idles).
  const cpu: Record<1 | 2, number[]> = { 1: [], 2: [] };
  const maps: Record<number, Float32Array> = {};
  const loads: string[] = [];
  for (let r = 0; r < rounds; r++) {
    for (const workers of [1, 2] as const) {
      let passes = 0;
      const t0 = performance.now();
      const c0 = process.cpuUsage();
      const result = await pools[workers].explain<{ maps: { data: Float32Array } }>('scoreCam', image, { ...scoreOptions, onProgress: () => passes++ });
      times[workers].push(performance.now() - t0);
      const c1 = process.cpuUsage(c0);
      cpu[workers].push((c1.user + c1.system) / 1000);
      maps[workers] = result.maps.data;
      console.error(`round ${r + 1}/${rounds}, ${workers} worker(s): ${(times[workers].at(-1)! / 1000).toFixed(1)} s wall, ${(cpu[workers].at(-1)! / 1000).toFixed(1)} s cpu (${passes} progress reports), load ${load()}`);
    }
    loads.push(loadavg()[0]!.toFixed(1));
  }
  for (const pool of Object.values(pools)) pool.close();
  const same = maps[1]!.length === maps[2]!.length && maps[1]!.every((v, i) => Object.is(v, maps[2]![i]));
  const one = median(times[1]);
  const two = median(times[2]);
  console.log(`\nScore-CAM of one 224x224 image at ResNet-18 ${scoreCamLayer} (batches of 16 masks, wasm kernels); ${rounds} round(s), 1-minute load after each: ${loads.join(' -> ')}\n`);
  const s = (ms: number): string => (ms / 1000).toFixed(1);
  console.log('| workers | wall, s | cpu (all threads), s |');
  console.log('|---|---|---|');
  console.log(`| 1 (whole call in one worker) | ${s(one)} | ${s(median(cpu[1]))} |`);
  console.log(`| 2 (passes spread) | ${s(two)} | ${s(median(cpu[2]))} |`);
  console.log(`\nwall 1 over 2: ${(one / two).toFixed(2)}x; cpu 2 over 1: ${(median(cpu[2]) / median(cpu[1])).toFixed(2)}x; maps identical: ${same ? 'yes' : 'NO'}`);
}
