/**
 * What the buffer pool saves on an ONNX graph (src/layers/graphRecycling.ts):
 * the model zoo's ResNet-50 (light form, 224x224, batch of 1) forward under
 * noGrad, or Grad-CAM at its last spatial layer, in fresh processes with the
 * pool on (default 64 MiB) and off, alternating. Per call after a warm-up:
 * wall and process CPU time, V8's major collections, buffers the pool kept,
 * reused and dropped. Pool off is what every ONNX run did before.
 *
 *   npx tsx bench/onnx-buffer-pool.ts [rounds=3] [--gradcam] [--js] [--model=resnet50]
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { PerformanceObserver, constants } from 'node:perf_hooks';

const CALLS = 6;
/** Each zoo graph's Grad-CAM layer (test/onnx.zoo.test.ts). */
const LAYERS: Record<string, string> = { resnet50: 'r171', squeezenet: 'r64', vgg19: 'r36', densenet121: 'r907', inception_v1: 'r137' };

interface Measured {
  wallMs: number;
  cpuMs: number;
  majorGcs: number;
  keptPerCall: number;
  reusedPerCall: number;
  droppedPerCall: number;
  heldMiB: number;
}

async function child(pool: boolean, backend: 'wasm' | 'js', method: 'forward' | 'gradcam', name: string): Promise<void> {
  const { gradCam, noGrad, setBackend, setBufferPoolLimit, bufferPoolStats, Tensor } = await import('../src/index.js');
  const { loadOnnx } = await import('../src/onnx/index.js');
  if (!(await setBackend(backend))) throw new Error(`backend ${backend} did not load`);
  if (!pool) setBufferPoolLimit(0);
  const path = fileURLToPath(new URL(`../../shared/onnx-model-zoo-light/light_${name}.onnx`, import.meta.url));
  const model = loadOnnx(new Uint8Array(readFileSync(path)));
  const shape = model.inputShapes[model.inputNames[0]!]!.map(Number);
  const n = shape.reduce((a, b) => a * b, 1);
  const x = new Tensor(Float32Array.from({ length: n }, (_, i) => i / n), shape);
  const call = method === 'forward' ? () => void noGrad(() => model.forward(x)) : () => void gradCam(model, x, { layer: LAYERS[name]! });
  call(); // warm-up: compiles, folds the constant weights, fills the pool
  let major = 0;
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      if ((e as unknown as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) major++;
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
  if (args[0] === '--child') return child(args[1] === 'on', args[2] as 'wasm' | 'js', args[3] as 'forward' | 'gradcam', args[4]!);
  const rounds = Number(args.find((a) => /^\d+$/.test(a)) ?? 3);
  const backend = args.includes('--js') ? 'js' : 'wasm';
  const method = args.includes('--gradcam') ? 'gradcam' : 'forward';
  const name = args.find((a) => a.startsWith('--model='))?.slice(8) ?? 'resnet50';
  const self = fileURLToPath(import.meta.url);
  console.log(`# buffer pool on an ONNX graph: ${name} (model zoo, light), ${method === 'forward' ? 'forward under noGrad' : `Grad-CAM at ${LAYERS[name]}`}, ${backend} kernels, ${CALLS} calls per process after a warm-up`);
  console.log(`# ${new Date().toISOString()}, ${cpus()[0]?.model} x${cpus().length}, Node ${process.version}, load ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  const results: Record<'on' | 'off', Measured[]> = { on: [], off: [] };
  for (let r = 0; r < rounds; r++) {
    for (const mode of r % 2 ? (['off', 'on'] as const) : (['on', 'off'] as const)) {
      const out = execFileSync(process.execPath, ['--import', 'tsx', self, '--child', mode, backend, method, name], { encoding: 'utf8' });
      const m = JSON.parse(out.trim().split('\n').pop()!) as Measured;
      results[mode].push(m);
      console.log(`round ${r + 1} pool ${mode}: ${m.wallMs.toFixed(0)} ms wall, ${m.cpuMs.toFixed(0)} ms CPU, major GCs ${m.majorGcs.toFixed(2)} per call; per call the pool kept ${m.keptPerCall.toFixed(1)}, reused ${m.reusedPerCall.toFixed(1)}, dropped ${m.droppedPerCall.toFixed(1)} buffers; it holds ${m.heldMiB.toFixed(1)} MiB`);
    }
  }
  for (const mode of ['on', 'off'] as const) {
    const list = results[mode];
    console.log(`pool ${mode}: median ${median(list.map((m) => m.wallMs)).toFixed(0)} ms wall, ${median(list.map((m) => m.cpuMs)).toFixed(0)} ms CPU, major GCs ${median(list.map((m) => m.majorGcs)).toFixed(2)} per call`);
  }
}

await main();
