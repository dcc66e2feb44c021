import { afterEach, describe, expect, it } from 'vitest';
import { getBackend, kernels, setBackend } from '../src/tensor/backend.js';
import { jsKernels } from '../src/tensor/kernels/js.js';
import { ArgumentError } from '../src/tensor/errors.js';
import { conv2d } from '../src/tensor/ops/conv.js';
import { randn } from '../src/tensor/random.js';

afterEach(async () => {
  await setBackend('js');
});

// Each test asks for its own weightCacheBytes, so that the built-in kernels a
// previous test loaded are not reused and the load really is in flight.
describe("setBackend('auto')", () => {
  it('runs ops on the JS kernels at once and on the WebAssembly kernels once they are ready', async () => {
    const x = randn([1, 3, 12, 12], { seed: 1 });
    const w = randn([8, 3, 3, 3], { seed: 2 });
    const ready = setBackend('auto', { weightCacheBytes: 1 << 20 });
    // Not awaited: the compile has not finished, and the ops do not wait for it.
    expect(getBackend()).toBe('js');
    const early = conv2d(x, w, null, { padding: 1 });
    await setBackend('js');
    const onJs = conv2d(x, w, null, { padding: 1 });
    expect(early.data).toEqual(onJs.data);
    expect(await ready).toBe(false); // overridden by setBackend('js')

    expect(await setBackend('auto', { weightCacheBytes: 1 << 21 })).toBe(true);
    expect(getBackend()).toBe('wasm');
    const onWasm = conv2d(x, w, null, { padding: 1 });
    expect(onWasm.data).not.toBe(onJs.data);
    let worst = 0;
    for (let i = 0; i < onJs.data.length; i++) worst = Math.max(worst, Math.abs(onWasm.data[i]! - onJs.data[i]!));
    expect(worst).toBeLessThan(1e-5);
  });

  it('has the WebAssembly kernels by the next await once its code is loaded: the module compiles synchronously', async () => {
    await import('../src/tensor/kernels/wasm-load.js'); // loaded, as in a bundle that carries it
    const ready = setBackend('auto', { weightCacheBytes: 1 << 25 });
    expect(getBackend()).toBe('js');
    // Microtasks only, no event-loop turn: an asynchronous compile could not have finished here.
    for (let turn = 0; turn < 50 && getBackend() === 'js'; turn++) await Promise.resolve();
    expect(getBackend()).toBe('wasm');
    expect(await ready).toBe(true);
  });

  it('is overridden by a later setBackend call made while it loads', async () => {
    const ready = setBackend('auto', { weightCacheBytes: 1 << 22 });
    expect(await setBackend('js')).toBe(true);
    expect(await ready).toBe(false);
    expect(getBackend()).toBe('js');
    expect(kernels()).toBe(jsKernels);
    // ... and so is 'wasm' (a late load never replaces a later choice).
    const wasm = setBackend('wasm', { weightCacheBytes: 1 << 23 });
    await setBackend('js');
    expect(await wasm).toBe(false);
    expect(getBackend()).toBe('js');
  });

  it('stays on the JS kernels with a one-line notice when the module does not compile', async () => {
    const notices: string[] = [];
    const ready = setBackend('auto', { module: new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 255]), warn: (m) => notices.push(m) });
    expect(getBackend()).toBe('js');
    expect(await ready).toBe(false);
    expect(getBackend()).toBe('js');
    expect(notices).toEqual([expect.stringMatching(/^tinycam: WebAssembly kernels unavailable \(.+\); using the JS kernels$/)]);
  });

  it("names 'auto' among the accepted choices when the name is unknown, and leaves a load under way alone", async () => {
    const ready = setBackend('auto', { weightCacheBytes: 1 << 24 });
    await expect(setBackend('gpu' as 'auto')).rejects.toThrow(ArgumentError);
    await expect(setBackend('gpu' as 'auto')).rejects.toThrow(/'wasm' or 'js' \(or 'auto'/);
    expect(await ready).toBe(true);
    expect(getBackend()).toBe('wasm');
  });
});
