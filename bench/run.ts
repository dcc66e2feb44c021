/**
 * Benchmarks of the blocked GEMM and conv2d against naive kernels in the same
 * run, and the forward time of a ResNet-18-shaped network at 1x3x224x224.
 *
 *   npx tsx bench/run.ts            prints the tables and writes bench/RESULTS.md
 *   npx tsx bench/run.ts --quick    fewer repetitions, no file written
 *
 * Single-threaded (plain JS). Each figure is the best of a few repetitions,
 * measured in wall time and in this process's CPU time: on a shared machine
 * the wall time includes time the process spent waiting for a core, CPU
 * time does not. The load average at the start is recorded beside them.
 */
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gemm } from '../src/tensor/kernels/gemm.js';
import { conv2d } from '../src/tensor/ops/conv.js';
import { randn } from '../src/tensor/random.js';
import { Tensor } from '../src/tensor/tensor.js';
import { naiveConv2d, naiveLinear, naiveMatmul } from './naive.js';
import { OUR_KERNELS, forwardResNet18, makeResNet18, resnet18Flops, type Kernels } from './resnet18.js';

const quick = process.argv.includes('--quick');
const REPS = quick ? 2 : 5;

interface Timing {
  wallMs: number;
  cpuMs: number;
}

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** Best wall and best CPU time over `reps` runs after one warm-up run. */
function time(fn: () => void, reps: number, warmup = true): Timing {
  if (warmup) fn();
  let wallMs = Infinity;
  let cpu = Infinity;
  for (let r = 0; r < reps; r++) {
    const w0 = performance.now();
    const c0 = cpuMs();
    fn();
    cpu = Math.min(cpu, cpuMs() - c0);
    wallMs = Math.min(wallMs, performance.now() - w0);
  }
  return { wallMs, cpuMs: cpu };
}

const gflops = (flops: number, ms: number): string => (flops / ms / 1e6).toFixed(2);

function randomArray(n: number, seed: number): Float32Array {
  return randn([n], { seed }).data;
}

const lines: string[] = [];
function out(line = ''): void {
  console.log(line);
  lines.push(line);
}

const load = loadavg().map((l) => l.toFixed(2)).join(', ');
out(`# tinycam benchmarks`);
out();
out(`- date: ${new Date().toISOString()}`);
out(`- node: ${process.version} (V8 ${process.versions.v8})`);
out(`- cpu: ${cpus()[0]?.model ?? 'unknown'} (${cpus().length} logical cores; all runs single-threaded)`);
out(`- load average at start (1, 5, 15 min): ${load}${quick ? ' (quick run)' : ''}`);
out(`- each figure: best of ${REPS} runs after a warm-up (naive ResNet-18: one run); GFLOP/s = 2 x multiply-adds / time`);
out('- wall = elapsed time; cpu = CPU time of this process. When the load average exceeds the number of cores (other');
out('  jobs on the machine), wall time includes waiting for a core and cpu time is the better estimate of one free core.');
out();

// ---------------------------------------------------------------------------
// GEMM at the shapes ResNet-18's convolutions turn into (M = Cout, N = H*W, K = Cin*9), and its fc layer.

out('## Matrix multiply (C = A B, float32)');
out();
out('M x N x K is Cout x (H*W) x (Cin*3*3) of ResNet-18\'s 3x3 convolutions, and its fc layer as 1000 x 1 x 512.');
out();
out('| M x N x K | naive triple loop GFLOP/s (wall / cpu) | blocked gemm GFLOP/s (wall / cpu) | speed-up (cpu) |');
out('|---|---|---|---|');
for (const [m, n, k] of [[64, 3136, 576], [128, 784, 1152], [256, 196, 2304], [512, 49, 4608], [1000, 1, 512]] as const) {
  const a = randomArray(m * k, 1);
  const b = randomArray(k * n, 2);
  const c = new Float32Array(m * n);
  // Small products are repeated inside one timing so the clock's resolution does not matter.
  const inner = Math.max(1, Math.round(5e7 / (2 * m * n * k)));
  const flops = 2 * m * n * k * inner;
  const naive = time(() => { for (let i = 0; i < inner; i++) naiveMatmul(m, n, k, a, b, c); }, 1);
  const ours = time(() => { for (let i = 0; i < inner; i++) gemm(m, n, k, a, b, c); }, REPS);
  out(
    `| ${m} x ${n} x ${k} | ${gflops(flops, naive.wallMs)} / ${gflops(flops, naive.cpuMs)} | ${gflops(flops, ours.wallMs)} / ${gflops(flops, ours.cpuMs)} | ${(naive.cpuMs / ours.cpuMs).toFixed(1)}x |`,
  );
}
out();

