import { jsKernels } from './kernels/js.js';
import type { Kernels } from './kernels/kernels.js';
import { ArgumentError } from './errors.js';

/**
 * Which kernels the ops run on (TensorFlow.js's names and calls):
 *
 *   await setBackend('wasm')   // WebAssembly SIMD kernels, compiled at run time
 *   await setBackend('wasm', { module })  // a precompiled module: workerd, Vercel edge
 *   await setBackend('js')     // the pure-TS kernels (the default, and the fallback)
 *   getBackend()               // 'js' | 'wasm'
 *
 * A module that fails to compile or instantiate leaves the JS kernels in
 * place, with a one-line notice (console.warn), and setBackend resolves to
 * false: results are never wrong, only slower.
 */
export type BackendName = 'js' | 'wasm';

export interface SetBackendOptions {
  /**
   * The kernels module, for platforms that cannot compile WebAssembly at run
   * time: `import kernels from 'tinycam/kernels.wasm'` gives a
   * WebAssembly.Module on Cloudflare Workers and Vercel Edge. Bytes are
   * accepted too. Default: the module built into the package.
   */
  module?: WebAssembly.Module | BufferSource;
  /** Where the fallback notice goes (default console.warn). */
  warn?: (message: string) => void;
  /**
   * Largest memory (bytes) the WebAssembly kernels may keep for transformed
   * convolution weights, so that a model's Winograd weights are made once
   * and not at every call (default 256 MiB; 0: never kept). The cache
   * compares the weights at every call, so changed weights are always seen.
   */
  weightCacheBytes?: number;
}

let current: Kernels = jsKernels;

/**
 * The kernels of the module built into the package, once loaded: switching
 * back to 'wasm' reuses them (and their weight cache) instead of compiling
 * and instantiating again. A module passed in, or another weightCacheBytes,
 * loads afresh.
 */
let builtIn: { weightCacheBytes: number | undefined; kernels: Kernels } | null = null;

/** The kernels ops call now. */
export function kernels(): Kernels {
  return current;
}

/** The current backend's name. */
export function getBackend(): BackendName {
  return current.name;
}

/** Switch backends; resolves to true when the asked-for backend is active. */
export async function setBackend(name: BackendName, options: SetBackendOptions = {}): Promise<boolean> {
  if (name === 'js') {
    current = jsKernels;
    return true;
  }
  if (name !== 'wasm') {
    throw new ArgumentError(`setBackend: unknown backend '${String(name)}'; accepted: 'wasm' or 'js'`);
  }
  if (options.module === undefined && builtIn && builtIn.weightCacheBytes === options.weightCacheBytes) {
    current = builtIn.kernels;
    return true;
  }
  try {
    // Loaded on first use only: the core entry stays small and starts fast.
    const { loadWasmKernels } = await import('./kernels/wasm-load.js');
    current = await loadWasmKernels(options.module, { weightCacheBytes: options.weightCacheBytes });
    if (options.module === undefined) builtIn = { weightCacheBytes: options.weightCacheBytes, kernels: current };
    return true;
  } catch (e) {
    current = jsKernels;
    const reason = e instanceof Error ? e.message.split('\n')[0] : String(e);
    (options.warn ?? console.warn)(`tinycam: WebAssembly kernels unavailable (${reason}); using the JS kernels`);
    return false;
  }
}
