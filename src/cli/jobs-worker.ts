/**
 * One worker thread of `tinycam explain --jobs N` (dist/cli-worker.js): loads
 * the model once, then explains and writes the images the main thread hands
 * it, one at a time, and reports each outcome. A problem with one image's
 * file comes back as a skipped image; any other error as 'failed', which
 * stops the run (as it would without --jobs).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { TinycamError } from '../tensor/errors.js';
import { onBackend } from './backend-option.js';
import { explainPlanned, startExplainRun, type ExplainRun } from './explain.js';
import type { FromJobWorker, JobWorkerData, ToJobWorker } from './jobs-protocol.js';
import { methodByName } from './methods.js';

if (!parentPort) throw new Error('tinycam cli-worker: run as a worker thread of `tinycam explain --jobs`');
const port = parentPort;
const post = (message: FromJobWorker): void => port.postMessage(message);
const failed = (e: unknown): void => {
  const error = e as Error;
  post({ type: 'failed', error: { name: error.name, message: error.message, code: e instanceof TinycamError ? e.code : null } });
};

let run: ExplainRun | undefined;
const { args, plan, folder } = workerData as JobWorkerData;
// The parent has already said, once, whether WebAssembly loads: a worker that cannot load it stays on JS quietly.
void onBackend(args.backend, () => {}, () => {
  try {
    const method = methodByName(args.method)!;
    run = startExplainRun({ ...args, methodSpec: method.spec }, { plan, folder });
    post({ type: 'ready', labels: run.labels });
  } catch (e) {
    failed(e);
  }
});

port.on('message', (message: ToJobWorker) => {
  if (!run) return;
  try {
    post({ type: 'done', index: message.index, outcome: explainPlanned(run, message.index) });
  } catch (e) {
    failed(e);
  }
});
