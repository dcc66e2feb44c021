// Setup file of the `wasm` vitest project: run the file on the WebAssembly kernels.
import { beforeAll } from 'vitest';
import { getBackend, setBackend } from '../../src/tensor/backend.js';

beforeAll(async () => {
  const ok = await setBackend('wasm', { warn: (m) => { throw new Error(m); } });
  if (!ok || getBackend() !== 'wasm') throw new Error('the wasm project needs the WebAssembly kernels, and they did not load');
});
