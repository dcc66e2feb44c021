import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { getBackend, kernels, setBackend } from '../src/tensor/backend.js';
import { ArgumentError } from '../src/tensor/errors.js';
import { conv2d } from '../src/tensor/ops/conv.js';
import { grad } from '../src/tensor/autograd.js';
import type { Tensor } from '../src/tensor/tensor.js';
import { randn } from '../src/tensor/random.js';
import { Sequential } from '../src/layers/containers.js';
import { Conv2d } from '../src/layers/conv.js';
import { ReLU } from '../src/layers/activation.js';
import { AdaptiveAvgPool2d } from '../src/layers/pooling.js';
import { Flatten, Linear } from '../src/layers/linear.js';
import { gradCam } from '../src/cam/methods/gradCam.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const WASM_FILE = join(ROOT, 'src/tensor/kernels/wasm/kernels.wasm');

afterEach(async () => {
  await setBackend('js');
});

describe('the WebAssembly kernels module', () => {
  it('is what wasm/assembly compiles to: rebuilding gives the committed bytes, byte for byte', async () => {
    // @ts-expect-error: a plain .mjs build script without type declarations
    const build = await import('../wasm/build.mjs');
    const bytes: Uint8Array = await build.compile();
    const committed = new Uint8Array(readFileSync(WASM_FILE));
    expect(bytes.length).toBe(committed.length);
    expect(Buffer.from(bytes).equals(Buffer.from(committed))).toBe(true);
    // ... and the base64 copy the core compiles at run time is the same module.
    const bytesModule = readFileSync(join(ROOT, 'src/tensor/kernels/wasm/kernels-bytes.ts'), 'utf8');
    expect(bytesModule).toBe(build.bytesModule(committed));
  }, 60_000);
});

describe('setBackend / getBackend', () => {
  it("starts on 'js', switches to 'wasm' and back", async () => {
    expect(getBackend()).toBe('js');
    expect(await setBackend('wasm')).toBe(true);
    expect(getBackend()).toBe('wasm');
    expect(await setBackend('js')).toBe(true);
    expect(getBackend()).toBe('js');
  });

  it('reuses the loaded built-in kernels (and their weight cache) when switched back to, and loads afresh for a module or another cache size', async () => {
    expect(await setBackend('wasm')).toBe(true);
    const first = kernels();
    await setBackend('js');
    expect(await setBackend('wasm')).toBe(true);
    expect(kernels()).toBe(first);
    expect(await setBackend('wasm', { module: readFileSync(WASM_FILE) })).toBe(true);
    expect(kernels()).not.toBe(first);
    expect(await setBackend('wasm', { weightCacheBytes: 1024 })).toBe(true);
    expect(kernels()).not.toBe(first);
  });

  it('takes a precompiled WebAssembly.Module (the workerd / edge path) and bytes', async () => {
    const module = await WebAssembly.compile(readFileSync(WASM_FILE));
    expect(await setBackend('wasm', { module })).toBe(true);
    expect(getBackend()).toBe('wasm');
    expect(await setBackend('wasm', { module: readFileSync(WASM_FILE) })).toBe(true);
  });

  it('falls back to the JS kernels with a one-line notice when the module does not compile or instantiate', async () => {
    const x = randn([1, 3, 9, 9], { seed: 1 });
    const w = randn([4, 3, 3, 3], { seed: 2 });
    const expected = conv2d(x, w, null, { padding: 1 });
    for (const module of [new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 255]), await WebAssembly.compile(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]))]) {
      const notices: string[] = [];
      expect(await setBackend('wasm', { module, warn: (m) => notices.push(m) })).toBe(false);
      expect(getBackend()).toBe('js');
      expect(notices).toHaveLength(1);
      expect(notices[0]).toMatch(/^tinycam: WebAssembly kernels unavailable \(.+\); using the JS kernels$/);
      expect(notices[0]).not.toContain('\n');
      expect(conv2d(x, w, null, { padding: 1 }).data).toEqual(expected.data);
    }
  });

  it('rejects an unknown backend name with a typed error', async () => {
    await expect(setBackend('webgl' as 'js')).rejects.toThrow(ArgumentError);
    await expect(setBackend('webgl' as 'js')).rejects.toThrow(/accepted: 'wasm' or 'js'/);
  });

  it('keeps a bounded heap over 1,000 explanations (memory is reused, not grown per call)', async () => {
    await setBackend('wasm');
    const model = new Sequential(
      new Conv2d(3, 8, 3, { padding: 1 }), new ReLU(),
      new Conv2d(8, 8, 3, { padding: 1 }), new ReLU(),
      new AdaptiveAvgPool2d(1), new Flatten(), new Linear(8, 3),
    );
    model.eval();
    const input = randn([1, 3, 16, 16], { seed: 3 });
    const heapBytes = (): number => (kernels() as unknown as { heapBytes(): number }).heapBytes();
    const first = gradCam(model, input, { layer: '2' }).maps.data.slice();
    const after10: number[] = [];
    for (let i = 0; i < 1000; i++) {
      const { maps } = gradCam(model, input, { layer: '2' });
      if (i === 9) after10.push(heapBytes());
      if (i === 999) expect(maps.data).toEqual(first);
    }
    expect(heapBytes()).toBe(after10[0]);
    expect(heapBytes()).toBeLessThan(4 * 1024 * 1024);
  });
});

