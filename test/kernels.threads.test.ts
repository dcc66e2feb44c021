import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gradCam } from '../src/cam/methods/gradCam.js';
import { AdaptiveAvgPool2d, Conv2d, Flatten, Linear, ReLU, Sequential } from '../src/layers/index.js';
import { spawnKernelThread } from '../src/node/kernel-threads.js';
import { getBackend, getThreadsCount, kernels, setBackend, useKernels } from '../src/tensor/backend.js';
import { ArgumentError } from '../src/tensor/errors.js';
import type { ConvLayout, Kernels } from '../src/tensor/kernels/kernels.js';
import type { KernelThread, KernelThreadSpawner } from '../src/tensor/kernels/threads.js';
import type { WasmKernels } from '../src/tensor/kernels/wasm.js';
import { withSharedMemoryImport } from '../src/tensor/kernels/wasm-shared.js';
import {
  A, ACCUMULATE, A_COL, A_ROW, A_STEP, B, BY_ROWS, B_COL, B_ROW, B_STEP, C, CHUNK, CHUNKS, COUNT, C_STEP, K, LDC, M, N, NEXT, OP, TASK, THREADS,
  WORK, WORK_STEP, runShare, serialGemms, type GemmExports,
} from '../src/tensor/kernels/thread-share.js';
import { forceConvAlgorithm } from '../src/tensor/kernels/winograd.js';
import { Rng, randn } from '../src/tensor/random.js';

/**
 * The WebAssembly kernels' intra-op threads (src/tensor/kernels/threads.ts):
 * with threads 2 the products are split by output rows or columns, so every
 * result must equal the one-thread kernels' bit for bit; each case also
 * checks that a split happened (a test where nothing splits could not fail).
 */
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
// Types only: a browser's Web Worker is a KernelThread as it is (the README's spawner type-checks).
void ((): KernelThreadSpawner => () => new Worker(new URL('./kernel-thread.js', import.meta.url), { type: 'module' }));

let one: Kernels;
let two: WasmKernels;
/** The helper of `two`'s team (the last test ends it). */
const helpers: KernelThread[] = [];
let warnings: string[] = [];
// The file picks its backends itself, so it runs once: vitest.config.ts keeps it out of the 'wasm' project.

beforeAll(async () => {
  expect(await setBackend('wasm')).toBe(true);
  one = kernels();
  const spawnThread = (): KernelThread => {
    const t = spawnKernelThread();
    helpers.push(t);
    return t;
  };
  expect(await setBackend('wasm', { threads: 2, spawnThread, warn: (m) => warnings.push(m) })).toBe(true);
  expect(warnings).toEqual([]);
  two = kernels() as WasmKernels;
  expect(getThreadsCount()).toBe(2);
});

afterAll(async () => {
  forceConvAlgorithm('auto');
  await setBackend('js');
});

const random = (n: number, seed: number): Float32Array => {
  const rng = new Rng(seed);
  return Float32Array.from({ length: n }, () => rng.normal());
};
const same = (a: Float32Array, b: Float32Array): boolean => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

/** Run `body` on both kernels; returns whether the outputs are equal bit for bit, and checks that the threaded run split. */
function bothEqual(run: (k: Kernels) => Float32Array): boolean {
  const before = two.splitTasks();
  const a = run(one);
  const b = run(two);
  expect(two.splitTasks()).toBeGreaterThan(before);
  return same(a, b);
}

function layout(batch: number, C: number, O: number, H: number, W: number, k: number, stride: number, pad: number, recorded = false): ConvLayout {
  const outH = Math.floor((H + 2 * pad - k) / stride) + 1;
  const outW = Math.floor((W + 2 * pad - k) / stride) + 1;
  return {
    batch, groups: 1, imageChannels: C, rowChannels: O, recorded,
    geo: { channels: C, inH: H, inW: W, outH, outW, kH: k, kW: k, strideH: stride, strideW: stride, padTop: pad, padLeft: pad, dilationH: 1, dilationW: 1 },
  };
}

