// The script each helper thread of the WebAssembly kernels' intra-op threads runs (dist/kernel-thread.js), see spawnKernelThread.
import { parentPort } from 'node:worker_threads';
import { serveKernelThread } from '../tensor/kernels/thread-serve.js';

if (!parentPort) throw new Error('tinycam kernel-thread: run as a worker thread (spawnKernelThread starts it)');
const port = parentPort;
serveKernelThread({
  postMessage: (message) => port.postMessage(message),
  on: (event, listener) => port.on(event, listener),
});
