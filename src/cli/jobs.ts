/**
 * `tinycam explain --jobs N` over a folder: the images are shared out to N
 * worker threads, each with its own copy of the model (jobs-worker.ts), one
 * image at a time as each worker becomes free. The main thread only plans
 * the outputs and prints: outcomes are printed in the folder's order, so
 * the output is the same as without --jobs.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { TinycamError } from '../tensor/errors.js';
import { UsageError, type ExplainArgs } from './args.js';
import { explainCommand, planExplain, ReportPrinter, type ExplainReport, type ImageOutcome } from './explain.js';
import type { FromJobWorker, JobWorkerData, ToJobWorker } from './jobs-protocol.js';
import { Terminal } from './terminal.js';

/** Explain `args.image` with up to `jobs` worker threads (a single image, or jobs 1: in this thread). */
export async function explainInWorkers(args: ExplainArgs, jobs: number, terminal: Terminal = new Terminal()): Promise<ExplainReport> {
  const planned = planExplain(args);
  if (jobs < 2 || !planned.folder || planned.plan.length < 2) return explainCommand(args, terminal);
  const { methodSpec: _functions, ...plainArgs } = args;
  const data: JobWorkerData = { args: plainArgs, ...planned };
  const count = Math.min(jobs, planned.plan.length);
  const outcomes: (ImageOutcome | undefined)[] = new Array(planned.plan.length);
  const workers: Worker[] = [];
  let printer: ReportPrinter | undefined;
  let printed = 0;
  let next = 0;

  try {
    await new Promise<void>((resolve, reject) => {
      let settled = false;
      const fail = (error: Error): void => {
        if (settled) return;
        settled = true;
        reject(error);
      };
      const give = (worker: Worker): void => {
        if (next < planned.plan.length) worker.postMessage({ type: 'image', index: next++ } satisfies ToJobWorker);
      };
      for (let w = 0; w < count; w++) {
        const worker = new Worker(workerScript(), { workerData: data });
        workers.push(worker);
        let current: number | undefined;
        worker.on('message', (message: FromJobWorker) => {
          if (settled) return;
          switch (message.type) {
            case 'ready':
              printer ??= new ReportPrinter({ ...planned, args, labels: message.labels }, terminal);
              break;
            case 'done':
              outcomes[message.index] = message.outcome;
              // Print what is complete from the start of the folder, in order.
              while (printed < outcomes.length && outcomes[printed]) printer!.add(outcomes[printed++]!);
              if (printed === outcomes.length) {
                settled = true;
                resolve();
                return;
              }
              break;
            case 'failed':
              fail(rebuild(message.error));
              return;
          }
          current = next < planned.plan.length ? next : undefined;
          give(worker);
        });
        worker.on('error', (e) => fail(new TinycamError('E_WORKER', `explain --jobs: a worker failed${current !== undefined ? ` on ${planned.plan[current]!.image}` : ''}: ${e.message}`)));
        worker.on('exit', (code) => fail(new TinycamError('E_WORKER', `explain --jobs: a worker stopped (exit code ${code})${current !== undefined ? ` while explaining ${planned.plan[current]!.image}` : ''}`)));
      }
    });
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
  return printer!.finish();
}

/** The worker's error as the main thread's: a usage mistake stays one (exit code 2), the rest are TinycamErrors (exit code 1). */
function rebuild(error: { name: string; message: string; code: string | null }): Error {
  if (error.name === 'UsageError') return new UsageError(error.message);
  return new TinycamError(error.code ?? 'E_WORKER', error.message);
}

/** The built worker beside the built command (dist/cli-worker.js), or the TypeScript source through tsx. */
function workerScript(): URL {
  const built = new URL('./cli-worker.js', import.meta.url);
  return existsSync(fileURLToPath(built)) ? built : new URL('./jobs-worker-dev.mjs', import.meta.url);
}
