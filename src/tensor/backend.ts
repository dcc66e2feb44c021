import { jsKernels } from './kernels/js.js';
import type { Kernels } from './kernels/kernels.js';
import type { KernelThreadSpawner } from './kernels/threads.js';
import type { WasmKernels } from './kernels/wasm.js';
import { ArgumentError, TinycamError } from './errors.js';

/**
 * Which kernels the ops run on (TensorFlow.js's names and calls):
 *
 *   await setBackend('wasm')   // WebAssembly SIMD kernels, compiled at run time
 *   await setBackend('wasm', { module })  // a precompiled module: workerd, Vercel edge
 *   await setBackend('js')     // the pure-TS kernels (the default, and the fallback)
 *   setBackend('auto')         // the JS kernels now, WebAssembly's as soon as they are ready
 *   getBackend()               // 'js' | 'wasm'
 *   await setBackend('wasm', { threads: 2, spawnThread })  // convolutions' GEMMs split over 2 threads
 *   getThreadsCount()          // 2 (1 unless threads are running)
 *
 * A module that fails to compile or instantiate leaves the JS kernels in
 * place, with a one-line notice (console.warn), and setBackend resolves to
 * false: results are never wrong, only slower.
 */
export type BackendName = 'js' | 'wasm';

/**
 * What setBackend accepts: a backend, or 'auto': ops run on the JS kernels at
 * once and on the WebAssembly kernels from the moment they are compiled (the
 * promise resolves then), so nothing waits for the compile. Once the kernels'
 * code is loaded (at once in a bundle) the module compiles synchronously, so
 * an app that awaits anything (its weights being read) before its first call
 * gets the WebAssembly kernels for that call. The switch happens
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
  /**
   * Threads each convolution's (and gemm's) products are split over: the
   * calling thread and `threads - 1` helpers over one shared WebAssembly
   * memory (default 1: no helpers). Results are the one-thread results bit
   * for bit. Needs `spawnThread`, SharedArrayBuffer (in browsers: a
   * cross-origin isolated page) and a thread that may block in Atomics.wait
   * (Node's main thread or a worker; in browsers a Web Worker, never the
   * main thread). Helpers that cannot start leave one thread, with a
   * notice. Another setBackend call ends them.
   */
  threads?: number;
  /**
   * Starts one helper thread (needed when threads > 1): in Node,
   * `spawnKernelThread` from 'tinycam/node'; in a browser, a function that
   * starts a Web Worker whose script calls `serveKernelThread(self)`.
   */
  spawnThread?: KernelThreadSpawner;
}

/** Largest `threads` accepted. */
export const MAX_THREADS = 64;

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

/** The kernels with helper threads, while they run (ended by the next setBackend that asks for something else). */
let threaded: { threads: number; spawn: KernelThreadSpawner; weightCacheBytes: number | undefined; kernels: WasmKernels } | null = null;

function endThreads(): void {
  threaded?.kernels.close();
  threaded = null;
}

/** The kernels ops call now. */
export function kernels(): Kernels {
  return current;
}

/**
 * Make `k` the kernels ops call, as they are (benchmarks and tests that hold
 * two backends at once, e.g. one and two threads, and alternate them).
 * Not exported from the package.
 */
export function useKernels(k: Kernels): void {
  current = k;
}

/** The current backend's name. */
export function getBackend(): BackendName {
  return current.name;
}

/** Threads the current kernels split their products over (1: no helper threads; TensorFlow.js's getThreadsCount). */
export function getThreadsCount(): number {
  const k = current as Partial<WasmKernels>;
  return typeof k.threads === 'function' ? k.threads() : 1;
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
  const threads = options.threads ?? 1;
  if (typeof threads !== 'number' || !Number.isInteger(threads) || threads < 1 || threads > MAX_THREADS) {
    throw new ArgumentError(`setBackend: threads must be a whole number from 1 to ${MAX_THREADS}; got ${String(options.threads)}`);
  }
  if (threads > 1) {
    if (name !== 'wasm') throw new ArgumentError(`setBackend: threads (${threads}) apply to the 'wasm' backend only (not '${name}'); the 'js' kernels run on one thread`);
    if (options.module !== undefined) {
      throw new ArgumentError('setBackend: threads > 1 run the built-in kernels over a shared memory; accepted: threads with no module, or a module with threads 1');
    }
    if (typeof options.spawnThread !== 'function') {
      throw new ArgumentError(
        "setBackend: threads > 1 need spawnThread, a function that starts one helper thread; accepted: spawnKernelThread from 'tinycam/node', " +
          'or in a browser a function that starts a Web Worker whose script calls serveKernelThread(self)',
      );
    }
    return setThreadedWasm(threads, options.spawnThread, options);
  }
  const choice = ++choices;
  endThreads();
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
    (options.warn ?? console.warn)(`tinycam: WebAssembly kernels unavailable (${firstLine(e)}); using the JS kernels`);
    return false;
  }
}

/** An error's first line, for a one-line notice. */
function firstLine(e: unknown): string | undefined {
  return e instanceof Error ? e.message.split('\n')[0] : String(e);
}

async function setThreadedWasm(threads: number, spawn: KernelThreadSpawner, options: SetBackendOptions): Promise<boolean> {
  const warn = options.warn ?? console.warn;
  if (threaded && threaded.threads === threads && threaded.spawn === spawn && threaded.weightCacheBytes === options.weightCacheBytes && threaded.kernels.threads() === threads) {
    ++choices;
    current = threaded.kernels;
    return true;
  }
  // Loaded only when threads are asked for: the one-thread backend does not carry this code.
  const { loadThreadedWasmKernels, threadSupport } = await import('./kernels/wasm-threads-load.js');
  const support = threadSupport();
  if (support === 'cannot-block') {
    throw new ArgumentError(
      "setBackend: threads > 1 need a thread that may block in Atomics.wait, which a browser's main thread does not allow; " +
        'accepted: threads 1 here, or call setBackend (and run the model) inside a Web Worker',
    );
  }
  const choice = ++choices;
  endThreads();
  if (support === 'no-shared-memory') {
    warn('tinycam: kernel threads need SharedArrayBuffer (in browsers: a cross-origin isolated page, COOP same-origin and COEP require-corp); the WebAssembly kernels run on one thread');
    return setBackend('wasm', { ...options, threads: 1 });
  }
  try {
    const kernels = await loadThreadedWasmKernels(threads, spawn, warn, (m) => new TinycamError('E_KERNEL_THREAD', m), {
      weightCacheBytes: options.weightCacheBytes,
    });
    // A later setBackend call has chosen otherwise in the meantime: end these threads, keep its choice.
    if (choice !== choices) {
      kernels.close();
      return false;
    }
    threaded = { threads, spawn, weightCacheBytes: options.weightCacheBytes, kernels };
    current = kernels;
    return true;
  } catch (e) {
    if (choice !== choices) return false;
    warn(`tinycam: kernel threads unavailable (${firstLine(e)}); the WebAssembly kernels run on one thread`);
    return setBackend('wasm', { ...options, threads: 1 });
  }
}
