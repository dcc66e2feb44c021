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

/** Compile (or take) the kernels module, instantiate it and wrap it as Kernels. */
export async function loadWasmKernels(source?: WebAssembly.Module | BufferSource, options: WasmKernelOptions = {}): Promise<Kernels> {
  let instance: WebAssembly.Instance;
  if (source instanceof WebAssembly.Module) {
    instance = await WebAssembly.instantiate(source, imports);
  } else {
    const bytes = (source ?? decodeBase64(KERNELS_WASM_BASE64)) as BufferSource;
    const module = await WebAssembly.compile(bytes);
    instance = await WebAssembly.instantiate(module, imports);
  }
  return wasmKernels(instance, options);
}
