import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { getBackend, kernels, setBackend } from '../src/tensor/backend.js';
import { ArgumentError } from '../src/tensor/errors.js';
import { conv2d } from '../src/tensor/ops/conv.js';
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
