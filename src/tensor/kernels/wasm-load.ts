import type { Kernels } from './kernels.js';
import { wasmKernels, type WasmKernelOptions } from './wasm.js';
import { KERNELS_WASM_BASE64 } from './wasm/kernels-bytes.js';
import { decodeBase64 } from '../base64.js';

/** The module's imports: AssemblyScript's abort (never reached with --noAssert, but declared). */
const imports = {
  env: {
    abort(): never {
      throw new Error('tinycam wasm kernels: abort');
    },
  },
};

/**
 * Compile (or take) the kernels module, instantiate it and wrap it as Kernels.
 *
 * Synchronously where the platform allows it, so that setBackend('auto')
 * has the kernels by the app's first await (its weights being read, say)
 * instead of a few event-loop turns later: the module is 16 KB and V8
 * compiles its functions lazily, so this takes about a millisecond. (With
 * the asynchronous compile, the shapes example's first Grad-CAM after an
 * awaited read of its weights ran on the JS kernels 19 times in 25.) Where
 * the synchronous calls throw (browsers before Chrome 114 refused modules
 * over 4 KB on the main thread; platforms without run-time compilation
 * refuse both), the asynchronous ones run, and their error is the one that
 * reaches setBackend's notice.
 */
export async function loadWasmKernels(source?: WebAssembly.Module | BufferSource, options: WasmKernelOptions = {}): Promise<Kernels> {
  const module = source instanceof WebAssembly.Module ? source : (source ?? decodeBase64(KERNELS_WASM_BASE64)) as BufferSource;
  let instance: WebAssembly.Instance;
  try {
    instance = new WebAssembly.Instance(module instanceof WebAssembly.Module ? module : new WebAssembly.Module(module), imports);
  } catch {
    instance = module instanceof WebAssembly.Module ? await WebAssembly.instantiate(module, imports) : (await WebAssembly.instantiate(module, imports)).instance;
  }
  return wasmKernels(instance, options);
}
