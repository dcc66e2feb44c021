/**
 * tinycam (WebAssembly and pure-TS kernels) beside TensorFlow.js 4.22 (its
 * WebAssembly and pure-JS backends) on the same ResNet-18 shape, random
 * weights, one 1x3x224x224 image, one thread each (tfjs-backend-wasm with
 * setThreadsCount(1)). Systems alternate within each round; the medians of
 * the rounds and their ratios go to stdout as markdown for bench/RESULTS.md.
 *
 *   npx tsx bench/tfjs-compare.ts [rounds=5] [--score-cam] [--wasm-only]
 *
 * Times are wall and CPU time of this process (the machine is shared: when
 * the load is above the 2 cores, CPU time is the better estimate of one free
 * core). tfjs has no BatchNorm in this graph: BN is folded into the convs, as
 * a deployed tfjs model would have it; tinycam runs torchvision's resnet18
 * with eval-mode BatchNorm.
 *
 * Measured per system:
 *   forward        logits of one image
 *   gradcam        one pruned Grad-CAM at layer4: forward, backward from the
 *                  logit to layer4 only, the map (tinycam: gradCam(); tfjs:
 *                  forward to layer4, tf.grad of the head, weights, map)
 *   inputgrad      d logit / d input through the whole network (tinycam:
 *                  guidedBackprop; tfjs: tf.grad of the logit, plain ReLU rule)
 * With --score-cam: one of Score-CAM's 32 batch-16 passes on today's kernels
 * and on WebAssembly. With --workers: images/s of batches of 8 with 1 and 2
 * worker threads.
 */
import { execFileSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { setThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { gradCam, guidedBackprop, noGrad, randn, setBackend } from '../src/index.js';
import { resnet18 } from '../src/models/index.js';
import { forceConvAlgorithm } from '../src/tensor/kernels/winograd.js';

type Timing = { wall: number; cpu: number };
const cpuNow = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
function time(fn: () => void): Timing {
  const w0 = performance.now();
  const c0 = cpuNow();
  fn();
  return { wall: performance.now() - w0, cpu: cpuNow() - c0 };
}
async function timeAsync(fn: () => Promise<void>): Promise<Timing> {
  const w0 = performance.now();
  const c0 = cpuNow();
  await fn();
  return { wall: performance.now() - w0, cpu: cpuNow() - c0 };
}
const median = (v: number[]): number => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;

// ---------------------------------------------------------------------------
// TensorFlow.js ResNet-18 (NHWC, BN folded), random He-initialised weights

interface TfConv { w: tf.Tensor4D; b: tf.Tensor1D; stride: number; pad: number }
function tfConv(k: number, cin: number, cout: number, stride: number, pad: number): TfConv {
  return {
    w: tf.randomNormal([k, k, cin, cout], 0, Math.sqrt(2 / (k * k * cin)), 'float32', 1) as tf.Tensor4D,
    b: tf.zeros([cout]) as tf.Tensor1D,
    stride,
    pad,
  };
}
function runConv(x: tf.Tensor4D, c: TfConv, relu: boolean): tf.Tensor4D {
  const y = tf.add(tf.conv2d(x, c.w, c.stride, c.pad), c.b) as tf.Tensor4D;
  return relu ? tf.relu(y) : y;
}
function tfResnet18() {
  const stem = tfConv(7, 3, 64, 2, 3);
  const blocks: { c1: TfConv; c2: TfConv; down: TfConv | null }[] = [];
  let cin = 64;
  for (const [cout, stride] of [[64, 1], [128, 2], [256, 2], [512, 2]] as const) {
    for (let i = 0; i < 2; i++) {
      const s = i === 0 ? stride : 1;
      blocks.push({ c1: tfConv(3, cin, cout, s, 1), c2: tfConv(3, cout, cout, 1, 1), down: s !== 1 || cin !== cout ? tfConv(1, cin, cout, s, 0) : null });
      cin = cout;
    }
  }
  const fcW = tf.randomNormal([512, 1000], 0, 0.03, 'float32', 2) as tf.Tensor2D;
  const fcB = tf.zeros([1000]);
  const body = (x: tf.Tensor4D): tf.Tensor4D => {
    let h = runConv(x, stem, true);
    h = tf.maxPool(tf.pad(h, [[0, 0], [1, 1], [1, 1], [0, 0]], -Infinity) as tf.Tensor4D, 3, 2, 'valid');
    for (const b of blocks) {
      const out = runConv(runConv(h, b.c1, true), b.c2, false);
      h = tf.relu(tf.add(out, b.down ? runConv(h, b.down, false) : h)) as tf.Tensor4D;
    }
    return h;
  };
  const head = (a: tf.Tensor4D): tf.Tensor2D => tf.add(tf.matMul(tf.mean(a, [1, 2]) as tf.Tensor2D, fcW), fcB) as tf.Tensor2D;
  return { body, head };
}

function tfSystem(backend: 'wasm' | 'cpu') {
  const net = tfResnet18();
  const x = tf.randomNormal([1, 224, 224, 3], 0, 1, 'float32', 3) as tf.Tensor4D;
  const target = 7;
  const use = async (): Promise<void> => {
    await tf.setBackend(backend);
  };
  return {
    name: `tfjs-${backend}`,
    use,
    forward: (): void => {
      tf.tidy(() => net.head(net.body(x)).dataSync());
    },
    gradcam: (): void => {
      tf.tidy(() => {
        const a = net.body(x);
        const g = tf.grad((act: tf.Tensor) => tf.sum(tf.slice(net.head(act as tf.Tensor4D), [0, target], [1, 1])))(a);
        const weights = tf.mean(g, [1, 2], true);
        tf.relu(tf.sum(tf.mul(a, weights), -1)).dataSync();
      });
    },
    inputgrad: (): void => {
      tf.tidy(() => {
        tf.grad((input: tf.Tensor) => tf.sum(tf.slice(net.head(net.body(input as tf.Tensor4D)), [0, target], [1, 1])))(x).dataSync();
      });
    },
  };
}

function tinycamSystem(backend: 'wasm' | 'js') {
  const model = resnet18();
  model.eval();
  const x = randn([1, 3, 224, 224], { seed: 3 });
  return {
    name: `tinycam-${backend}`,
    use: async (): Promise<void> => {
      if (!(await setBackend(backend))) throw new Error(`tinycam backend ${backend} did not load`);
    },
    forward: (): void => {
      noGrad(() => model.forward(x));
    },
    gradcam: (): void => {
      gradCam(model, x, { layer: 'layer4' });
    },
    inputgrad: (): void => {
      guidedBackprop(model, x);
    },
    model,
    x,
  };
}

// ---------------------------------------------------------------------------

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args[0] === '--rss') return rssOf(args[1] as 'wasm' | 'js');
  const rounds = Number(args.find((a) => /^\d+$/.test(a)) ?? 5);
  // --quick-warm-up: warm each system with one forward pass only (a loaded machine).
  const warmUpAll = !args.includes('--quick-warm-up');
  setThreadsCount(1);
  await tf.setBackend('wasm');
  await tf.ready();
  // --wasm-only: tinycam-wasm and tfjs-wasm only (the pure-JS systems take most of a round on a loaded machine).
  const systems = args.includes('--wasm-only')
    ? [tinycamSystem('wasm'), tfSystem('wasm')]
    : [tinycamSystem('wasm'), tfSystem('wasm'), tinycamSystem('js'), tfSystem('cpu')];
  const tasks = ['forward', 'gradcam', 'inputgrad'] as const;
  const results = new Map<string, Timing[]>();
  const load: number[][] = [loadavg()];
  console.error(`# ${new Date().toISOString()} load ${loadavg().map((l) => l.toFixed(2)).join(', ')}`);
  // warm-up: every system and task once
  for (const s of systems) {
    await s.use();
    for (const t of warmUpAll ? tasks : (['forward'] as const)) {
      const timing = time(() => s[t]());
      console.error(`warm-up ${s.name} ${t}: ${timing.wall.toFixed(0)} ms wall, ${timing.cpu.toFixed(0)} ms cpu`);
    }
  }
  // --js-forward-only: the pure-JS systems run forward and gradcam only (their input gradient is the slowest task; a loaded machine).
  const slowTasks = args.includes('--js-forward-only') ? (['forward', 'gradcam'] as const) : tasks;
  for (let r = 0; r < rounds; r++) {
    for (const s of systems) {
      await s.use();
      for (const t of s.name.endsWith('-js') || s.name.endsWith('-cpu') ? slowTasks : tasks) {
        const key = `${s.name} ${t}`;
        const timing = time(() => s[t]());
        results.set(key, [...(results.get(key) ?? []), timing]);
      }
    }
    console.error(`round ${r + 1}/${rounds} done, load ${loadavg().map((l) => l.toFixed(2)).join(', ')}`);
    load.push(loadavg());
  }
  const med = (key: string, k: 'wall' | 'cpu'): number => median(results.get(key)!.map((t) => t[k]));
  console.log(`- date: ${new Date().toISOString()}; node ${process.version}; ${cpus()[0]?.model ?? 'cpu'} (${cpus().length} logical cores), one thread per system`);
  console.log(`- load average (1 min) during the run: ${load.map((l) => l[0]!.toFixed(1)).join(' -> ')}`);
  console.log(`- ${rounds} rounds, systems alternating within each round; medians in ms (wall / cpu)\n`);
  console.log(`| task | ${systems.map((s) => s.name).join(' | ')} | tfjs-wasm / tinycam-wasm (cpu) | tfjs-cpu / tinycam-js (cpu) |`);
  console.log(`|---|${systems.map(() => '---').join('|')}|---|---|`);
  const cell = (key: string): string => (results.has(key) ? `${med(key, 'wall').toFixed(0)} / ${med(key, 'cpu').toFixed(0)}` : 'not run');
  const ratio = (a: string, b: string): string => (results.has(a) && results.has(b) ? (med(a, 'cpu') / med(b, 'cpu')).toFixed(2) : '');
  for (const t of tasks) {
    const cells = systems.map((s) => cell(`${s.name} ${t}`));
    console.log(`| ${t} | ${cells.join(' | ')} | ${ratio(`tfjs-wasm ${t}`, `tinycam-wasm ${t}`)} | ${ratio(`tfjs-cpu ${t}`, `tinycam-js ${t}`)} |`);
  }

  if (args.includes('--score-cam')) await scoreCamPasses(systems[0] as ReturnType<typeof tinycamSystem>, args);
  if (args.includes('--workers')) await workerThroughput(systems[0] as ReturnType<typeof tinycamSystem>);

  const rss = (['wasm', 'js'] as const).map((b) => {
    const out = execFileSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--rss', b], { encoding: 'utf8' });
    return `${b}: ${out.trim()}`;
  });
  console.log(`\nPeak RSS of a fresh process that loads tinycam and resnet18 and runs 5 Grad-CAMs (process.resourceUsage().maxRSS): ${rss.join('; ')}`);
}

