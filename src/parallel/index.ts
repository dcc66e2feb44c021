/**
 * `tinycam/worker`: the platform-neutral worker pool. WorkerPool runs
 * explanation methods on parts of a batch in workers (or, for one image of
 * Score-CAM, Ablation-CAM, SmoothGrad or integrated gradients, on shares of
 * its passes); serveWorker is what a worker script calls. Node users take createWorkerPool from 'tinycam/node'
 * (worker_threads); in a browser, spawn module Web Workers whose script does
 *   import { serveWorker } from 'tinycam/worker';
 *   serveWorker({ postMessage: (m, t) => self.postMessage(m, t ?? []), onMessage: (l) => { self.onmessage = (e) => l(e.data); } });
 * and pass a spawner that wraps them (WorkerHandle).
 */
export { WorkerPool, WorkerError } from './pool.js';
export type { WorkerHandle, WorkerPoolOptions, WorkerProgress } from './pool.js';
export { serveWorker } from './worker.js';
export type { WorkerPort } from './worker.js';
export type { ModelSpec, SerializedTensor } from './protocol.js';