describe("the WebAssembly kernels' cache of Winograd weights", () => {
  // [4,32,14,14] x [32,32,3,3], padding 1: Winograd on WebAssembly (196 tiles, 32 channels each way,
  // 7.2 M multiply-adds: one image would be below the 2^22 that Winograd is taken from).
  const convAndInputGradient = (x: Tensor, weight: Tensor): { y: Float32Array; dx: Float32Array } => {
    const input = x.detach().requireGrad();
    const y = conv2d(input, weight, null, { padding: 1 });
    const [dx] = grad(y, [input], { gradOutput: randn([...y.shape], { seed: 9 }) });
    return { y: y.data.slice(), dx: dx!.data.slice() };
  };
  const onJs = async (x: Tensor, weight: Tensor): Promise<{ y: Float32Array; dx: Float32Array }> => {
    const before = getBackend();
    await setBackend('js');
    const r = convAndInputGradient(x, weight);
    await setBackend(before);
    return r;
  };
  const expectNear = (a: Float32Array, b: Float32Array, tolerance = 2e-6): void => {
    let worst = 0;
    let scale = 0;
    for (let i = 0; i < a.length; i++) {
      worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
      scale = Math.max(scale, Math.abs(b[i]!));
    }
    expect(worst / scale).toBeLessThan(tolerance);
  };

  it('sees weights changed in place (forward and input gradient) and never returns a stale result', async () => {
    const x = randn([4, 32, 14, 14], { seed: 4 });
    const weight = randn([32, 32, 3, 3], { seed: 5 });
    expect(await setBackend('wasm')).toBe(true);
    const wasm = kernels() as unknown as { cacheBytes(): number };
    const first = convAndInputGradient(x, weight);
    expect(wasm.cacheBytes()).toBeGreaterThan(0); // the transforms were kept
    expectNear(first.y, (await onJs(x, weight)).y);
    expectNear(convAndInputGradient(x, weight).y, first.y); // from the cache
    weight.data[7] = weight.data[7]! + 1; // an in-place change, as an optimiser step makes
    const changed = convAndInputGradient(x, weight);
    const reference = await onJs(x, weight);
    expectNear(changed.y, reference.y);
    expectNear(changed.dx, reference.dx);
    expect(Math.abs(changed.y[0]! - first.y[0]!) + Math.abs(changed.dx[0]! - first.dx[0]!)).toBeGreaterThan(1e-3);
  });

  it('stays within weightCacheBytes (0: off), emptying itself when a new entry does not fit', async () => {
    const x = randn([4, 32, 14, 14], { seed: 6 });
    const weights = [randn([32, 32, 3, 3], { seed: 7 }), randn([32, 32, 3, 3], { seed: 8 })];
    const references = [await onJs(x, weights[0]!), await onJs(x, weights[1]!)];
    // One convolution's entry: its weights (36 KiB) and 16 packed 32x32 transforms (64 KiB): the limit holds one, not two.
    for (const limit of [0, 150_000]) {
      expect(await setBackend('wasm', { weightCacheBytes: limit })).toBe(true);
      const wasm = kernels() as unknown as { cacheBytes(): number };
      for (let round = 0; round < 3; round++) {
        for (let i = 0; i < 2; i++) {
          const r = convAndInputGradient(x, weights[i]!);
          expectNear(r.y, references[i]!.y);
          expectNear(r.dx, references[i]!.dx);
          expect(wasm.cacheBytes()).toBeLessThanOrEqual(limit);
        }
      }
      if (limit > 0) expect(wasm.cacheBytes()).toBeGreaterThan(0);
    }
  });

  it("keeps what it holds when a model's transforms need more room than it has, and makes room for a new model's", async () => {
    const x = randn([4, 32, 14, 14], { seed: 6 });
    const weights = [7, 8, 10].map((seed) => randn([32, 32, 3, 3], { seed }));
    const forward = (w: Tensor): Float32Array => conv2d(x, w, null, { padding: 1 }).data;
    const references = weights.map((w) => conv2d(x, w, null, { padding: 1 }).data); // the JS kernels (afterEach)
    // One forward entry fits in 190,000 bytes, two do not: 36 KiB of weights and 144 KiB of F(4x4)
    // transforms (36 packed 32x32 matrices), or 64 KiB of F(2x2) ones.
    expect(await setBackend('wasm', { weightCacheBytes: 190_000 })).toBe(true);
    const wasm = kernels() as unknown as { cacheStats(): { reused: number; made: number; emptied: number } };
    const before = wasm.cacheStats();
    const since = (): { reused: number; made: number; emptied: number } => {
      const now = wasm.cacheStats();
      return { reused: now.reused - before.reused, made: now.made - before.made, emptied: now.emptied - before.emptied };
    };
    // A "model" of two convolutions, called 4 times: the first stays cached, the second is made at
    // every call, and the cache is never emptied (it was emptied and refilled at every call before).
    for (let call = 0; call < 4; call++) {
      for (let i = 0; i < 2; i++) expectNear(forward(weights[i]!), references[i]!, 1e-5);
    }
    expect(since()).toEqual({ reused: 3, made: 5, emptied: 0 });
    // Another model (one convolution) from now on: its first call finds no room and runs uncached;
    // the second empties the cache (the first model's entry went unused for a whole call) and keeps it.
    for (let call = 0; call < 3; call++) expectNear(forward(weights[2]!), references[2]!, 1e-5);
    expect(since()).toEqual({ reused: 4, made: 7, emptied: 1 });
  });
});
