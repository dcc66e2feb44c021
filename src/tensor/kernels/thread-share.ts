/**
 * What the calling thread and its helper threads (./threads.ts,
 * ./thread-serve.ts) share: the control block's layout in the kernels'
 * shared memory, and the one function every thread runs on a task, its
 * share of a batch of GEMMs.
 *
 * A task is `count` GEMMs of one shape, C_g[m x n] (+)= op(A_g) op(B_g), the
 * g-th at fixed byte steps from the first (Winograd's 16 or 36 products,
 * or one im2col product). Each GEMM is cut along its columns (or rows) into
 * `chunks` pieces of `chunk` columns (rows): U = count*chunks units, which
 * the threads take one at a time from a shared counter (NEXT), so a thread
 * that the system schedules late (a busy machine) does fewer and nobody
 * waits long for it. A piece is a GEMM of its own over the same K, summed in
 * the same order, whichever thread runs it: the split result equals the
 * one-thread result bit for bit.
 */

/** Int32 words of the control block's header. */
export const GEN = 0; // task generation: the caller bumps it, helpers wait on it
export const ACTIVE = 1; // helpers inside the current task (the caller waits for these only)
export const FAILED = 2; // bit t set: helper t threw (its message goes nowhere; the caller reports)
export const STOP = 3; // set: helpers leave their loop
export const NEXT = 4; // the next unit to take
export const CLOSED = 5; // the generation whose units are all taken: a helper that wakes later stays out
/** The task, as uint32 words from TASK on. */
export const TASK = 8;
export const OP = 0; // 0: gemm, 1: gemmPackedA (A packed by packAll)
export const COUNT = 1;
export const M = 2;
export const N = 3;
export const K = 4;
export const A = 5;
export const A_ROW = 6;
export const A_COL = 7;
export const A_STEP = 8;
export const B = 9;
export const B_ROW = 10;
export const B_COL = 11;
export const B_STEP = 12;
export const C = 13;
export const LDC = 14;
export const C_STEP = 15;
export const ACCUMULATE = 16;
export const BY_ROWS = 17;
export const CHUNK = 18;
export const CHUNKS = 19;
export const WORK = 20;
export const WORK_STEP = 21;
export const THREADS = 22;
const TASK_WORDS = 23;
/** Bytes the control block takes at the start of the kernels' heap. */
export const CONTROL_BYTES = Math.ceil(((TASK + TASK_WORDS) * 4) / 64) * 64;

/** The two kernels a share calls (wasm/assembly/gemm.ts; byte addresses, strides in elements). */
export interface GemmExports {
  gemm(
    m: number, n: number, k: number,
    a: number, aRow: number, aCol: number,
    b: number, bRow: number, bCol: number,
    c: number, ldc: number, accumulate: number, work: number,
  ): void;
  gemmPackedA(m: number, n: number, k: number, packed: number, b: number, bRow: number, bCol: number, c: number, ldc: number, accumulate: number, work: number): void;
}

/** What a batch of `count` GEMMs of one shape needs (byte addresses; strides in elements; steps in bytes between GEMMs). */
export interface GemmBatch {
  packedA: boolean;
  count: number;
  m: number; n: number; k: number;
  a: number; aRow: number; aCol: number; aStep: number;
  b: number; bRow: number; bCol: number; bStep: number;
  c: number; ldc: number; cStep: number;
  accumulate: boolean;
  /** Scratch: `threads` areas of `workStep` bytes from `work`. */
  work: number; workStep: number;
}

/** One batch of GEMMs on the calling thread alone, as ./threads.ts runs it when it does not split (and the one-thread kernels always). */
export function serialGemms(x: GemmExports, batch: GemmBatch): void {
  const acc = batch.accumulate ? 1 : 0;
  for (let g = 0; g < batch.count; g++) {
    const a = batch.a + g * batch.aStep;
    const b = batch.b + g * batch.bStep;
    const c = batch.c + g * batch.cStep;
    if (batch.packedA) x.gemmPackedA(batch.m, batch.n, batch.k, a, b, batch.bRow, batch.bCol, c, batch.ldc, acc, batch.work);
    else x.gemm(batch.m, batch.n, batch.k, a, batch.aRow, batch.aCol, b, batch.bRow, batch.bCol, c, batch.ldc, acc, batch.work);
  }
}

/**
 * Run units of the task in `task` (uint32 words; `task[i]` is word TASK + i
 * of the control block) as thread `t` (its scratch), taking them from the
 * header's NEXT counter until none is left.
 */
export function runShare(x: GemmExports, header: Int32Array, task: Uint32Array, t: number): void {
  const count = task[COUNT]!;
  const chunks = task[CHUNKS]!;
  const units = count * chunks;
  const m = task[M]!, n = task[N]!, k = task[K]!;
  const aRow = task[A_ROW]!, aCol = task[A_COL]!, bRow = task[B_ROW]!, bCol = task[B_COL]!, ldc = task[LDC]!;
  const accumulate = task[ACCUMULATE]!;
  const packed = task[OP] === 1;
  const byRows = task[BY_ROWS] === 1;
  const chunk = task[CHUNK]!;
  const work = task[WORK]! + t * task[WORK_STEP]!;
  for (;;) {
    const u = Atomics.add(header, NEXT, 1);
    if (u >= units) return;
    const g = Math.floor(u / chunks);
    const start = (u - g * chunks) * chunk;
    const length = byRows ? m : n;
    if (start >= length) continue;
    const size = Math.min(chunk, length - start);
    let a = task[A]! + g * task[A_STEP]!;
    let b = task[B]! + g * task[B_STEP]!;
    let c = task[C]! + g * task[C_STEP]!;
    if (byRows) {
      // Packed A: panels of 4 rows over all K, so rows from `start` (a multiple of 4) begin at start*k floats.
      a += (packed ? start * k : start * aRow) * 4;
      c += start * ldc * 4;
    } else {
      b += start * bCol * 4;
      c += start * 4;
    }
    const rows = byRows ? size : m;
    const cols = byRows ? n : size;
    if (packed) x.gemmPackedA(rows, cols, k, a, b, bRow, bCol, c, ldc, accumulate, work);
    else x.gemm(rows, cols, k, a, aRow, aCol, b, bRow, bCol, c, ldc, accumulate, work);
  }
}
