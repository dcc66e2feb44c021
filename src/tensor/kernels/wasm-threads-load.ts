import { CONTROL_BYTES, type GemmExports } from './thread-share.js';
import { sharedMemory, startKernelThreads, type KernelThreadSpawner } from './threads.js';
import { wasmKernels, type WasmKernelOptions, type WasmKernels } from './wasm.js';
import { SHARED_MAX_PAGES, withSharedMemoryImport } from './wasm-shared.js';
import { KERNELS_WASM_BASE64 } from './wasm/kernels-bytes.js';
import { decodeBase64 } from '../base64.js';

/**
 * The WebAssembly kernels with `threads - 1` helper threads (./threads.ts):
 * the built-in module, given a shared memory (./wasm-shared.ts), is
 * instantiated here and in each helper over that one memory. Loaded only
 * when setBackend asks for threads > 1. Throws if the memory or a helper
 * cannot be made (setBackend then falls back to one thread with a notice).
 */
export async function loadThreadedWasmKernels(
  threads: number,
  spawn: KernelThreadSpawner,
  warn: (message: string) => void,
  error: (message: string) => Error,
  options: Pick<WasmKernelOptions, 'weightCacheBytes'> = {},
): Promise<WasmKernels> {
  const module = await WebAssembly.compile(withSharedMemoryImport(decodeBase64(KERNELS_WASM_BASE64)) as BufferSource);
  const memory = sharedMemory(SHARED_MAX_PAGES);
  const instance = await WebAssembly.instantiate(module, { env: { memory } });
  const exports = instance.exports as unknown as GemmExports & { heapBase(): number };
  // The control block sits where the heap would start; the heap starts after it.
  const control = exports.heapBase();
  const team = await startKernelThreads({ module, memory, exports, control, threads, spawn, warn, error });
  return wasmKernels(instance, { ...options, team, reservedBytes: CONTROL_BYTES });
}

export { threadSupport } from './threads.js';
