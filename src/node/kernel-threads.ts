import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { KernelThread } from '../tensor/kernels/threads.js';

/**
 * Starts one helper thread of the WebAssembly kernels' intra-op threads
 * (a Node worker_threads Worker running serveKernelThread):
 *
 *   import { setBackend } from 'tinycam';
 *   import { spawnKernelThread } from 'tinycam/node';
 *   await setBackend('wasm', { threads: 2, spawnThread: spawnKernelThread });
 *
 * The thread is unref'd: it never keeps a process alive, and it ends with
 * the process (or at the next setBackend).
 */
export function spawnKernelThread(): KernelThread {
  // Node flags are inherited, less those that only make sense for the main script (`node --input-type=module -e ...`).
  const execArgv = process.execArgv.filter((arg) => !arg.startsWith('--input-type'));
  const worker = new Worker(kernelThreadScript(), { execArgv });
  worker.unref();
  return {
    postMessage: (message) => worker.postMessage(message),
    terminate: () => worker.terminate(),
    on: (event, listener) => {
      worker.on(event, listener);
      // A 'message' listener refs the worker again: unref after each.
      worker.unref();
    },
  };
}

/** The thread's script: the built one beside this file, or the TypeScript source when running from src/ (via tsx). */
function kernelThreadScript(): URL {
  const built = new URL('./kernel-thread.js', import.meta.url);
  return existsSync(fileURLToPath(built)) ? built : new URL('./kernel-thread-dev.mjs', import.meta.url);
}
