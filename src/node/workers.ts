import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { WorkerPool, type WorkerHandle, type WorkerPoolOptions } from '../parallel/pool.js';

/**
 * A WorkerPool of Node worker_threads. Each worker builds its own copy of the
 * model (from `model`: an architecture and state dict, ONNX bytes, or a
 * module exporting a factory) and its own kernels (`backend`, default 'wasm').
 *
 *   const pool = createWorkerPool({ workers: 2, model: { arch: 'resnet18', stateDict } });
 *   const { maps } = await pool.explain('gradCam', batch, { layer: 'layer4' });
 *   pool.close();
 */
export function createWorkerPool(options: Omit<WorkerPoolOptions, 'spawn'>): WorkerPool {
  return new WorkerPool({ ...options, spawn: spawnNodeWorker });
}

/** The worker script: the built one beside this file, or the TypeScript source when running from src/ (via tsx). */
function workerScript(): URL {
  const built = new URL('./node-worker.js', import.meta.url);
  return existsSync(fileURLToPath(built)) ? built : new URL('./worker-dev.mjs', import.meta.url);
}

function spawnNodeWorker(): WorkerHandle {
  const worker = new Worker(workerScript());
  let failed: ((reason: string) => void) | null = null;
  let reported = false;
  const fail = (reason: string): void => {
    if (reported) return;
    reported = true;
    failed?.(reason);
  };
  worker.on('error', (e) => fail(`uncaught ${e.name}: ${e.message}`));
  worker.on('exit', (code) => fail(`exit code ${code}`));
  return {
    postMessage: (message, transfer) => worker.postMessage(message, transfer ?? []),
    onMessage: (listener) => worker.on('message', listener),
    onFailure: (listener) => {
      failed = listener;
    },
    terminate: () => {
      reported = true;
      void worker.terminate();
    },
  };
}
