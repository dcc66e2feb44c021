/**
 * Peak memory of explanations of ResNet-18 (224x224, random weights): each
 * task runs in a fresh Node process that loads tinycam and the model only
 * (no TensorFlow.js beside it, whose own import would dominate), and reports
 * its peak RSS (getrusage's maxRSS) over the RSS it had once the model was
 * built, with the WebAssembly heap and its weight cache at the end.
 *
 *   npx tsx bench/memory.ts [--quick]     (--quick: skips the JS backend's batches)
 *
 * Two rows run with the buffer pool off (setBufferPoolLimit(0)), beside the same tasks with it.
 *
 * Where the memory goes (ResNet-18, measured 2026-12-01 on the shared
 * 2-core machine): the WebAssembly backend's weight cache (100 MiB: the
 * Winograd transforms and the copy of the weights they were made from;
 * setBackend's weightCacheBytes bounds it) and its scratch (~30 MiB, kept
 * for the next call); the rest is the activations a call must hold, plus
 * what V8's collector has not yet freed.
 */
import { execFileSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';

type Backend = 'wasm' | 'js';
const TASKS = {
  'Grad-CAM at layer4, 1 image': { batch: 1, run: 'gradcam' },
  'Grad-CAM at layer4, batch of 8': { batch: 8, run: 'gradcam' },
  'forward without gradients, batch of 16': { batch: 16, run: 'forward' },
  'Score-CAM at layer4, one pass of 16 masks': { batch: 1, run: 'scorecam' },
} as const;
type Task = keyof typeof TASKS;

interface Measured {
  baseMiB: number;
  peakMiB: number;
  heapMiB: number | null;
  cacheMiB: number | null;
  cpuMs: number;
}

/** The child: build the model, then run one task twice and print what it measured. */
async function child(backend: Backend, task: Task, weightCacheBytes: number | undefined, pool: boolean): Promise<void> {
  const { gradCam, noGrad, randn, scoreCam, setBackend, setBufferPoolLimit } = await import('../src/index.js');
  if (!pool) setBufferPoolLimit(0);
  const { kernels } = await import('../src/tensor/backend.js');
  const { resnet18 } = await import('../src/models/index.js');
  if (!(await setBackend(backend, weightCacheBytes === undefined ? {} : { weightCacheBytes }))) throw new Error(`backend ${backend} did not load`);
  const model = resnet18();
  model.eval();
  const { batch, run } = TASKS[task];
  const x = randn([batch, 3, 224, 224], { seed: 3 });
  const mib = (bytes: number): number => bytes / 1048576;
  const baseMiB = mib(process.memoryUsage().rss);
  const c0 = process.cpuUsage();
  const stop = new Error('one pass');
  for (let r = 0; r < 2; r++) {
    if (run === 'gradcam') gradCam(model, x, { layer: 'layer4' });
    else if (run === 'forward') noGrad(() => model.forward(x));
    else {
      try {
        scoreCam(model, x, { layer: 'layer4', batchSize: 16, onProgress: () => { throw stop; } });
      } catch (e) {
        if (e !== stop) throw e;
      }
    }
  }
  const cpu = process.cpuUsage(c0);
  const k = kernels() as { heapBytes?: () => number; cacheBytes?: () => number };
  const measured: Measured = {
    baseMiB,
    peakMiB: mib(process.resourceUsage().maxRSS * 1024),
    heapMiB: k.heapBytes ? mib(k.heapBytes()) : null,
    cacheMiB: k.cacheBytes ? mib(k.cacheBytes()) : null,
    cpuMs: (cpu.user + cpu.system) / 2000,
  };
  console.log(JSON.stringify(measured));
}

function measure(backend: Backend, task: Task, weightCacheBytes?: number, pool = true): Measured {
  const args = ['--import', 'tsx', fileURLToPath(import.meta.url), '--child', backend, task, String(weightCacheBytes ?? ''), pool ? 'pool' : 'no-pool'];
  const out = execFileSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 1 << 20 });
  return JSON.parse(out.trim().split('\n').pop()!) as Measured;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv[0] === '--child') {
    const cache = argv[3] ? Number(argv[3]) : undefined;
    return child(argv[1] as Backend, argv[2] as Task, cache, argv[4] !== 'no-pool');
  }
  const quick = argv.includes('--quick');
  console.log(`- date: ${new Date().toISOString()}; node ${process.version}; ${cpus()[0]?.model} (${cpus().length} logical cores); load ${loadavg()[0]!.toFixed(1)}`);
  console.log('- each row: a fresh process, the task run twice; RSS over the process after loading tinycam and building the model\n');
  console.log('| backend | task | RSS with the model, MiB | peak RSS over it, MiB | WebAssembly heap (weight cache), MiB | CPU per run, ms |');
  console.log('|---|---|---|---|---|---|');
  const rows: [Backend, Task, number | undefined, boolean][] = [];
  for (const task of Object.keys(TASKS) as Task[]) rows.push(['wasm', task, undefined, true]);
  rows.push(['wasm', 'Grad-CAM at layer4, 1 image', 0, true]);
  // The buffer pool off (setBufferPoolLimit(0)): every activation a fresh allocation, as before it.
  for (const task of ['Grad-CAM at layer4, batch of 8', 'forward without gradients, batch of 16'] as const) rows.push(['wasm', task, undefined, false]);
  for (const task of Object.keys(TASKS) as Task[]) if (!quick || TASKS[task].batch === 1) rows.push(['js', task, undefined, true]);
  for (const [backend, task, cache, pool] of rows) {
    const m = measure(backend, task, cache, pool);
    const heap = m.heapMiB === null ? '-' : `${m.heapMiB.toFixed(0)} (${m.cacheMiB!.toFixed(0)})`;
    const name = `${backend}${cache === 0 ? ', weightCacheBytes: 0' : ''}${pool ? '' : ', buffer pool off'}`;
    console.log(`| ${name} | ${task} | ${m.baseMiB.toFixed(0)} | +${(m.peakMiB - m.baseMiB).toFixed(0)} | ${heap} | ${m.cpuMs.toFixed(0)} |`);
  }
}

await main();
