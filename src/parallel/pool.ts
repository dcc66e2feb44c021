import { ArgumentError, TinycamError } from '../tensor/errors.js';
import { Tensor, shapeString } from '../tensor/tensor.js';
import { isSpreadMethod, revive, serialize, serializeOptions, type FromWorker, type ModelSpec, type SerializedTensor, type Step, type ToWorker } from './protocol.js';

/**
 * A pool of workers that each hold a copy of one model and run explanation
 * methods on parts of a batch: `pool.explain('gradCam', input, options)`
 * splits the images of `input` over the workers and joins their results in
 * order, so a batch of 8 runs on 2 cores in about half the time. One image
 * of a method that makes many passes over it (scoreCam, ablationCam,
 * smoothGrad, integratedGradients) has its passes spread instead: each
 * worker runs a share, one worker joins the shares (src/cam/shares.ts).
 *
 * The pool is platform-neutral: it talks to workers through `WorkerHandle`s
 * made by a spawner. `tinycam/node`'s createWorkerPool spawns Node
 * worker_threads; in browsers, pass a spawner around `new Worker(url, { type:
 * 'module' })` whose script calls serveWorker from 'tinycam/worker'.
 *
 * Faults: a worker that throws fails that call with a WorkerError carrying
 * the worker's error name and message; a worker that dies (exit, crash)
 * fails the call it was running with a WorkerError, and the pool starts a
 * new worker in its place, so the next call is served. A worker that cannot
 * start (its model does not build, or it dies before it is ready) is not
 * restarted, which would loop: it takes no calls, and once no worker can
 * serve, every call fails with that WorkerError instead of waiting forever.
 */

/** The most the pool keeps of input buffers handed back by its workers, in bytes. */
const SPARE_INPUT_BYTES = 64 * 2 ** 20;

/** A task a worker could not complete, or a worker that died while running it. */
export class WorkerError extends TinycamError {
  static override readonly typeName: string = 'WorkerError';
  /** The error's name inside the worker ('ShapeError', 'ArgumentError'…), or 'exit' when the worker died. */
  readonly workerErrorName: string;
  constructor(message: string, workerErrorName: string, code = 'E_WORKER') {
    super(code, message);
    this.workerErrorName = workerErrorName;
  }
}

/** The pool's view of one worker. */
export interface WorkerHandle {
  postMessage(message: ToWorker, transfer?: ArrayBuffer[]): void;
  /** Called with each message from the worker. */
  onMessage(listener: (message: FromWorker) => void): void;
  /** Called once when the worker dies or fails outside a task (uncaught error, exit). */
  onFailure(listener: (reason: string) => void): void;
  terminate(): void;
}

export interface WorkerPoolOptions {
  /** Number of workers (default 2). */
  workers?: number;
  /** How every worker builds its model. */
  model: ModelSpec;
  /** Kernels in the workers (default 'wasm', falling back to 'js'). */
  backend?: 'js' | 'wasm';
  /** Starts one worker. */
  spawn: () => WorkerHandle;
}

interface Slot {
  handle: WorkerHandle;
  ready: Promise<void>;
  busy: { id: number; reject: (e: Error) => void } | null;
  dead: boolean;
  /** Whether the worker has built its model. */
  started: boolean;
  /** Why the worker could not start (it then takes no calls). */
  failure: WorkerError | null;
}

/** What a method reports through its onProgress (the pool forwards it from the worker). */
export interface WorkerProgress {
  done: number;
  total: number;
  layer?: string;
}

interface Job {
  method: string;
  /** The input, already copied for the worker (at the call, so later writes to the caller's tensor do not reach it). */
  input: unknown;
  transfer: ArrayBuffer[];
  /** The options without onProgress, tensors serialized. */
  options: unknown;
  step: Step | undefined;
  onProgress: ((progress: WorkerProgress) => void) | undefined;
  resolve: (value: unknown) => void;
  reject: (e: Error) => void;
}

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  onProgress: ((progress: WorkerProgress) => void) | undefined;
  slot: Slot;
}

export class WorkerPool {
  readonly size: number;
  readonly #options: WorkerPoolOptions;
  readonly #slots: Slot[] = [];
  readonly #queue: Job[] = [];
  readonly #pending = new Map<number, Pending>();
  /**
   * Input buffers the workers handed back, for later inputs of the same size:
   * no more than the pool once had in flight at one time, and at most
   * SPARE_INPUT_BYTES, so it holds no more than its busiest moment did.
   */
  readonly #spareInputs: ArrayBuffer[] = [];
  #spareBytes = 0;
  #peakInFlight = 0;
  #nextId = 0;
  #closed = false;