// ---------------------------------------------------------------------------
// conv2d at ResNet-18's 3x3 layer shapes (pad 1, stride 1) plus the stem.

out('## conv2d (NCHW, batch 1)');
out();
out('| input x weight | naive direct loop GFLOP/s (wall / cpu) | conv2d (gemm packing from the image) GFLOP/s (wall / cpu) | ms (wall / cpu) | speed-up (cpu) |');
out('|---|---|---|---|---|');
const convShapes: [number[], number[], number, number][] = [
  [[1, 64, 56, 56], [64, 64, 3, 3], 1, 1],
  [[1, 128, 28, 28], [128, 128, 3, 3], 1, 1],
  [[1, 256, 14, 14], [256, 256, 3, 3], 1, 1],
  [[1, 512, 7, 7], [512, 512, 3, 3], 1, 1],
  [[1, 3, 224, 224], [64, 3, 7, 7], 2, 3],
];
for (const [xs, ws, stride, padding] of convShapes) {
  const x = randn(xs, { seed: 3 });
  const w = randn(ws, { seed: 4 });
  const y = conv2d(x, w, null, { stride, padding });
  const [, cout, oh, ow] = y.shape as [number, number, number, number];
  const flops = 2 * cout * oh * ow * ws[1]! * ws[2]! * ws[3]!;
  const naive = time(() => naiveConv2d(x, w, null, { stride, padding }), 1, false);
  const ours = time(() => conv2d(x, w, null, { stride, padding }), REPS);
  out(
    `| [${xs.join(',')}] x [${ws.join(',')}]${stride > 1 ? ` s${stride}` : ''} p${padding} | ${gflops(flops, naive.wallMs)} / ${gflops(flops, naive.cpuMs)} | ${gflops(flops, ours.wallMs)} / ${gflops(flops, ours.cpuMs)} | ${ours.wallMs.toFixed(1)} / ${ours.cpuMs.toFixed(1)} | ${(naive.cpuMs / ours.cpuMs).toFixed(1)}x |`,
  );
}
out();

// ---------------------------------------------------------------------------
// ResNet-18-shaped forward pass.

out('## ResNet-18-shaped forward pass, 1x3x224x224');
out();
const net = makeResNet18(0);
const image = randn([1, 3, 224, 224], { seed: 5 });
const NAIVE_KERNELS: Kernels = {
  conv2d: (x, w, b, o) => naiveConv2d(x, w, b, o),
  linear: (x, w, b) => naiveLinear(x, w, b),
};
const flops = resnet18Flops();
let logitsOurs: Tensor | null = null;
let logitsNaive: Tensor | null = null;
const ours = time(() => { logitsOurs = forwardResNet18(net, image, OUR_KERNELS); }, REPS);
const naive = time(() => { logitsNaive = forwardResNet18(net, image, NAIVE_KERNELS); }, 1, false);
// The two runs must agree, or the comparison means nothing.
let diff = 0;
let scale = 0;
for (let i = 0; i < 1000; i++) {
  diff = Math.max(diff, Math.abs(logitsOurs!.data[i]! - logitsNaive!.data[i]!));
  scale = Math.max(scale, Math.abs(logitsNaive!.data[i]!));
}
out(`${(flops / 1e9).toFixed(2)} GFLOP of convolutions and fc; conv2d, batchNorm (eval), relu, maxPool2d, add, globalAvgPool2d, linear from src/tensor.`);
out();
out('| kernels | forward ms (wall / cpu) | GFLOP/s (wall / cpu) |');
out('|---|---|---|');
out(`| naive (direct conv loop, triple-loop linear) | ${naive.wallMs.toFixed(0)} / ${naive.cpuMs.toFixed(0)} | ${gflops(flops, naive.wallMs)} / ${gflops(flops, naive.cpuMs)} |`);
out(`| ours (blocked gemm, depthwise loops) | ${ours.wallMs.toFixed(0)} / ${ours.cpuMs.toFixed(0)} | ${gflops(flops, ours.wallMs)} / ${gflops(flops, ours.cpuMs)} |`);
out();
out(`Logits of the two runs agree to ${diff.toExponential(2)} (max |logit| ${scale.toFixed(2)}).`);
out();
out('Targets (from the issue): conv2d >= 5 GFLOP/s single-threaded at the 3x3 shapes; the forward pass <= 1 s.');
out('For scale: TensorFlow.js\'s pure-JS backend takes about 2.6 s for this forward pass, PyTorch about 27 ms.');

if (!quick) {
  const path = join(dirname(fileURLToPath(import.meta.url)), 'RESULTS.md');
  writeFileSync(path, lines.join('\n') + '\n');
  console.log(`\nwritten to ${path}`);
}
