import { ACTIVE, CLOSED, FAILED, GEN, STOP, TASK, runShare, type GemmExports } from './thread-share.js';

/**
 * The helper side of the kernels' intra-op threads (./threads.ts): the
 * script of each helper thread calls `serveKernelThread` with its message
 * port (Node: worker_threads' parentPort, as tinycam/node's kernel thread
 * script does; a browser's Web Worker: `self`).
 *
 * The thread waits for one message (the kernels module, the shared memory,
 * where the control block is, its index), instantiates the module over that
 * memory, answers `ready`, and from then on never returns to its event loop:
 * it sleeps in Atomics.wait until the calling thread posts a task, joins it
 * (ACTIVE) unless the caller has already taken every unit (CLOSED), takes
 * units until none is left, leaves, and sleeps again, until STOP is set. The
 * caller waits only for helpers that joined, so one that the system wakes
 * late costs nothing.
 */
export interface KernelThreadScope {
  postMessage(message: unknown): void;
  on?(event: 'message', listener: (message: unknown) => void): unknown;
  addEventListener?(type: 'message', listener: (event: { data?: unknown }) => void): unknown;
}

/** The message that starts a helper. */
export interface KernelThreadStart {
  type: 'tinycam-kernel-thread';
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  /** Byte address of the control block. */
  control: number;
  /** This helper's thread index (1...threads-1; the caller is 0). */
  index: number;
  /** The task generation when the helper was started (tasks after it are its to run). */
  generation: number;
}

export function serveKernelThread(scope: KernelThreadScope): void {
  let started = false;
  const onMessage = (message: unknown): void => {
    const start = message as KernelThreadStart;
    if (started || start?.type !== 'tinycam-kernel-thread') return;
    started = true;
    let x: GemmExports;
    try {
      const instance = new WebAssembly.Instance(start.module, { env: { memory: start.memory } });
      x = instance.exports as unknown as GemmExports;
    } catch (e) {
      scope.postMessage({ type: 'failed', reason: e instanceof Error ? e.message : String(e) });
      return;
    }
    scope.postMessage({ type: 'ready' });
    // Let the reply go out before the loop blocks this thread for good.
    setTimeout(() => loop(x, start), 0);
  };
  if (scope.on) scope.on('message', onMessage);
  else if (scope.addEventListener) scope.addEventListener('message', (event) => onMessage(event.data));
  else throw new TypeError('serveKernelThread: pass the thread\'s message port (parentPort in Node, self in a Web Worker)');
}

function loop(x: GemmExports, start: KernelThreadStart): void {
  const buffer = start.memory.buffer;
  const header = new Int32Array(buffer, start.control, TASK);
  const task = new Uint32Array(buffer, start.control + TASK * 4);
  const bit = 1 << start.index;
  let seen = start.generation;
  for (;;) {
    Atomics.wait(header, GEN, seen);
    if (Atomics.load(header, STOP)) return;
    const gen = Atomics.load(header, GEN);
    if (gen === seen) continue;
    seen = gen;
    Atomics.add(header, ACTIVE, 1);
    // Joined before the caller closed this task (else stay out: it may be writing the next one).
    if (Atomics.load(header, CLOSED) !== gen && Atomics.load(header, GEN) === gen) {
      try {
        runShare(x, header, task, start.index);
      } catch {
        Atomics.or(header, FAILED, bit);
      }
    }
    if (Atomics.sub(header, ACTIVE, 1) === 1) Atomics.notify(header, ACTIVE);
  }
}