  constructor(options: WorkerPoolOptions) {
    const size = options.workers ?? 2;
    if (!Number.isInteger(size) || size < 1) throw new ArgumentError(`WorkerPool: workers must be a positive integer; got ${size}`);
    this.size = size;
    this.#options = options;
    for (let i = 0; i < size; i++) this.#slots.push(this.#start());
  }

  /** Resolves once every worker has built its model. */
  async ready(): Promise<void> {
    await Promise.all(this.#slots.map((s) => s.ready));
  }

  #start(): Slot {
    const handle = this.#options.spawn();
    let resolveReady!: () => void;
    let rejectReady!: (e: Error) => void;
    const slot: Slot = {
      handle,
      ready: new Promise<void>((res, rej) => {
        resolveReady = res;
        rejectReady = rej;
      }),
      busy: null,
      dead: false,
      started: false,
      failure: null,
    };
    slot.ready.catch(() => {}); // observed through ready() and run()
    handle.onMessage((message) => {
      if (message.type === 'ready') {
        slot.started = true;
        resolveReady();
      } else if (message.type === 'init-failed') {
        slot.failure = new WorkerError(`WorkerPool: a worker could not build its model: ${message.message}`, 'init');
        rejectReady(slot.failure);
      } else if (message.type === 'progress') {
        const entry = this.#pending.get(message.id);
        try {
          entry?.onProgress?.(message.progress);
        } catch (e) {
          // The caller's onProgress threw: the call fails with its error, as it would on one thread (the worker finishes its task).
          entry?.reject(e as Error);
        }
      } else {
        const entry = this.#pending.get(message.id);
        if (!entry) return;
        this.#pending.delete(message.id);
        slot.busy = null;
        if (message.type === 'result') {
          if (message.input instanceof ArrayBuffer) this.#keepSpare(message.input);
          entry.resolve(revive(message.result));
        } else {
          entry.reject(new WorkerError(`${message.name}: ${message.message}`, message.name, message.code ?? 'E_WORKER'));
        }
        this.#pump();
      }
    });
    handle.onFailure((reason) => {
      if (slot.dead) return;
      slot.dead = true;
      // A worker that never started is not replaced: its replacement would most likely die the same way, in a loop.
      const restart = slot.started && !this.#closed;
      if (!slot.started) {
        slot.failure ??= new WorkerError(`WorkerPool: a worker died while starting (${reason})`, 'exit');
        rejectReady(slot.failure);
      }
      if (slot.busy) {
        this.#pending.delete(slot.busy.id);
        const next = restart ? 'the pool has started a new one' : 'it had not started, so it is not replaced';
        slot.busy.reject(new WorkerError(`WorkerPool: the worker running this call died (${reason}); ${next}`, 'exit'));
        slot.busy = null;
      }
      handle.terminate();
      // Keep serving: a fresh worker takes the dead one's place.
      if (restart) {
        const index = this.#slots.indexOf(slot);
        if (index >= 0) this.#slots[index] = this.#start();
      }
      this.#pump();
    });
    handle.postMessage({ type: 'init', model: this.#options.model, backend: this.#options.backend ?? 'wasm' });
    return slot;
  }

  /**
   * Run one method on one input in some worker (the whole call, whatever
   * the method). An `onProgress` option stays here and is called with the
   * worker's progress.
   */
  run(method: string, input: Tensor, options: unknown = {}): Promise<unknown> {
    const { onProgress, rest } = splitProgress(options);
    return this.#submit(method, input, rest, undefined, onProgress);
  }

  #submit(method: string, input: Tensor, options: unknown, step: Step | undefined, onProgress: ((p: WorkerProgress) => void) | undefined): Promise<unknown> {
    if (this.#closed) return Promise.reject(new ArgumentError('WorkerPool: the pool is closed'));
    const transfer: ArrayBuffer[] = [];
    const serialized = input instanceof Tensor ? this.#copyInput(input, transfer) : serialize(input, transfer);
    // Tensors in the options (a baseline) cross as data too; their copies are transferred.
    const sentOptions = serializeOptions(options, transfer);
    return new Promise((resolve, reject) => {
      this.#queue.push({ method, input: serialized, transfer, options: sentOptions, step, onProgress, resolve, reject });
      this.#peakInFlight = Math.max(this.#peakInFlight, this.#queue.length + this.#pending.size);
      this.#pump();
    });
  }

  /**
   * The input as the worker gets it: a copy, into a buffer a worker handed
   * back when one has its size. (A fresh buffer of a batch's size costs this
   * thread its page faults: 4.8 MB for 8 images of 224x224, 16-25 ms of CPU
   * on the VM of bench/RESULTS.md against 0.5 ms for the copy alone.)
   */
  #copyInput(input: Tensor, transfer: ArrayBuffer[]): unknown {
    const at = this.#spareInputs.findIndex((b) => b.byteLength === input.data.byteLength);
    // None of this size: the sizes in use have changed, so the oldest spare goes.
    if (at < 0) {
      if (this.#spareInputs.length > 0) this.#spareBytes -= this.#spareInputs.shift()!.byteLength;
      return serialize(input, transfer);
    }
    const buffer = this.#spareInputs.splice(at, 1)[0]!;
    this.#spareBytes -= buffer.byteLength;
    const data = new Float32Array(buffer);
    data.set(input.data);
    transfer.push(buffer);
    return { __tensor: true, data, shape: [...input.shape] } satisfies SerializedTensor;
  }

  #keepSpare(buffer: ArrayBuffer): void {
    this.#spareInputs.push(buffer);
    this.#spareBytes += buffer.byteLength;
    while (this.#spareInputs.length > this.#peakInFlight || this.#spareBytes > SPARE_INPUT_BYTES) {
      this.#spareBytes -= this.#spareInputs.shift()!.byteLength;
    }
  }

  #pump(): void {
    if (this.#closed) return;
    for (const slot of this.#slots) {
      if (slot.busy || slot.dead || slot.failure || this.#queue.length === 0) continue;
      const job = this.#queue.shift()!;
      const id = this.#nextId++;
      slot.busy = { id, reject: job.reject };
      this.#pending.set(id, { resolve: job.resolve, reject: job.reject, onProgress: job.onProgress, slot });
      slot.ready.then(
        () => {
          try {
            const task: ToWorker = { type: 'task', id, method: job.method, input: job.input as never, options: job.options, progress: job.onProgress !== undefined };
            if (job.step) task.step = job.step;
            slot.handle.postMessage(task, job.transfer);
          } catch (e) {
            // Options that cannot be cloned (a target function): refuse, the worker stays.
            this.#pending.delete(id);
            slot.busy = null;
            job.reject(new ArgumentError(`WorkerPool: the options of ${job.method} cannot be sent to a worker (${(e as Error).message}); use plain data: layer names, class indices`));
            this.#pump();
          }
        },
        (e: Error) => {
          this.#pending.delete(id);
          if (slot.busy?.id === id) slot.busy = null;
          job.reject(e);
          this.#pump();
        },
      );
    }
    // No worker can ever run what is queued: every one failed to start.
    const failure = this.#slots.every((s) => s.failure) ? this.#slots[0]?.failure : null;
    if (failure) for (const job of this.#queue.splice(0)) job.reject(failure);
  }

  /**
   * Explain a batch: its images are split into `size` contiguous parts, one
   * per worker, and the results are joined in image order (tensors along
   * axis 0, per-image lists concatenated).
   *
   * One image (input [1, ...]) of scoreCam, ablationCam, smoothGrad or
   * integratedGradients, with more than one worker and no augSmooth, is
   * spread instead: the method's forward passes (masks, ablated channels,
   * noisy samples, path points) are split into `size` contiguous shares of
   * whole passes, each worker runs one, and one worker joins them into the
   * method's result (extra work: one forward pass of the image per worker). Score-CAM
   * and Ablation-CAM give the single-thread result bit for bit; SmoothGrad
   * and integrated gradients draw the same noise and path points and differ
   * only by the order of their float64 sums.
   *
   * `onProgress` (Score-CAM, Ablation-CAM) is called here with the parts'
   * progress added, once every part has reported.
   */
  async explain<R = unknown>(method: string, input: Tensor, options: Record<string, unknown> = {}): Promise<R> {
    if (!(input instanceof Tensor) || input.ndim < 1 || input.shape[0]! < 1) {
      throw new ArgumentError(`WorkerPool.explain: input must be a Tensor holding at least one image, [N >= 1, ...]; got ${input instanceof Tensor ? `shape ${shapeString(input.shape)}` : String(input)}`);
    }
    const n = input.shape[0]!;
    const { onProgress, rest } = splitProgress(options);
    if (n === 1 && this.size > 1 && isSpreadMethod(method) && !rest.augSmooth) return (await this.#spread(method, input, rest, onProgress)) as R;
    const parts = Math.min(this.size, n);
    const progress = joinProgress(parts, onProgress);
    const per = input.size / n;
    const jobs: Promise<unknown>[] = [];
    let start = 0;
    for (let p = 0; p < parts; p++) {
      const count = Math.floor(n / parts) + (p < n % parts ? 1 : 0);
      const target = rest.target;
      const partOptions = Array.isArray(target) ? { ...rest, target: target.slice(start, start + count) } : rest;
      // A view: serialize() copies it once into the buffer that is transferred.
      const part = new Tensor(input.data.subarray(start * per, (start + count) * per), [count, ...input.shape.slice(1)]);
      jobs.push(this.#submit(method, part, partOptions, undefined, progress.part(p)).finally(() => progress.finished(p)));
      start += count;
    }
    const results = await Promise.all(jobs);
    return results.reduce((a, b) => join(a, b)) as R;
  }

  /** One image's passes in `size` shares, one per worker, then their join in one worker. */
  async #spread(method: string, input: Tensor, options: Record<string, unknown>, onProgress: ((p: WorkerProgress) => void) | undefined): Promise<unknown> {
    const of = this.size;
    const progress = joinProgress(of, onProgress);
    const shares = await Promise.all(
      Array.from({ length: of }, (_, index) => this.#submit(method, input, options, { kind: 'share', index, of }, progress.part(index)).finally(() => progress.finished(index))),
    );
    return this.#submit(method, input, options, { kind: 'join', shares }, undefined);
  }

  /** Stop every worker; pending calls fail. */
  close(): void {
    this.#closed = true;
    this.#spareInputs.length = 0;
    this.#spareBytes = 0;
    for (const slot of this.#slots) {
      slot.dead = true;
      slot.handle.terminate();
    }
    for (const [, entry] of this.#pending) entry.reject(new WorkerError('WorkerPool: closed while the call was running', 'closed'));
    this.#pending.clear();
    for (const job of this.#queue.splice(0)) job.reject(new WorkerError('WorkerPool: closed before the call ran', 'closed'));
  }
}

/** The options without onProgress, and the onProgress (when a function). */
function splitProgress(options: unknown): { onProgress: ((p: WorkerProgress) => void) | undefined; rest: Record<string, unknown> } {
  if (!options || typeof options !== 'object') return { onProgress: undefined, rest: (options ?? {}) as Record<string, unknown> };
  const { onProgress, ...rest } = options as Record<string, unknown>;
  return { onProgress: typeof onProgress === 'function' ? (onProgress as (p: WorkerProgress) => void) : undefined, rest: onProgress === undefined || typeof onProgress === 'function' ? rest : (options as Record<string, unknown>) };
}

/**
 * The progress of `parts` parts of one call, added: each part reports its
 * own done / total; the caller hears the sums once every part has reported
 * (or finished), so the total it sees is the call's whole total.
 */
function joinProgress(parts: number, onProgress: ((p: WorkerProgress) => void) | undefined) {
  const done = new Array<number>(parts).fill(0);
  const total = new Array<number>(parts).fill(0);
  const heard = new Array<boolean>(parts).fill(false);
  let layer: string | undefined;
  const sum = (v: number[]): number => v.reduce((a, b) => a + b, 0);
  const emit = (): void => {
    if (heard.every(Boolean)) onProgress!(layer === undefined ? { done: sum(done), total: sum(total) } : { done: sum(done), total: sum(total), layer });
  };
  return {
    part: (p: number) =>
      onProgress &&
      ((progress: WorkerProgress): void => {
        done[p] = progress.done;
        total[p] = progress.total;
        layer = progress.layer;
        heard[p] = true;
        emit();
      }),
    /** A part that ran no pass never reports: its end counts as its report. */
    finished: (p: number): void => {
      if (!onProgress || heard[p]) return;
      heard[p] = true;
      if (total.some((t) => t > 0)) emit();
    },
  };
}

/** Join two results of consecutive parts of a batch. */
function join(a: unknown, b: unknown): unknown {
  if (a instanceof Tensor && b instanceof Tensor) {
    const data = new Float32Array(a.size + b.size);
    data.set(a.data);
    data.set(b.data, a.size);
    return new Tensor(data, [a.shape[0]! + b.shape[0]!, ...a.shape.slice(1)]);
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length > 0 && typeof a[0] === 'object' && a[0] !== null) return a.map((x, i) => join(x, b[i]));
    return [...a, ...b];
  }
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(a)) out[key] = join((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key]);
    return out;
  }
  return a;
}
