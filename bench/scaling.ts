/**
 * What two threads can give on this machine: the throughput of 2 worker
 * threads over 1 for three jobs that do not depend on tinycam's pool, so
 * that bench/workers.ts's "2 over 1" can be read against the machine's own
 * ceiling, measured in the same run:
 *
 *   gemm    the WebAssembly GEMM kernel alone on ResNet-18's layer1 shape
 *           (64 x 576 times 576 x 3136, all in the module's memory): compute
 *           bound, the bulk of a Grad-CAM's time;
 *   copy    Float32Array.set over two 64 MiB arrays: memory bound, as the
 *           copies into and out of the module's memory, im2col and the
 *           element-wise passes are;
 *   chain   eight independent float chains in registers: the cores alone.
 *
 * Each worker starts, loads the kernels and warms up once; then, in
 * alternating rounds, 1 and then 2 of them are told to go at the same moment
 * and the wall time until all are done is taken. Ratio = 2 x t(1) / t(2).
 *
 *   npx tsx bench/scaling.ts [rounds=5] [--only gemm,copy,chain]
 */
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { Worker, isMainThread, parentPort } from 'node:worker_threads';
import { kernels, setBackend } from '../src/tensor/backend.js';

type Job = 'gemm' | 'copy' | 'chain';
const JOBS: Job[] = ['gemm', 'copy', 'chain'];

if (!isMainThread) {
  await serve();
} else {
  await main();
}

/** Worker side: set up every job once, then run the one asked for at each 'go'. */
async function serve(): Promise<void> {
  if (!(await setBackend('wasm'))) throw new Error('no WebAssembly');
  const [m, n, k] = [64, 3136, 576];
  const a = new Float32Array(m * k).fill(0.5);
  const b = new Float32Array(k * n).fill(0.25);
  const c = new Float32Array(m * n);
  const big = [new Float32Array(16 * 2 ** 20), new Float32Array(16 * 2 ** 20)] as const;
  const run: Record<Job, () => number> = {
    gemm: () => {
      for (let i = 0; i < 48; i++) kernels().gemm(m, n, k, a, b, c);
      return c[0]!;
    },
    copy: () => {
      for (let i = 0; i < 24; i++) {
        big[1].set(big[0]);
        big[0].set(big[1]);
      }
      return big[0][0]!;
    },
    chain: () => {
      let x0 = 0.1, x1 = 0.2, x2 = 0.3, x3 = 0.4, x4 = 0.5, x5 = 0.6, x6 = 0.7, x7 = 0.8;
      const f = 1.0000001;
      for (let i = 0; i < 2e8; i++) {
        x0 = x0 * f + 1e-9; x1 = x1 * f + 1e-9; x2 = x2 * f + 1e-9; x3 = x3 * f + 1e-9;
        x4 = x4 * f + 1e-9; x5 = x5 * f + 1e-9; x6 = x6 * f + 1e-9; x7 = x7 * f + 1e-9;
      }
      return x0 + x1 + x2 + x3 + x4 + x5 + x6 + x7;
    },
  };
  for (const job of JOBS) run[job]();
  parentPort!.on('message', (job: Job) => {
    const c0 = threadCpuMs();
    run[job]();
    parentPort!.postMessage(threadCpuMs() - c0);
  });
  parentPort!.postMessage('ready');
}

/** This thread's CPU time (user + system), ms, in clock ticks of 10 ms. */
function threadCpuMs(): number {
  const fields = readFileSync('/proc/thread-self/stat', 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** The machine's steal time so far (CPU time the hypervisor gave to other guests), ms over all cores. */
function stealMs(): number {
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/);
  return Number(cpu[8] ?? 0) * 10;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const onlyAt = args.indexOf('--only');
  const jobs = onlyAt >= 0 ? (args.splice(onlyAt, 2)[1]!.split(',') as Job[]) : JOBS;
  const rounds = Number(args[0] ?? 5);
  const load = (): string => loadavg().map((l) => l.toFixed(2)).join(', ');
  console.log(`# ${new Date().toISOString()}; node ${process.version}; ${cpus()[0]?.model} (${cpus().length} logical cores); load ${load()}`);
  // tsx registers itself in each worker through this shim (workers do not inherit --import).
  const shim = new URL('./scaling-worker.mjs', import.meta.url);
  const workers = [new Worker(shim), new Worker(shim)];
  await Promise.all(workers.map((w) => new Promise<void>((resolve, reject) => {
    w.once('message', () => resolve());
    w.once('error', reject);
  })));
  const cpuOf: Record<string, number[]> = {};
  let steal = 0;
  const go = async (count: number, job: Job): Promise<number> => {
    const s0 = stealMs();
    const t0 = performance.now();
    const used = await Promise.all(workers.slice(0, count).map((w) => new Promise<number>((resolve) => {
      w.once('message', resolve);
      w.postMessage(job);
    })));
    const wall = performance.now() - t0;
    steal += stealMs() - s0;
    (cpuOf[`${job} ${count}`] ??= []).push(...used);
    return wall;
  };
  const ratios: Record<string, number[]> = Object.fromEntries(jobs.map((j) => [j, []]));
  const times: Record<string, number[]> = {};
  for (let r = 0; r < rounds; r++) {
    for (const job of jobs) {
      // Which count goes first alternates: a thread that has just been idle can start slower.
      let one: number;
      let two: number;
      if (r % 2 === 0) {
        one = await go(1, job);
        two = await go(2, job);
      } else {
        two = await go(2, job);
        one = await go(1, job);
      }
      ratios[job]!.push((2 * one) / two);
      (times[`${job} 1`] ??= []).push(one);
      (times[`${job} 2`] ??= []).push(two);
    }
    console.log(`round ${r + 1}/${rounds}, load ${load()}`);
  }
  await Promise.all(workers.map((w) => w.terminate()));
  const median = (v: number[]): number => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;
  // Wall time is what the ratio is; a thread's own CPU time for the same work says how much of a
  // slowdown is the two threads getting in each other's way (more CPU for the same job) rather than
  // the thread waiting for a core (steal: the hypervisor running other guests).
  console.log(`\nsteal time during the measurements: ${steal} ms`);
  console.log('| job | wall, 1 thread, ms | wall, 2 threads, ms | 2 over 1, from the medians | 2 over 1, median of rounds (range) | thread CPU per job, 1 / 2 threads, ms |');
  console.log('|---|---|---|---|---|---|');
  for (const job of jobs) {
    const v = ratios[job]!;
    const one = median(times[`${job} 1`]!);
    const two = median(times[`${job} 2`]!);
    const cpu = `${median(cpuOf[`${job} 1`]!)} / ${median(cpuOf[`${job} 2`]!)}`;
    console.log(`| ${job} | ${one.toFixed(0)} | ${two.toFixed(0)} | ${((2 * one) / two).toFixed(2)}x | ${median(v).toFixed(2)}x (${Math.min(...v).toFixed(2)}-${Math.max(...v).toFixed(2)}) | ${cpu} |`);
  }
}