describe('threads 2: results equal the one-thread kernels bit for bit', () => {
  it.each([
    // m, n, k: wide (split by columns), tall (by rows), ragged edges; transposes, accumulate, ldc > n
    { m: 24, n: 1003, k: 150, options: {} },
    { m: 517, n: 33, k: 200, options: { transA: true } },
    { m: 130, n: 260, k: 97, options: { transB: true, accumulate: true } },
    { m: 64, n: 300, k: 120, options: { ldc: 310 } },
  ])('gemm $m x $n x $k %o', ({ m, n, k, options }) => {
    const a = random(m * k, 1);
    const b = random(k * n, 2);
    const ldc = (options as { ldc?: number }).ldc ?? n;
    const init = random(m * ldc, 3);
    expect(bothEqual((kern) => {
      const c = init.slice();
      kern.gemm(m, n, k, a, b, c, options);
      return c;
    })).toBe(true);
  });

  it.each([
    // Each product at least MIN_SPLIT_MACS (2M multiply-adds), so that it splits.
    { name: 'im2col 7x7 stride 2', L: layout(1, 3, 32, 63, 64, 7, 2, 3), algo: 'auto' as const },
    { name: 'im2col 3x3 stride 2, batch 2', L: layout(2, 32, 48, 31, 32, 3, 2, 1), algo: 'auto' as const },
    { name: 'pointwise 1x1', L: layout(1, 64, 72, 23, 25, 1, 1, 0), algo: 'auto' as const },
    { name: 'Winograd F(2x2)', L: layout(2, 48, 44, 19, 21, 3, 1, 1), algo: 'winograd' as const },
    { name: 'Winograd F(4x4)', L: layout(2, 32, 36, 31, 30, 3, 1, 1), algo: 'winograd4' as const },
  ])('convolution forward, input gradient and weight gradient: $name', ({ L, algo }) => {
    forceConvAlgorithm(algo);
    const { geo } = L;
    const imageFloats = L.batch * L.imageChannels * geo.inH * geo.inW;
    const rowFloats = L.batch * L.rowChannels * geo.outH * geo.outW;
    const image = random(imageFloats, 4);
    const weight = random(L.rowChannels * L.imageChannels * geo.kH * geo.kW, 5);
    const rows = random(rowFloats, 6);
    const bias = random(rowFloats, 7);
    expect(bothEqual((k) => {
      const out = bias.slice();
      k.convForward(image, weight, out, L, true);
      return out;
    })).toBe(true);
    expect(bothEqual((k) => {
      const dImage = random(imageFloats, 8);
      k.convAdjoint(rows, weight, dImage, L);
      return dImage;
    })).toBe(true);
    if (algo === 'auto') {
      expect(bothEqual((k) => {
        const dW = random(weight.length, 9);
        k.convWeightGradient(rows, image, dW, L);
        return dW;
      })).toBe(true);
    }
    forceConvAlgorithm('auto');
  });

  it("a small model's Grad-CAM map and logits", () => {
    const rng = new Rng(11);
    const model = new Sequential(
      new Conv2d(3, 16, 3, { padding: 1, rng }), new ReLU(),
      new Conv2d(16, 32, 3, { stride: 2, padding: 1, rng }), new ReLU(),
      new Conv2d(32, 32, 3, { padding: 1, rng }), new ReLU(),
      new AdaptiveAvgPool2d(1), new Flatten(), new Linear(32, 5, { rng }),
    );
    model.eval();
    const x = randn([1, 3, 48, 48], { seed: 12 });
    const before = two.splitTasks();
    useKernels(one);
    const a = gradCam(model, x, { layer: '4' });
    useKernels(two);
    const b = gradCam(model, x, { layer: '4' });
    expect(two.splitTasks()).toBeGreaterThan(before);
    expect(same(b.maps.data, a.maps.data)).toBe(true);
    expect(same(b.logits.data, a.logits.data)).toBe(true);
    // and the map is a map: not all zero
    expect(Math.max(...a.maps.data)).toBeGreaterThan(0);
  });

  // Last in this block: it ends the helper.
  it('a helper that dies: a notice, and later calls run on one thread with the same results', async () => {
    warnings = [];
    await helpers[0]!.terminate();
    await new Promise((r) => setTimeout(r, 50));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^tinycam: a kernel thread failed \(helper thread 1: exited \(code \d+\)\); the WebAssembly kernels continue on one thread$/);
    expect(two.threads()).toBe(1);
    expect(getThreadsCount()).toBe(1);
    const [m, n, k] = [40, 500, 200];
    const a = random(m * k, 1), b = random(k * n, 2);
    const c1 = new Float32Array(m * n), c2 = new Float32Array(m * n);
    const splits = two.splitTasks();
    one.gemm(m, n, k, a, b, c1);
    two.gemm(m, n, k, a, b, c2);
    expect(same(c1, c2)).toBe(true);
    expect(two.splitTasks()).toBe(splits);
  });
});

