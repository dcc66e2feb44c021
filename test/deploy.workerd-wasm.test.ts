/**
 * The Cloudflare Worker on the WebAssembly kernels inside workerd
 * (examples/cloudflare-worker/src/worker-wasm.ts): `import kernels from
 * 'tinycam/kernels.wasm'` is a CompiledWasm module, as wrangler gives it,
 * and `setBackend('wasm', { module: kernels })` must switch the worker to
 * it. The Grad-CAM map it answers for a picture is the one Node computes
 * on the same WebAssembly kernels, and within float rounding of the JS
 * kernels' map.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { getBackend, setBackend } from '../src/tensor/backend.js';
import { KERNELS_WASM, startWorkerdWasm } from './helpers/deploy-servers.js';
import { maxAbsDiff, nodeReference, samplePictures, type NodeReference } from './helpers/deploy-suite.js';
import { describeRuntime, rawRequest, type Started } from './helpers/runtimes.js';

describeRuntime('workerd', 'the Cloudflare Worker on the precompiled WebAssembly kernels in workerd', () => {
  let server: Started | undefined;
  beforeAll(async () => {
    server = await startWorkerdWasm();
  });
  afterAll(async () => {
    await server?.stop();
    await setBackend('js');
  });

  /** Node's answer for a picture on each backend (wasm from the same precompiled file the worker imports). */
  async function references(bytes: Uint8Array): Promise<{ js: NodeReference; wasm: NodeReference }> {
    await setBackend('js');
    const js = nodeReference(bytes);
    expect(await setBackend('wasm', { module: await WebAssembly.compile(readFileSync(KERNELS_WASM)) })).toBe(true);
    try {
      return { js, wasm: nodeReference(bytes) };
    } finally {
      await setBackend('js');
    }
  }

  it("runs on 'wasm' and answers Node's Grad-CAM map for the same picture", async () => {
    // One picture (the generated scene, a PNG): the kernels are what differs here; decoding is deploy.workerd's.
    for (const picture of samplePictures().slice(0, 1)) {
      const reference = await references(picture.bytes);
      const response = await rawRequest(server!.url, { path: '/explain?map=1', body: picture.bytes });
      expect(response.status, response.body).toBe(200);
      // The worker really ran on the module it was given (a failed module would say 'js').
      expect(response.headers['x-tinycam-backend']).toBe('wasm');
      expect(server!.output()).not.toContain('WebAssembly kernels unavailable');
      const body = JSON.parse(response.body);
      expect(body.top5.map((t: { index: number }) => t.index)).toEqual(reference.wasm.top5.map((t) => t.index));
      const map = new Float32Array(new Uint8Array(Buffer.from(body.map, 'base64')).buffer);
      const fromWasm = maxAbsDiff(map, reference.wasm.map);
      const fromJs = maxAbsDiff(map, reference.js.map);
      console.log(`workerd (wasm kernels): ${picture.name} map max |difference| from Node's on wasm = ${fromWasm}, on js = ${fromJs}`);
      // The same kernels on the same input: the same floats.
      expect(fromWasm).toBe(0);
      // Other kernels sum in another order: the maps (in [0, 1]) agree to float rounding.
      expect(fromJs).toBeLessThanOrEqual(1e-5);
      expect(getBackend()).toBe('js');
    }
  });
});
