import { jsKernels } from './kernels/js.js';
import type { Kernels } from './kernels/kernels.js';
import { ArgumentError } from './errors.js';

/**
 * Which kernels the ops run on (TensorFlow.js's names and calls):
 *
 *   await setBackend('wasm')   // WebAssembly SIMD kernels, compiled at run time
 *   await setBackend('wasm', { module })  // a precompiled module: workerd, Vercel edge
 *   await setBackend('js')     // the pure-TS kernels (the default, and the fallback)
 *   setBackend('auto')         // the JS kernels now, WebAssembly's as soon as they are ready
 *   getBackend()               // 'js' | 'wasm'
 *
 * A module that fails to compile or instantiate leaves the JS kernels in
 * place, with a one-line notice (console.warn), and setBackend resolves to
 * false: results are never wrong, only slower.
 */
export type BackendName = 'js' | 'wasm';

/**
 * What setBackend accepts: a backend, or 'auto': ops run on the JS kernels at
 * once and on the WebAssembly kernels from the moment they are compiled (the
 * promise resolves then), so nothing waits for the compile. The switch happens
 * between calls: a synchronous call (gradCam and the other methods) runs wholly
 * on the kernels it started on. Where WebAssembly cannot load, the JS kernels
 * stay, with the same one-line notice as 'wasm'.
 */
export type BackendChoice = BackendName | 'auto';

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

/** Counts setBackend calls: a load that ends after a later call never overrides that call's choice. */
let choices = 0;

/** The kernels ops call now. */
export function kernels(): Kernels {
  return current;
}

/** The current backend's name. */
export function getBackend(): BackendName {
  return current.name;
}

/**
 * Switch backends; resolves to true when the asked-for backend is active
 * ('auto': once the WebAssembly kernels are), false when WebAssembly could not
 * load (the JS kernels stay, with a one-line notice) or a later setBackend
 * call has chosen otherwise in the meantime.
 */
export async function setBackend(name: BackendChoice, options: SetBackendOptions = {}): Promise<boolean> {
  if (name !== 'js' && name !== 'wasm' && name !== 'auto') {
    throw new ArgumentError(`setBackend: unknown backend '${String(name)}'; accepted: 'wasm' or 'js' (or 'auto': the JS kernels until the WebAssembly ones are ready)`);
  }
  const choice = ++choices;
  if (name === 'js') {
    current = jsKernels;
    return true;
  }
  if (options.module === undefined && builtIn && builtIn.weightCacheBytes === options.weightCacheBytes) {
    current = builtIn.kernels;
    return true;
  }
  if (name === 'auto') current = jsKernels;
  try {
    // Loaded on first use only: the core entry stays small and starts fast.
    const { loadWasmKernels } = await import('./kernels/wasm-load.js');
    const loaded = await loadWasmKernels(options.module, { weightCacheBytes: options.weightCacheBytes });
    if (options.module === undefined) builtIn = { weightCacheBytes: options.weightCacheBytes, kernels: loaded };
    if (choice !== choices) return false;
    current = loaded;
    return true;
  } catch (e) {
    if (choice !== choices) return false;
    current = jsKernels;
    const reason = e instanceof Error ? e.message.split('\n')[0] : String(e);
    (options.warn ?? console.warn)(`tinycam: WebAssembly kernels unavailable (${reason}); using the JS kernels`);
    return false;
  }
}