describe('the split itself, on this thread alone (runShare takes every unit)', () => {
  it('Winograd-like batches of packed products, split inside each product by rows or by columns, ragged ends', async () => {
    const bytes = new Uint8Array(readFileSync(join(ROOT, 'src/tensor/kernels/wasm/kernels.wasm')));
    const memory = new WebAssembly.Memory({ initial: 160, maximum: 160, shared: true });
    const instance = await WebAssembly.instantiate(await WebAssembly.compile(withSharedMemoryImport(bytes) as BufferSource), { env: { memory } });
    const x = instance.exports as unknown as GemmExports & { heapBase(): number; packAll(a: number, aRow: number, aCol: number, m: number, k: number, dst: number): void; packedSize(m: number, k: number): number; GEMM_WORK_BYTES: WebAssembly.Global };
    const f32 = new Float32Array(memory.buffer);
    let top = Math.ceil((x.heapBase() + 4096) / 64) * 64;
    const take = (floats: number): number => {
      const at = top;
      top += Math.ceil(floats / 16) * 64;
      return at;
    };
    const header = new Int32Array(memory.buffer, x.heapBase(), TASK);
    const task = new Uint32Array(memory.buffer, x.heapBase() + TASK * 4, 32);
    const work = take((x.GEMM_WORK_BYTES.value as number) / 4);
    for (const { count, m, n, k, byRows, chunk } of [
      { count: 3, m: 37, n: 21, k: 19, byRows: 1, chunk: 8 },
      { count: 2, m: 13, n: 45, k: 30, byRows: 0, chunk: 16 },
    ]) {
      const packedFloats = x.packedSize(m, k);
      const pa = take(count * packedFloats), pb = take(count * k * n), pc = take(count * m * n), pref = take(count * m * n);
      for (let g = 0; g < count; g++) {
        const plain = take(m * k);
        f32.set(random(m * k, 20 + g), plain >> 2);
        x.packAll(plain, k, 1, m, k, pa + g * packedFloats * 4);
      }
      f32.set(random(count * k * n, 30), pb >> 2);
      const batch = { packedA: true, count, m, n, k, a: pa, aRow: 0, aCol: 0, aStep: packedFloats * 4, b: pb, bRow: n, bCol: 1, bStep: k * n * 4, c: pref, ldc: n, cStep: m * n * 4, accumulate: false, work, workStep: 0 };
      serialGemms(x, batch);
      const length = byRows ? m : n;
      const words: [number, number][] = [
        [OP, 1], [COUNT, count], [M, m], [N, n], [K, k], [A, pa], [A_ROW, 0], [A_COL, 0], [A_STEP, packedFloats * 4],
        [B, pb], [B_ROW, n], [B_COL, 1], [B_STEP, k * n * 4], [C, pc], [LDC, n], [C_STEP, m * n * 4], [ACCUMULATE, 0],
        [BY_ROWS, byRows], [CHUNK, chunk], [CHUNKS, Math.ceil(length / chunk)], [WORK, work], [WORK_STEP, 0], [THREADS, 2],
      ];
      for (const [word, value] of words) task[word] = value;
      Atomics.store(header, NEXT, 0);
      runShare(x, header, task, 0);
      expect(Atomics.load(header, NEXT)).toBe(count * Math.ceil(length / chunk) + 1);
      const got = f32.slice(pc >> 2, (pc >> 2) + count * m * n);
      const want = f32.slice(pref >> 2, (pref >> 2) + count * m * n);
      expect(same(got, want)).toBe(true);
    }
  });
});

