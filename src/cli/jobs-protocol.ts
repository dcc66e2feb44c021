/** Messages between `explain --jobs` (jobs.ts) and its worker threads (jobs-worker.ts). */
import type { ExplainArgs } from './args.js';
import type { ImageOutcome, planExplain } from './explain.js';

/** What every worker starts with: the parsed arguments (the method's functions are looked up again by name) and the planned outputs. */
export interface JobWorkerData extends ReturnType<typeof planExplain> {
  args: Omit<ExplainArgs, 'methodSpec'>;
}

export type ToJobWorker = { type: 'image'; index: number };

export type FromJobWorker =
  | { type: 'ready'; labels: string[] | undefined }
  | { type: 'done'; index: number; outcome: ImageOutcome }
  | { type: 'failed'; error: { name: string; message: string; code: string | null } };
