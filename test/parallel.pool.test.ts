import { afterAll, describe, expect, it } from 'vitest';
import { gradCam } from '../src/cam/methods/gradCam.js';
import { saliency } from '../src/cam/methods/saliency.js';
import { createWorkerPool } from '../src/node/workers.js';
import { WorkerError, WorkerPool, type WorkerHandle } from '../src/parallel/pool.js';
import type { FromWorker, ToWorker } from '../src/parallel/protocol.js';
import { randn } from '../src/tensor/random.js';
import { Tensor } from '../src/tensor/tensor.js';
import type { MapResult, GradientResult } from '../src/cam/types.js';
import { createModel } from './helpers/pool-model.js';

/** The worker pool with real worker threads (Node), on the JS kernels so results are bit-comparable. */
const pool = createWorkerPool({
  workers: 2,
  backend: 'js',
  model: { module: new URL('./helpers/pool-model.ts', import.meta.url).href, export: 'createModel' },
});
afterAll(() => pool.close());

const model = createModel();
model.eval();

describe('WorkerPool (Node worker_threads)', () => {
  it('explains a batch split over two workers exactly as one thread does', async () => {
    await pool.ready();
    const input = randn([5, 3, 12, 12], { seed: 4 });
    const ours = await pool.explain<MapResult>('gradCam', input, { layer: '2' });
    const direct = gradCam(model, input, { layer: '2' });
    expect(ours.maps.shape).toEqual(direct.maps.shape);
    expect(ours.maps.data).toEqual(direct.maps.data);
    expect(ours.targets).toEqual(direct.targets);
    expect(ours.logits.data).toEqual(direct.logits.data);
    expect(ours.layers[0]!.raw.data).toEqual(direct.layers[0]!.raw.data);
    // per-image targets are split with the images
    const targets = [0, 1, 2, 3, 4];
    const grads = await pool.explain<GradientResult>('saliency', input, { target: targets });
    expect(grads.gradients.data).toEqual(saliency(model, input, { target: targets }).gradients.data);
  });

  it('fails a call whose method throws with a typed error naming the worker error, and keeps serving', async () => {
    const input = randn([2, 3, 12, 12], { seed: 5 });
    const failure = await pool.explain('gradCam', input, { layer: 'nope' }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(WorkerError);
    expect((failure as WorkerError).workerErrorName).toBe('LayerNotFoundError');
    expect((failure as Error).message).toMatch(/nope/);
    const ok = await pool.explain<MapResult>('gradCam', input, { layer: '2' });
    expect(ok.maps.data).toEqual(gradCam(model, input, { layer: '2' }).maps.data);
  });

  it('fails the call of a worker that dies with a typed error, starts a new worker and serves the next call', async () => {
    const deadly = new Tensor(new Float32Array(3 * 12 * 12).fill(0.5), [1, 3, 12, 12]);
    deadly.data[0] = -12345;
    const failure = await pool.run('gradCam', deadly, { layer: '2' }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(WorkerError);
    expect((failure as WorkerError).workerErrorName).toBe('exit');
    expect((failure as Error).message).toMatch(/died \(exit code 3\)/);
    const input = randn([4, 3, 12, 12], { seed: 6 });
    const again = await pool.explain<MapResult>('gradCam', input, { layer: '2' });
    expect(again.maps.data).toEqual(gradCam(model, input, { layer: '2' }).maps.data);
  });

  it('refuses options that cannot cross to a worker (a target function) with a typed error', async () => {
    const input = randn([1, 3, 12, 12], { seed: 7 });
    await expect(pool.run('gradCam', input, { target: (l: Tensor) => l })).rejects.toThrow(/cannot be sent to a worker/);
  });
});

/**
 * The pool's fault rules with in-process stand-ins for workers (no threads
 * to start, so these run in milliseconds): each answers 'init' as told
 * (ready, init-failed, or dying), and a task with its input's first value.
 */
type Behaviour = 'ready' | 'init-fails' | 'dies-at-init';
function fakeWorkers(behaviours: Behaviour[]): { spawn: () => WorkerHandle; spawned: { die: (reason: string) => void; terminated: boolean }[] } {
  const spawned: { die: (reason: string) => void; terminated: boolean }[] = [];
  const spawn = (): WorkerHandle => {
    const behaviour = behaviours[Math.min(spawned.length, behaviours.length - 1)]!;
    let listener: ((m: FromWorker) => void) | null = null;
    let failed: ((reason: string) => void) | null = null;
    const record = { die: (reason: string) => failed?.(reason), terminated: false };
    spawned.push(record);
    return {
      postMessage: (message: ToWorker) => {
        setTimeout(() => {
          if (record.terminated) return;
          if (message.type === 'init') {
            if (behaviour === 'ready') listener?.({ type: 'ready', backend: 'js' });
            else if (behaviour === 'init-fails') listener?.({ type: 'init-failed', message: "module x has no function export 'nope'" });
            else failed?.('exit code 7');
          } else {
            listener?.({ type: 'result', id: message.id, result: message.input.data[0] });
          }
        }, 1);
      },
      onMessage: (l) => (listener = l),
      onFailure: (l) => (failed = l),
      terminate: () => (record.terminated = true),
    };
  };
  return { spawn, spawned };
}

const one = (v: number): Tensor => new Tensor(Float32Array.of(v), [1, 1]);
const spec = { module: 'unused', export: 'unused' };

describe('WorkerPool fault rules (in-process stand-in workers)', () => {
  it('fails every call, queued ones too, with a typed error when no worker can build its model (no call waits forever)', async () => {
    const { spawn, spawned } = fakeWorkers(['init-fails']);
    const pool = new WorkerPool({ workers: 2, model: spec, spawn });
    const calls = [1, 2, 3, 4, 5].map((v) => pool.run('gradCam', one(v)).catch((e: unknown) => e));
    const failures = await Promise.all(calls);
    for (const failure of failures) {
      expect(failure).toBeInstanceOf(WorkerError);
      expect((failure as WorkerError).workerErrorName).toBe('init');
      expect((failure as Error).message).toMatch(/could not build its model: module x has no function export 'nope'/);
    }
    await expect(pool.ready()).rejects.toBeInstanceOf(WorkerError);
    // ... and later calls fail at once too.
    await expect(pool.run('gradCam', one(6))).rejects.toBeInstanceOf(WorkerError);
    expect(spawned).toHaveLength(2);
    pool.close();
  });

  it('does not restart a worker that dies before it is ready (no crash loop), and serves on the workers that started', async () => {
    const { spawn, spawned } = fakeWorkers(['ready', 'dies-at-init']);
    const pool = new WorkerPool({ workers: 2, model: spec, spawn });
    const results = await Promise.all([1, 2, 3, 4].map((v) => pool.run('gradCam', one(v)).catch((e: unknown) => e)));
    // A call given to the dying worker fails with a typed error; the rest run on the worker that started.
    for (const [i, r] of results.entries()) {
      if (r instanceof WorkerError) expect(r.workerErrorName).toBe('exit');
      else expect(r).toBe(i + 1);
    }
    expect(results.filter((r) => !(r instanceof WorkerError)).length).toBeGreaterThanOrEqual(3);
    await new Promise((r) => setTimeout(r, 20));
    expect(spawned).toHaveLength(2);
    expect(await pool.run('gradCam', one(9))).toBe(9);
    pool.close();
  });

  it('replaces a worker that dies after it started, even while idle, and serves the next call', async () => {
    const { spawn, spawned } = fakeWorkers(['ready']);
    const pool = new WorkerPool({ workers: 1, model: spec, spawn });
    await pool.ready();
    spawned[0]!.die('exit code 1');
    expect(spawned[0]!.terminated).toBe(true);
    expect(spawned).toHaveLength(2);
    expect(await pool.run('gradCam', one(3))).toBe(3);
    pool.close();
  });

  it('copies the input at the call: writes to it afterwards do not reach the worker', async () => {
    const { spawn } = fakeWorkers(['ready']);
    const pool = new WorkerPool({ workers: 1, model: spec, spawn });
    const input = one(5);
    const answer = pool.run('gradCam', input);
    input.data[0] = -1;
    expect(await answer).toBe(5);
    expect(input.data[0]).toBe(-1); // the caller's buffer is not transferred away
    pool.close();
  });

  it('close() fails running and queued calls with a typed error', async () => {
    const { spawn } = fakeWorkers(['ready']);
    const pool = new WorkerPool({ workers: 1, model: spec, spawn });
    const calls = [1, 2, 3].map((v) => pool.run('gradCam', one(v)).catch((e: unknown) => e));
    pool.close();
    for (const failure of await Promise.all(calls)) {
      expect(failure).toBeInstanceOf(WorkerError);
      expect((failure as WorkerError).workerErrorName).toBe('closed');
    }
    await expect(pool.run('gradCam', one(4))).rejects.toThrow(/closed/);
  });
});
