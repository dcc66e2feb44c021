import { afterAll, describe, expect, it } from 'vitest';
import { gradCam } from '../src/cam/methods/gradCam.js';
import { saliency } from '../src/cam/methods/saliency.js';
import { scoreCam, scoreCamJoined, scoreCamShare } from '../src/cam/methods/scoreCam.js';
import { ablationCam, ablationCamJoined, ablationCamShare } from '../src/cam/methods/ablationCam.js';
import { smoothGrad, smoothGradJoined, smoothGradShare } from '../src/cam/methods/smoothGrad.js';
import { integratedGradients, integratedGradientsJoined, integratedGradientsShare } from '../src/cam/methods/integratedGradients.js';
import { ArgumentError } from '../src/tensor/errors.js';
import { getBackend } from '../src/tensor/backend.js';
import { inputXGradient } from '../src/cam/methods/inputXGradient.js';
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

/** max |a - b| / max |b| */
function relativeError(a: Float32Array, b: Float32Array): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < b.length; i++) {
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return diff / scale;
}

describe("WorkerPool spreads one image's passes over the workers", () => {
  // Layer '2' has 16 channels: batchSize 4 gives 4 passes (2 per worker), batchSize 3 gives 6, the last one short.
  const image = randn([1, 3, 12, 12], { seed: 21 });

  it('Score-CAM: the joined shares give the single-thread result bit for bit, with progress added over the workers', async () => {
    await pool.ready();
    const progress: { done: number; total: number; layer?: string }[] = [];
    const ours = await pool.explain<ReturnType<typeof scoreCam>>('scoreCam', image, { layer: '2', batchSize: 3, onProgress: (p: { done: number; total: number }) => progress.push(p) });
    const direct = scoreCam(model, image, { layer: '2', batchSize: 3 });
    expect(ours.layers[0]!.scores.data).toEqual(direct.layers[0]!.scores.data);
    expect(ours.layers[0]!.weights!.data).toEqual(direct.layers[0]!.weights!.data);
    expect(ours.maps.data).toEqual(direct.maps.data);
    expect(ours.targets).toEqual(direct.targets);
    // Both workers report before the caller hears anything, so every report has the whole total; the last one is complete.
    expect(progress.length).toBeGreaterThan(0);
    for (const p of progress) expect(p).toMatchObject({ total: 16, layer: '2' });
    expect(progress.map((p) => p.done)).toEqual([...progress.map((p) => p.done)].sort((a, b) => a - b));
    expect(progress.at(-1)!.done).toBe(16);
  });

  it('Ablation-CAM: bit for bit, scores and weights', async () => {
    const ours = await pool.explain<ReturnType<typeof ablationCam>>('ablationCam', image, { layer: '2', batchSize: 4, target: 3 });
    const direct = ablationCam(model, image, { layer: '2', batchSize: 4, target: 3 });
    expect(ours.layers[0]!.scores.data).toEqual(direct.layers[0]!.scores.data);
    expect(ours.layers[0]!.weights!.data).toEqual(direct.layers[0]!.weights!.data);
    expect(ours.maps.data).toEqual(direct.maps.data);
  });

  it('SmoothGrad and integrated gradients: the same noise and path points, equal up to the order of the float64 sums', async () => {
    const sgOptions = { samples: 5, noiseLevel: 0.2, seed: 3 };
    const sg = await pool.explain<GradientResult>('smoothGrad', image, sgOptions);
    const sgDirect = smoothGrad(model, image, sgOptions);
    expect(sg.targets).toEqual(sgDirect.targets);
    expect(relativeError(sg.gradients.data, sgDirect.gradients.data)).toBeLessThan(1e-6);
    // Another seed's noise is far from it: the workers did draw the single-thread call's noise.
    expect(relativeError(smoothGrad(model, image, { ...sgOptions, seed: 4 }).gradients.data, sgDirect.gradients.data)).toBeGreaterThan(1e-3);
    // An inner method given by name (a function cannot cross to a worker).
    const named = await pool.explain<GradientResult>('smoothGrad', image, { ...sgOptions, method: 'inputXGradient' });
    expect(relativeError(named.gradients.data, smoothGrad(model, image, { ...sgOptions, method: inputXGradient }).gradients.data)).toBeLessThan(1e-6);

    const baseline = randn([1, 3, 12, 12], { seed: 22 });
    const igOptions = { steps: 7, batchSize: 2, baseline };
    const ig = await pool.explain<GradientResult>('integratedGradients', image, igOptions);
    expect(relativeError(ig.gradients.data, integratedGradients(model, image, igOptions).gradients.data)).toBeLessThan(1e-6);
  });

  it('a share that throws fails the call with a WorkerError, and the pool serves the next spread call', async () => {
    const failure = await pool.explain('scoreCam', image, { layer: '2', batchSize: 0 }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(WorkerError);
    expect((failure as WorkerError).workerErrorName).toBe('ArgumentError');
    expect((failure as Error).message).toMatch(/batchSize must be a positive integer/);
    const unknown = await pool.explain('smoothGrad', image, { method: 'nope' }).catch((e: unknown) => e);
    expect((unknown as Error).message).toMatch(/method 'nope' is not a gradient method a worker knows; accepted: saliency/);
    const again = await pool.explain<ReturnType<typeof ablationCam>>('ablationCam', image, { layer: '2', batchSize: 4 });
    expect(again.maps.data).toEqual(ablationCam(model, image, { layer: '2', batchSize: 4 }).maps.data);
  });
});

describe('shares of one explanation, joined on one thread (what the workers run)', () => {
  const image = randn([1, 3, 12, 12], { seed: 23 });
  const shares = <T>(of: number, share: (s: { index: number; of: number }) => T): T[] => Array.from({ length: of }, (_, index) => share({ index, of }));

  it('join to the single-thread result for any number of shares, empty ones too', () => {
    // 16 channels in batches of 5: 4 passes over 3 shares (1 + 1 + 2).
    const sc = { layer: '2', batchSize: 5 };
    expect(scoreCamJoined(model, image, sc, shares(3, (s) => scoreCamShare(model, image, sc, s))).maps.data).toEqual(scoreCam(model, image, sc).maps.data);
    // 16 channels in batches of 8: 2 passes over 5 shares, 3 of them empty.
    const ab = { layer: '2', batchSize: 8 };
    const abShares = shares(5, (s) => ablationCamShare(model, image, ab, s));
    expect(abShares.filter((s) => s[0]!.end === s[0]!.start)).toHaveLength(3);
    expect(ablationCamJoined(model, image, ab, abShares).layers[0]!.weights!.data).toEqual(ablationCam(model, image, ab).layers[0]!.weights!.data);
    const sg = { samples: 3, seed: 9 };
    expect(smoothGradJoined(model, image, sg, shares(4, (s) => smoothGradShare(model, image, sg, s))).gradients.data).toEqual(smoothGrad(model, image, sg).gradients.data);
    const ig = { steps: 5, batchSize: 2 };
    expect(integratedGradientsJoined(model, image, ig, shares(2, (s) => integratedGradientsShare(model, image, ig, s))).gradients.data).toEqual(integratedGradients(model, image, ig).gradients.data);
  });

  it('refuses a bad share and shares that do not cover every channel, with typed errors', () => {
    const sc = { layer: '2', batchSize: 4 };
    expect(() => scoreCamShare(model, image, sc, { index: 2, of: 2 })).toThrow(ArgumentError);
    expect(() => scoreCamShare(model, image, sc, { index: 2, of: 2 })).toThrow(/a share must be \{ index, of \} with integers 0 <= index < of/);
    const half = scoreCamShare(model, image, sc, { index: 0, of: 2 });
    expect(() => scoreCamJoined(model, image, sc, [half])).toThrow(/the shares cover 8 of the 16 channels of layer '2'; give the scores of every share, each once/);
    expect(() => smoothGradJoined(model, image, {}, [new Float64Array(5)])).toThrow(/a share's sums hold 5 values; the input has 432/);
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
          } else if (message.step?.kind === 'share') {
            // A spread call: share 1 of an input starting with -1 dies; the others answer which share they ran.
            if (message.input.data[0] === -1 && message.step.index === 1) failed?.('exit code 9');
            else listener?.({ type: 'result', id: message.id, result: { share: message.step.index, of: message.step.of } });
          } else if (message.step?.kind === 'join') {
            listener?.({ type: 'result', id: message.id, result: message.step.shares });
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

  it('spreads one image of a spread method as one share per worker, joined in share order; a share that dies fails the call, the next is served', async () => {
    const { spawn, spawned } = fakeWorkers(['ready']);
    const pool = new WorkerPool({ workers: 3, model: spec, spawn });
    expect(await pool.explain('scoreCam', one(2))).toEqual([{ share: 0, of: 3 }, { share: 1, of: 3 }, { share: 2, of: 3 }]);
    // Not spread: a batch, a method without shares, augSmooth.
    expect(await pool.explain('gradCam', one(2))).toBe(2);
    expect(await pool.explain('scoreCam', one(2), { augSmooth: true })).toBe(2);
    const failure = await pool.explain('integratedGradients', one(-1)).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(WorkerError);
    expect((failure as WorkerError).workerErrorName).toBe('exit');
    expect((failure as Error).message).toMatch(/died \(exit code 9\); the pool has started a new one/);
    expect(spawned).toHaveLength(4);
    expect(await pool.explain('smoothGrad', one(5))).toHaveLength(3);
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

describe('input buffers handed back by the workers', () => {
  /** One stand-in worker that answers a task with its input's first value and hands the input's buffer back, as serveWorker does. */
  function handingBack(): { spawn: () => WorkerHandle; received: Float32Array[] } {
    const received: Float32Array[] = [];
    const spawn = (): WorkerHandle => {
      let listener: ((m: FromWorker) => void) | null = null;
      return {
        postMessage: (message: ToWorker) =>
          setTimeout(() => {
            if (message.type === 'init') return listener?.({ type: 'ready', backend: 'js' });
            received.push(message.input.data);
            listener?.({ type: 'result', id: message.id, result: message.input.data[0], input: message.input.data.buffer as ArrayBuffer });
          }, 1),
        onMessage: (l) => (listener = l),
        onFailure: () => {},
        terminate: () => {},
      };
    };
    return { spawn, received };
  }
  const ones = (n: number, v: number): Tensor => new Tensor(new Float32Array(n).fill(v), [1, n]);

  it('copies a later input of the same size into a handed-back buffer, another size into a fresh one, and keeps no more than it once had in flight', async () => {
    const { spawn, received } = handingBack();
    const pool = new WorkerPool({ workers: 1, model: spec, spawn });
    expect(await pool.run('gradCam', ones(4, 5))).toBe(5);
    const caller = ones(4, 7);
    expect(await pool.run('gradCam', caller)).toBe(7);
    expect(received[1]!.buffer).toBe(received[0]!.buffer);
    expect(Array.from(received[1]!)).toEqual([7, 7, 7, 7]);
    expect(caller.data.buffer).not.toBe(received[1]!.buffer); // the caller's own buffer never leaves
    expect(await pool.run('gradCam', ones(6, 2))).toBe(2);
    expect(received[2]!.buffer).not.toBe(received[0]!.buffer);
    // Three in flight at once (the one spare is of another size: dropped), so three are kept once they are back...
    await Promise.all([1, 2, 3].map((v) => pool.run('gradCam', ones(4, v))));
    const back = received.slice(3, 6).map((d) => d.buffer);
    expect(back.filter((b) => b === received[2]!.buffer || b === received[0]!.buffer)).toHaveLength(0);
    // ... and the next three reuse all of them, each holding its own input.
    await Promise.all([4, 5, 6].map((v) => pool.run('gradCam', ones(4, v))));
    const reused = received.slice(6).map((d) => d.buffer);
    expect(new Set(reused)).toEqual(new Set(back));
    expect(received.slice(6).map((d) => Array.from(d))).toEqual([4, 5, 6].map((v) => [v, v, v, v]));
    // One at a time again: the pool keeps the three (its peak), not more.
    await pool.run('gradCam', ones(4, 8));
    expect(back).toContain(received[9]!.buffer);
    pool.close();
  });

  it('serveWorker hands the input buffer back with the result, transferred', async () => {
    const { serveWorker } = await import('../src/parallel/worker.js');
    const replies: { message: FromWorker; transfer: ArrayBuffer[] | undefined }[] = [];
    let deliver: ((m: ToWorker) => void) | null = null;
    serveWorker({ postMessage: (message, transfer) => replies.push({ message, transfer }), onMessage: (l) => (deliver = l) });
    deliver!({ type: 'init', backend: getBackend(), model: { module: new URL('./helpers/pool-model.ts', import.meta.url).href, export: 'createModel' } });
    await expect.poll(() => replies.length).toBe(1);
    expect(replies[0]!.message.type).toBe('ready');
    const input = randn([2, 3, 12, 12], { seed: 8 });
    const data = input.data.slice();
    deliver!({ type: 'task', id: 1, method: 'gradCam', input: { __tensor: true, data, shape: [2, 3, 12, 12] }, options: { layer: '2' } });
    await expect.poll(() => replies.length).toBe(2);
    const { message, transfer } = replies[1]!;
    expect(message.type).toBe('result');
    if (message.type !== 'result') return;
    expect(message.input).toBe(data.buffer);
    expect(transfer).toContain(data.buffer);
    const direct = gradCam(model, input, { layer: '2' });
    expect((message.result as { maps: { data: Float32Array } }).maps.data).toEqual(direct.maps.data);
  });
});
