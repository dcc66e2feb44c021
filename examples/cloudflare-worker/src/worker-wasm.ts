/**
 * The same Worker (src/worker.ts) on tinycam's WebAssembly SIMD kernels.
 * Workers cannot compile WebAssembly at run time, so the kernels come
 * precompiled: `import kernels from 'tinycam/kernels.wasm'` gives a
 * WebAssembly.Module (wrangler's CompiledWasm rule for `*.wasm`, see
 * wrangler.toml), and `setBackend('wasm', { module })` instantiates it at
 * the first request. Every answer says which kernels ran it in the
 * X-Tinycam-Backend header ('wasm', or 'js' if the module failed, with a
 * one-line notice in the log: slower, never wrong).
 *
 *   npx wrangler dev --env wasm
 */
import kernels from 'tinycam/kernels.wasm';
import { getBackend, setBackend } from 'tinycam';
import weights from '../../shapes/shapes-cnn.safetensors';
import { createHandler } from '../../explainer/handler.js';
import { shapesExplainable } from '../../explainer/shapes.js';

const handle = createHandler({ subject: () => shapesExplainable(weights) });

/** Instantiated once per isolate, at the first request (no I/O or compilation at the top level of a Worker). */
let backendReady: Promise<boolean> | undefined;

export default {
  async fetch(request: Request): Promise<Response> {
    await (backendReady ??= setBackend('wasm', { module: kernels }));
    const response = await handle(request);
    response.headers.set('x-tinycam-backend', getBackend());
    return response;
  },
};
