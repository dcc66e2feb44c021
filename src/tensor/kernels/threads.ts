import type { KernelThreadStart } from './thread-serve.js';
import {
  A, ACCUMULATE, A_COL, A_ROW, A_STEP, B, BY_ROWS, B_COL, B_ROW, B_STEP, C, CHUNK, CHUNKS, COUNT, C_STEP, ACTIVE, CLOSED, FAILED, GEN, K,
  LDC, M, N, NEXT, OP, STOP, TASK, THREADS, WORK, WORK_STEP, runShare, serialGemms, type GemmBatch, type GemmExports,
} from './thread-share.js';

/**
 * Intra-op threads for the WebAssembly kernels: one convolution's GEMMs split
 * over the calling thread and `threads - 1` helper threads, all running the
 * same kernels module over one shared WebAssembly memory (as tfjs-wasm and
 * XNNPACK do with pthreads). The calling thread writes a task into the
 * control block (./thread-share.ts), wakes the helpers (Atomics.notify),
 * runs its own share, and waits (Atomics.wait) for theirs. Calls stay
 * synchronous; the split is by output rows or columns, so results are the
 * one-thread results bit for bit.
 *
 * Atomics.wait needs a thread that may block: Node's main thread and workers,
 * a browser's Web Workers, not a browser's main thread. Shared memory needs
 * SharedArrayBuffer: in browsers, a cross-origin isolated page (COOP
 * same-origin, COEP require-corp).
 */

/** A helper thread as the spawner returns it: a Node worker_threads Worker or a Web Worker (or a wrapper of either). */
export interface KernelThread {
  postMessage(message: unknown): void;
  terminate(): unknown;
  /** Node style (worker_threads): 'message' gives the data, 'error' an Error, 'exit' the code. */
  on?(event: 'message' | 'error' | 'exit', listener: (value: unknown) => void): unknown;
  /** Web style: 'message' gives a MessageEvent, 'error' an ErrorEvent (a Web Worker is a KernelThread as it is). */
  addEventListener?(type: 'message' | 'error', listener: (event: { data?: unknown; message?: string }) => void): unknown;
}

/**
 * Starts one helper thread running `serveKernelThread` (tinycam/node's
 * `spawnKernelThread`; in a browser, a function that starts a Web Worker
 * whose script calls `serveKernelThread(self)`).
 */
export type KernelThreadSpawner = () => KernelThread;

/** Below this many multiply-adds a batch of GEMMs runs on the calling thread alone: waking helpers costs more than they save. */
export const MIN_SPLIT_MACS = 1 << 21;
/** Pieces of a split: about this many per thread (so a late thread holds nobody up long)... */
const UNITS_PER_THREAD = 4;
/** ...but none below this many multiply-adds (each piece packs its share of A or B again). */
const MIN_UNIT_MACS = 1 << 18;
/** The longest a caller waits for its helpers past its own share: this many times its share, and at least HELPER_WAIT_MS. */
const HELPER_WAIT_FACTOR = 100;
const HELPER_WAIT_MS = 10_000;
/** The longest a helper may take to start (compile, instantiate, answer). */
export const START_TIMEOUT_MS = 20_000;

export class KernelThreadTeam {
  readonly threads: number;
  readonly #x: GemmExports;
  readonly #header: Int32Array;
  readonly #task: Uint32Array;
  readonly #helpers: KernelThread[];
  readonly #warn: (message: string) => void;
  readonly #error: (message: string) => Error;
  #broken: string | null = null;
  #closed = false;
  #splitTasks = 0;

  /**
   * `error` makes the error a call throws when a helper fails while it waits
   * (setBackend passes a TinycamError of code E_KERNEL_THREAD; this module
   * imports nothing of the core, see ./wasm-shared.ts for why).
   */
  constructor(x: GemmExports, memory: WebAssembly.Memory, control: number, helpers: KernelThread[], warn: (message: string) => void, error: (message: string) => Error) {
    this.#x = x;
    this.#header = new Int32Array(memory.buffer, control, TASK);
    this.#task = new Uint32Array(memory.buffer, control + TASK * 4);
    this.#helpers = helpers;
    this.threads = helpers.length + 1;
    this.#warn = warn;
    this.#error = error;
  }

