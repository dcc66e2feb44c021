import { afterAll, describe, expect, it } from 'vitest';
import { gradCam } from '../src/cam/methods/gradCam.js';
import { saliency } from '../src/cam/methods/saliency.js';
import { createWorkerPool } from '../src/node/workers.js';
import { WorkerError } from '../src/parallel/pool.js';
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