/**
 * Score-CAM at layer4 is 512 masked images in 32 forward passes of 16 (plus
 * the capture and the masks, under 1 %): one such pass on today's kernels
 * (pure TS, im2col, no Winograd) and on the WebAssembly kernels, CPU time.
 */
async function scoreCamPasses(s: ReturnType<typeof tinycamSystem>, args: string[]): Promise<void> {
  // Per-image cost does not depend on the batch size here; --score-cam-batch 4 keeps a loaded machine's run short.
  const size = Number(args[args.indexOf('--score-cam-batch') + 1] ?? 16) || 16;
  const batch = randn([size, 3, 224, 224], { seed: 9 });
  await setBackend('js');
  forceConvAlgorithm('im2col');
  const today = time(() => noGrad(() => s.model.forward(batch)));
  forceConvAlgorithm('auto');
  await setBackend('wasm');
  noGrad(() => s.model.forward(batch));
  const wasm = time(() => noGrad(() => s.model.forward(batch)));
  const scale = 512 / size;
  console.log(`\nScore-CAM at layer4 = 512 masked 224x224 images (pytorch-grad-cam's batches of 16); one pass of ${size}, load ${loadavg()[0]!.toFixed(1)}:\n`);
  console.log(`| kernels | one batch-${size} pass, ms (wall / cpu) | Score-CAM estimate, s (cpu x ${scale}) |`);
  console.log('|---|---|---|');
  console.log(`| today's (pure TS, im2col) | ${today.wall.toFixed(0)} / ${today.cpu.toFixed(0)} | ${((scale * today.cpu) / 1000).toFixed(1)} |`);
  console.log(`| WebAssembly (GEMM, Winograd) | ${wasm.wall.toFixed(0)} / ${wasm.cpu.toFixed(0)} | ${((scale * wasm.cpu) / 1000).toFixed(1)} |`);
  console.log(`| speed-up (cpu) | ${(today.cpu / wasm.cpu).toFixed(1)}x | |`);
}

/** Images per second of Grad-CAM on batches of 8 with a pool of 1 and of 2 worker threads (wall time: the work is in the workers). */
async function workerThroughput(s: ReturnType<typeof tinycamSystem>): Promise<void> {
  const { createWorkerPool } = await import('../src/node/workers.js');
  const { serialize } = await import('../src/parallel/protocol.js');
  const stateDict = serialize(s.model.stateDict()) as never;
  const batch = randn([8, 3, 224, 224], { seed: 10 });
  const rows: string[] = [];
  const rates: number[] = [];
  for (const workers of [1, 2]) {
    const pool = createWorkerPool({ workers, backend: 'wasm', model: { arch: 'resnet18', stateDict } });
    await pool.ready();
    await pool.explain('gradCam', batch, { layer: 'layer4' });
    const walls: number[] = [];
    for (let r = 0; r < 3; r++) walls.push((await timeAsync(() => pool.explain('gradCam', batch, { layer: 'layer4' }).then(() => {}))).wall);
    pool.close();
    const rate = 8 / (median(walls) / 1000);
    rates.push(rate);
    rows.push(`| ${workers} | ${median(walls).toFixed(0)} | ${rate.toFixed(2)} |`);
  }
  console.log(`\nGrad-CAM of batches of 8 (224x224, layer4) through createWorkerPool, wasm kernels in each worker; load ${loadavg()[0]!.toFixed(1)}:\n`);
  console.log('| workers | ms per batch (wall, median of 3) | images/s |');
  console.log('|---|---|---|');
  for (const r of rows) console.log(r);
  console.log(`| 2 over 1 | | ${(rates[1]! / rates[0]!).toFixed(2)}x |`);
}

async function rssOf(backend: 'wasm' | 'js'): Promise<void> {
  const s = tinycamSystem(backend);
  await s.use();
  const before = process.resourceUsage().maxRSS / 1024;
  for (let i = 0; i < 5; i++) s.gradcam();
  console.log(`${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB (${before.toFixed(0)} MiB before the first call)`);
}

await main();