  /** Whether the helpers serve (false once closed, or after a helper failed: calls then run on one thread). */
  get active(): boolean {
    return this.#broken === null && !this.#closed;
  }

  /** Batches of GEMMs run split so far (tests check that a split happened at all). */
  get splitTasks(): number {
    return this.#splitTasks;
  }

  /** A helper died or failed: later calls run on the calling thread alone (one notice). */
  markBroken(reason: string): void {
    if (this.#broken !== null || this.#closed) return;
    this.#broken = reason;
    this.#warn(`tinycam: a kernel thread failed (${reason}); the WebAssembly kernels continue on one thread`);
    this.#stopHelpers();
  }

  /** Run a batch of GEMMs, split over the threads when it is large enough. */
  gemms(batch: GemmBatch): void {
    const { count, m, n, k } = batch;
    const T = this.threads;
    const byRows = m > n;
    const length = byRows ? m : n;
    // Rows in whole panels of 4 (the packed A's layout), columns in whole panels of 8 (the micro-kernel's width).
    const align = byRows ? 4 : 8;
    if (!this.active || count * m * n * k < MIN_SPLIT_MACS) return serialGemms(this.#x, batch);
    const perGemm = Math.max(1, Math.min(Math.ceil((UNITS_PER_THREAD * T) / count), Math.floor(length / align), Math.floor((m * n * k) / MIN_UNIT_MACS)));
    const chunk = Math.ceil(Math.ceil(length / perGemm) / align) * align;
    const chunks = Math.ceil(length / chunk);
    if (count * chunks < 2) return serialGemms(this.#x, batch);
    const t = this.#task;
    t[OP] = batch.packedA ? 1 : 0;
    t[COUNT] = count;
    t[M] = m;
    t[N] = n;
    t[K] = k;
    t[A] = batch.a;
    t[A_ROW] = batch.aRow;
    t[A_COL] = batch.aCol;
    t[A_STEP] = batch.aStep;
    t[B] = batch.b;
    t[B_ROW] = batch.bRow;
    t[B_COL] = batch.bCol;
    t[B_STEP] = batch.bStep;
    t[C] = batch.c;
    t[LDC] = batch.ldc;
    t[C_STEP] = batch.cStep;
    t[ACCUMULATE] = batch.accumulate ? 1 : 0;
    t[BY_ROWS] = byRows ? 1 : 0;
    t[CHUNK] = chunk;
    t[CHUNKS] = chunks;
    t[WORK] = batch.work;
    t[WORK_STEP] = batch.workStep;
    t[THREADS] = T;
    const h = this.#header;
    this.#splitTasks++;
    Atomics.store(h, FAILED, 0);
    Atomics.store(h, NEXT, 0);
    // The atomic store orders the task words above before it for the helpers that see it.
    const gen = (Atomics.load(h, GEN) + 1) | 0;
    Atomics.store(h, GEN, gen);
    Atomics.notify(h, GEN);
    const started = Date.now();
    runShare(this.#x, h, t, 0);
    // Every unit is taken: helpers that wake from now on stay out; wait for those inside.
    Atomics.store(h, CLOSED, gen);
    const limit = Math.max(HELPER_WAIT_MS, HELPER_WAIT_FACTOR * (Date.now() - started));
    for (;;) {
      const active = Atomics.load(h, ACTIVE);
      if (active === 0) break;
      const left = limit - (Date.now() - started);
      if (left <= 0 || Atomics.wait(h, ACTIVE, active, left) === 'timed-out') {
        const reason = `${Atomics.load(h, ACTIVE)} of ${T - 1} helper threads did not finish their units within ${Math.round(limit)} ms`;
        this.markBroken(reason);
        throw this.#error(`kernel threads: ${reason}; this call's result is not given, later calls run on one thread`);
      }
    }
    const failed = Atomics.load(h, FAILED);
    if (failed !== 0) {
      const reason = `helper thread(s) ${[...Array(T).keys()].filter((i) => failed & (1 << i)).join(', ')} threw while running their share`;
      this.markBroken(reason);
      throw this.#error(`kernel threads: ${reason}; this call's result is not given, later calls run on one thread`);
    }
  }

  #stopHelpers(): void {
    Atomics.store(this.#header, STOP, 1);
    Atomics.add(this.#header, GEN, 1);
    Atomics.notify(this.#header, GEN);
    for (const helper of this.#helpers) {
      try {
        void Promise.resolve(helper.terminate()).catch(() => {});
      } catch {
        // already gone
      }
    }
  }

  /** Stop and end the helper threads; later calls run on the calling thread alone. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#broken === null) this.#stopHelpers();
  }
}

/** Whether this thread may block in Atomics.wait (not a browser's main thread), and SharedArrayBuffer exists. */
export function threadSupport(): 'ok' | 'no-shared-memory' | 'cannot-block' {
  if (typeof SharedArrayBuffer !== 'function' || typeof Atomics !== 'object') return 'no-shared-memory';
  try {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0);
    return 'ok';
  } catch {
    return 'cannot-block';
  }
}

/** A shared memory for the kernels: the module's largest (4 GiB), else 1 GiB where address space is tight. */
export function sharedMemory(maximumPages: number): WebAssembly.Memory {
  try {
    return new WebAssembly.Memory({ initial: 1, maximum: maximumPages, shared: true });
  } catch {
    return new WebAssembly.Memory({ initial: 1, maximum: Math.min(maximumPages, 16384), shared: true });
  }
}

/** Spawn `threads - 1` helpers over `memory` and wait until each has instantiated the module; throws (and ends them) if one does not. */
export async function startKernelThreads(options: {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  exports: GemmExports;
  control: number;
  threads: number;
  spawn: KernelThreadSpawner;
  warn: (message: string) => void;
  error: (message: string) => Error;
  timeoutMs?: number;
}): Promise<KernelThreadTeam> {
  const { memory, control, threads, spawn } = options;
  const helpers: KernelThread[] = [];
  const timers: ReturnType<typeof setTimeout>[] = [];
  let team: KernelThreadTeam | null = null;
  const endAll = (): void => {
    for (const timer of timers) clearTimeout(timer);
    for (const h of helpers) {
      try {
        void Promise.resolve(h.terminate()).catch(() => {});
      } catch {
        // already gone
      }
    }
  };
  try {
    const ready = [];
    for (let index = 1; index < threads; index++) {
      const helper = spawn();
      helpers.push(helper);
      ready.push(
        new Promise<void>((resolve, reject) => {
          const timeout = options.timeoutMs ?? START_TIMEOUT_MS;
          const timer = setTimeout(() => reject(new Error(`helper thread ${index} did not start within ${timeout} ms`)), timeout);
          timers.push(timer);
          const settle = (error: string | null): void => {
            clearTimeout(timer);
            if (error === null) resolve();
            else reject(new Error(error));
          };
          const onMessage = (data: unknown): void => {
            const m = data as { type?: string; reason?: string } | null;
            if (m?.type === 'ready') settle(null);
            else if (m?.type === 'failed') settle(`helper thread ${index} could not instantiate the kernels: ${m.reason ?? 'unknown'}`);
          };
          const onFailure = (reason: string): void => {
            const message = `helper thread ${index}: ${reason}`;
            if (team) team.markBroken(message);
            else settle(message);
          };
          if (helper.on) {
            helper.on('message', onMessage);
            helper.on('error', (e) => onFailure(`uncaught ${(e as Error)?.name}: ${(e as Error)?.message}`));
            helper.on('exit', (code) => onFailure(`exited (code ${String(code)})`));
          } else if (helper.addEventListener) {
            helper.addEventListener('message', (e) => onMessage(e.data));
            helper.addEventListener('error', (e) => onFailure(`uncaught error: ${e?.message ?? 'unknown'}`));
          } else {
            settle('the spawner returned no worker (it has neither on() nor addEventListener())');
          }
        }),
      );
      const start: KernelThreadStart = { type: 'tinycam-kernel-thread', module: options.module, memory, control, index, generation: 0 };
      helper.postMessage(start);
    }
    await Promise.all(ready);
  } catch (e) {
    endAll();
    throw e;
  }
  team = new KernelThreadTeam(options.exports, memory, control, helpers, options.warn, options.error);
  return team;
}