describe('setBackend threads: bad input and faults', () => {
  it.each([0, 1.5, -2, 65, Number.NaN, '2'])('threads %s: an ArgumentError saying what is accepted, and the backend unchanged', async (threads) => {
    const before = kernels();
    await expect(setBackend('wasm', { threads: threads as number, spawnThread: spawnKernelThread })).rejects.toThrow(/threads must be a whole number from 1 to 64/);
    await expect(setBackend('wasm', { threads: threads as number })).rejects.toBeInstanceOf(ArgumentError);
    expect(kernels()).toBe(before);
  });

  it('threads with the js backend, without a spawner, or with a module of ones own: ArgumentError', async () => {
    const before = kernels();
    await expect(setBackend('js', { threads: 2, spawnThread: spawnKernelThread })).rejects.toThrow(/'wasm' backend only/);
    await expect(setBackend('wasm', { threads: 2 })).rejects.toThrow(/need spawnThread.*spawnKernelThread from 'tinycam\/node'/);
    const module = readFileSync(join(ROOT, 'src/tensor/kernels/wasm/kernels.wasm'));
    await expect(setBackend('wasm', { threads: 2, module, spawnThread: spawnKernelThread })).rejects.toThrow(/with no module/);
    expect(kernels()).toBe(before);
  });

  it('a helper that cannot start leaves one thread, with a one-line notice', async () => {
    const warnings: string[] = [];
    const broken = (): KernelThread => {
      throw new Error('no threads here');
    };
    const failing = (): KernelThread => {
      let listener: ((m: unknown) => void) | null = null;
      return {
        postMessage: () => queueMicrotask(() => listener?.({ type: 'failed', reason: 'cannot instantiate' })),
        terminate: () => {},
        on: (event, l) => {
          if (event === 'message') listener = l as (m: unknown) => void;
        },
      };
    };
    for (const spawnThread of [broken, failing]) {
      warnings.length = 0;
      expect(await setBackend('wasm', { threads: 2, spawnThread, warn: (m) => warnings.push(m) })).toBe(true);
      expect(getBackend()).toBe('wasm');
      expect(getThreadsCount()).toBe(1);
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(/^tinycam: kernel threads unavailable \((no threads here|helper thread 1 could not instantiate the kernels: cannot instantiate)\); the WebAssembly kernels run on one thread$/);
    }
  });

  it('a process with running threads exits by itself (and its convolutions equal one thread)', () => {
    // A child process that never closes its threads: it must exit on its own (the threads are unref'd).
    const script = `
      import { setBackend, kernels, getThreadsCount } from ${JSON.stringify(join(ROOT, 'src/tensor/backend.ts'))};
      import { forceConvAlgorithm } from ${JSON.stringify(join(ROOT, 'src/tensor/kernels/winograd.ts'))};
      import { spawnKernelThread } from ${JSON.stringify(join(ROOT, 'src/node/kernel-threads.ts'))};
      await setBackend('wasm');
      const one = kernels();
      await setBackend('wasm', { threads: 2, spawnThread: spawnKernelThread, warn: (m) => { throw new Error(m); } });
      const two = kernels();
      const same = (a, b) => Buffer.from(a.buffer).equals(Buffer.from(b.buffer));
      let seed = 1;
      const random = (n) => Float32Array.from({ length: n }, () => ((seed = (seed * 16807) % 2147483647) / 2147483647) * 2 - 1);
      const geo = { channels: 40, inH: 20, inW: 22, outH: 20, outW: 22, kH: 3, kW: 3, strideH: 1, strideW: 1, padTop: 1, padLeft: 1, dilationH: 1, dilationW: 1 };
      const L = { batch: 1, groups: 1, imageChannels: 40, rowChannels: 52, geo };
      const image = random(40 * 20 * 22), weight = random(52 * 40 * 9);
      const results = [];
      for (const algo of ['winograd', 'winograd4', 'im2col']) {
        forceConvAlgorithm(algo);
        const [a, b] = [new Float32Array(52 * 20 * 22), new Float32Array(52 * 20 * 22)];
        one.convForward(image, weight, a, L, false);
        two.convForward(image, weight, b, L, false);
        results.push(same(a, b));
      }
      console.log(getThreadsCount(), results.join(' '), two.splitTasks());
    `;
    const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
    expect(out.trim()).toBe('2 true true true 3');
  });
});

describe('the shared-memory variant of the kernels module', () => {
  it('imports one shared memory and keeps every export', () => {
    const bytes = new Uint8Array(readFileSync(join(ROOT, 'src/tensor/kernels/wasm/kernels.wasm')));
    const shared = new WebAssembly.Module(withSharedMemoryImport(bytes) as BufferSource);
    const plain = new WebAssembly.Module(bytes as BufferSource);
    expect(WebAssembly.Module.imports(shared)).toEqual([{ module: 'env', name: 'memory', kind: 'memory' }]);
    expect(WebAssembly.Module.exports(shared)).toEqual(WebAssembly.Module.exports(plain));
    expect(() => new WebAssembly.Instance(shared, { env: { memory: new WebAssembly.Memory({ initial: 1 }) } })).toThrow();
    new WebAssembly.Instance(shared, { env: { memory: new WebAssembly.Memory({ initial: 1, maximum: 2, shared: true }) } });
  });

  it('refuses what it cannot rewrite with a typed error', () => {
    expect(() => withSharedMemoryImport(new Uint8Array([1, 2, 3]))).toThrow(/not a WebAssembly module/);
    const shared = withSharedMemoryImport(new Uint8Array(readFileSync(join(ROOT, 'src/tensor/kernels/wasm/kernels.wasm'))));
    expect(() => withSharedMemoryImport(shared)).toThrow(/already has imports/);
  });
});
