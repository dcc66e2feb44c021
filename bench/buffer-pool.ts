/**
 * What the buffer pool (src/tensor/buffer-pool.ts) saves, in fresh processes
 * with the pool on (default 64 MiB) and off, alternating. Per call after a
 * warm-up: wall and process CPU time (CPU over wall is the garbage
 * collector's background threads plus the main thread), V8's major and minor
 * collections (PerformanceObserver 'gc'), and buffers the pool kept, reused
 * and dropped. Pool off is every run before the pool.
 *
 *   npx tsx bench/buffer-pool.ts [rounds=3] [--js] [--forward] [--onnx[=resnet50]]
 *
 * Default: Grad-CAM of ResNet-18 (engine-built, random weights) at layer4 on
 * a batch of 8 (224x224). --forward: a forward pass under noGrad instead.
 * --onnx: a model-zoo graph (light form, batch of 1, from ../shared), whose
 * runner recycles by names (src/layers/graphRecycling.ts). --js: the
 * pure-TS kernels instead of WebAssembly.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { PerformanceObserver, constants } from 'node:perf_hooks';
import type { Module } from '../src/layers/module.js';
import type { Tensor } from '../src/tensor/tensor.js';

const CALLS = 6;
/** Each zoo graph's Grad-CAM layer (test/onnx.zoo.test.ts). */
const ONNX_LAYERS: Record<string, string> = { resnet50: 'r171', squeezenet: 'r64', vgg19: 'r36', densenet121: 'r907', inception_v1: 'r137' };

interface Setup {
  backend: 'wasm' | 'js';
  method: 'gradcam' | 'forward';
  /** A model-zoo graph's name, or null for the engine-built ResNet-18. */
  onnx: string | null;
}

interface Measured {
  wallMs: number;
  cpuMs: number;
  majorGcs: number;
  minorGcs: number;
  keptPerCall: number;
  reusedPerCall: number;
  droppedPerCall: number;
  heldMiB: number;
}

/** The model, its input and its CAM layer. */
async function modelOf(setup: Setup): Promise<{ model: Module; x: Tensor; layer: string }> {
  const { randn, Tensor } = await import('../src/index.js');
  if (setup.onnx === null) {
    const { resnet18 } = await import('../src/models/index.js');
    return { model: resnet18().eval(), x: randn([8, 3, 224, 224], { seed: 3 }), layer: 'layer4' };
  }
  const { loadOnnx } = await import('../src/onnx/index.js');
  const path = fileURLToPath(new URL(`../../shared/onnx-model-zoo-light/light_${setup.onnx}.onnx`, import.meta.url));
  const model = loadOnnx(new Uint8Array(readFileSync(path)));
  const shape = model.inputShapes[model.inputNames[0]!]!.map(Number);
  const n = shape.reduce((a, b) => a * b, 1);
  return { model, x: new Tensor(Float32Array.from({ length: n }, (_, i) => i / n), shape), layer: ONNX_LAYERS[setup.onnx]! };
}

/** The child: one setup, pool on or off, CALLS calls after a warm-up; prints what it measured. */
async function child(pool: boolean, setup: Setup): Promise<void> {
  const { gradCam, noGrad, setBackend, setBufferPoolLimit, bufferPoolStats } = await import('../src/index.js');
  if (!(await setBackend(setup.backend))) throw new Error(`backend ${setup.backend} did not load`);
  if (!pool) setBufferPoolLimit(0);
  const { model, x, layer } = await modelOf(setup);
  const call = setup.method === 'forward' ? () => void noGrad(() => model.forward(x)) : () => void gradCam(model, x, { layer });
  call(); // warm-up: compiles, caches, fills the pool
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
  const s0 = bufferPoolStats();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < CALLS; i++) call();
  const wall = performance.now() - t0;
  const c = process.cpuUsage(c0);
  await new Promise((r) => setTimeout(r, 50)); // let the observer deliver
  observer.disconnect();
  const s = bufferPoolStats();
  const measured: Measured = {
    wallMs: wall / CALLS,
    cpuMs: (c.user + c.system) / 1000 / CALLS,
    majorGcs: major / CALLS,
    minorGcs: minor / CALLS,
    keptPerCall: (s.kept - s0.kept) / CALLS,
    reusedPerCall: (s.reused - s0.reused) / CALLS,
    droppedPerCall: (s.dropped - s0.dropped) / CALLS,
    heldMiB: s.heldBytes / 2 ** 20,
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
  if (args[0] === '--child') return child(args[1] === 'on', JSON.parse(args[2]!) as Setup);
  const rounds = Number(args.find((a) => /^\d+$/.test(a)) ?? 3);
  const onnxFlag = args.find((a) => a === '--onnx' || a.startsWith('--onnx='));
  const setup: Setup = {
    backend: args.includes('--js') ? 'js' : 'wasm',
    method: args.includes('--forward') ? 'forward' : 'gradcam',
    onnx: onnxFlag === undefined ? null : onnxFlag.slice('--onnx='.length) || 'resnet50',
  };
  const what = setup.onnx === null ? 'ResNet-18 (engine-built), batch of 8' : `${setup.onnx} (ONNX model zoo, light), batch of 1`;
  const how = setup.method === 'forward' ? 'forward under noGrad' : 'Grad-CAM';
  console.log(`# buffer pool: ${how} of ${what}, ${setup.backend} kernels, ${CALLS} calls per process after a warm-up`);
  console.log(`# ${new Date().toISOString()}, ${cpus()[0]?.model} x${cpus().length}, Node ${process.version}, load ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  const self = fileURLToPath(import.meta.url);
  const results: Record<'on' | 'off', Measured[]> = { on: [], off: [] };
  for (let r = 0; r < rounds; r++) {
    for (const mode of r % 2 ? (['off', 'on'] as const) : (['on', 'off'] as const)) {
      const out = execFileSync(process.execPath, ['--import', 'tsx', self, '--child', mode, JSON.stringify(setup)], { encoding: 'utf8' });
      const m = JSON.parse(out.trim().split('\n').pop()!) as Measured;
      results[mode].push(m);
      console.log(
        `round ${r + 1} pool ${mode}: ${m.wallMs.toFixed(0)} ms wall, ${m.cpuMs.toFixed(0)} ms CPU, major GCs ${m.majorGcs.toFixed(2)}, minor ${m.minorGcs.toFixed(1)} per call; ` +
          `per call the pool kept ${m.keptPerCall.toFixed(1)}, reused ${m.reusedPerCall.toFixed(1)}, dropped ${m.droppedPerCall.toFixed(1)} buffers; it holds ${m.heldMiB.toFixed(1)} MiB`,
      );
    }
  }
  for (const mode of ['on', 'off'] as const) {
    const list = results[mode];
    console.log(`pool ${mode}: median ${median(list.map((m) => m.wallMs)).toFixed(0)} ms wall, ${median(list.map((m) => m.cpuMs)).toFixed(0)} ms CPU, major GCs ${median(list.map((m) => m.majorGcs)).toFixed(2)} per call`);
  }
}

await main();
