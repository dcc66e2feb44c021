/**
 * What the buffer pool (src/tensor/buffer-pool.ts) saves: Grad-CAM of
 * ResNet-18 at layer4 on batches of 8 (224x224, random weights), in fresh
 * processes with the pool on (default 64 MiB) and off, alternating. Per call
 * after the first: wall and process CPU time (CPU over wall is the garbage
 * collector's background threads plus the main thread), V8's major and
 * minor collections (PerformanceObserver 'gc'), and buffers reused.
 *
 *   npx tsx bench/buffer-pool.ts [rounds=3] [--js]     (default: WebAssembly kernels)
 */
import { execFileSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { PerformanceObserver, constants } from 'node:perf_hooks';

const CALLS = 6;

interface Measured {
  wallMs: number;
  cpuMs: number;
  majorGcs: number;
  minorGcs: number;
  reusedPerCall: number;
  droppedPerCall: number;
  heldMiB: number;
}

async function child(pool: boolean, backend: 'wasm' | 'js'): Promise<void> {
  const { gradCam, randn, setBackend, setBufferPoolLimit, bufferPoolStats } = await import('../src/index.js');
  const { resnet18 } = await import('../src/models/index.js');
  if (!(await setBackend(backend))) throw new Error(`backend ${backend} did not load`);
  if (!pool) setBufferPoolLimit(0);
  const model = resnet18().eval();
  const x = randn([8, 3, 224, 224], { seed: 3 });
  gradCam(model, x, { layer: 'layer4' }); // warm-up: compiles, caches, fills the pool
  let major = 0;
  let minor = 0;
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind = (e as unknown as { detail?: { kind?: number } }).detail?.kind;
      if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) major++;
      else if (kind === constants.NODE_PERFORMANCE_GC_MINOR) minor++;
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  const { reused: reused0, dropped: dropped0 } = bufferPoolStats();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < CALLS; i++) gradCam(model, x, { layer: 'layer4' });
  const wall = performance.now() - t0;
  const c = process.cpuUsage(c0);
  await new Promise((r) => setTimeout(r, 50)); // let the observer deliver
  observer.disconnect();
  const measured: Measured = {
    wallMs: wall / CALLS,
    cpuMs: (c.user + c.system) / 1000 / CALLS,
    majorGcs: major / CALLS,
    minorGcs: minor / CALLS,
    reusedPerCall: (bufferPoolStats().reused - reused0) / CALLS,
    droppedPerCall: (bufferPoolStats().dropped - dropped0) / CALLS,
    heldMiB: bufferPoolStats().heldBytes / 2 ** 20,
  };
  console.log(JSON.stringify(measured));
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args[0] === '--child') return child(args[1] === 'on', args[2] as 'wasm' | 'js');
  const rounds = Number(args.find((a) => /^\d+$/.test(a)) ?? 3);
  const backend = args.includes('--js') ? 'js' : 'wasm';
  const self = fileURLToPath(import.meta.url);
  console.log(`# buffer pool, Grad-CAM of ResNet-18 at layer4, batch of 8, ${backend} kernels, ${CALLS} calls per process after a warm-up`);
  console.log(`# ${new Date().toISOString()}, ${cpus()[0]?.model} x${cpus().length}, Node ${process.version}, load ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  const results: Record<'on' | 'off', Measured[]> = { on: [], off: [] };
  for (let r = 0; r < rounds; r++) {
    for (const mode of r % 2 ? (['off', 'on'] as const) : (['on', 'off'] as const)) {
      const out = execFileSync(process.execPath, ['--import', 'tsx', self, '--child', mode, backend], { encoding: 'utf8' });
      const m = JSON.parse(out.trim().split('\n').pop()!) as Measured;
      results[mode].push(m);
      console.log(`round ${r + 1} pool ${mode}: ${m.wallMs.toFixed(0)} ms wall, ${m.cpuMs.toFixed(0)} ms CPU, major GCs ${m.majorGcs.toFixed(2)}, minor ${m.minorGcs.toFixed(1)} per call, reused ${m.reusedPerCall.toFixed(1)} and dropped ${m.droppedPerCall.toFixed(1)} buffers per call, pool holds ${m.heldMiB.toFixed(1)} MiB`);
    }
  }
  for (const mode of ['on', 'off'] as const) {
    const list = results[mode];
    console.log(`pool ${mode}: median ${median(list.map((m) => m.wallMs)).toFixed(0)} ms wall, ${median(list.map((m) => m.cpuMs)).toFixed(0)} ms CPU, major GCs ${median(list.map((m) => m.majorGcs)).toFixed(2)} per call`);
  }
}

await main();
