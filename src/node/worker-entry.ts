// The script each Node worker thread of a WorkerPool runs (dist/node-worker.js).
import { parentPort } from 'node:worker_threads';
import { serveWorker } from '../parallel/worker.js';
import type { ToWorker } from '../parallel/protocol.js';

if (!parentPort) throw new Error('tinycam node-worker: run as a worker thread (createWorkerPool starts it)');
const port = parentPort;
serveWorker({
  postMessage: (message, transfer) => port.postMessage(message, transfer ?? []),
  onMessage: (listener) => port.on('message', (m: ToWorker) => listener(m)),
});
