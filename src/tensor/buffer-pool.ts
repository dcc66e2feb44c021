import { ArgumentError } from './errors.js';

/**
 * Activation buffers that a forward pass has finished with, kept for the
 * next activation of the same length.
 *
 * Why: a CAM's forward pass up to its layer makes one fresh Float32Array
 * per convolution (91 MB for a batch of 8 through ResNet-18), reads it once
 * and drops it. Fresh buffers are zeroed pages the process must fault in,
 * and dropped ones are what V8's garbage collector spends its background
 * threads on (about one full mark-compact per batch, triggered by external
 * memory). The same lengths come back at every call, so the buffers can.
 *
 * Who gives: only code that knows nothing else can see a buffer any more
 * (layers/recycling.ts between stock modules, layers/graphRecycling.ts in a
 * graph run: when nothing records a gradient and no module involved has a
 * hook). Who takes: ops that write every element of their output (conv2d,
 * max pooling, ReLU, ReLU6, batch norm, same-shape add), through
 * bufferToOverwrite, so a recycled buffer's old values never show. A buffer is either in the pool or in use,
 * never both: takeBuffer removes it, and a buffer given back twice is kept once.
 *
 * The pool holds at most `limitBytes` (default 64 MiB); past that, recycled
 * buffers are dropped for the garbage collector as before, unless what it
 * holds has gone stale (see STALE_REFUSALS). Per thread: each
 * worker has its own.
 */

export interface BufferPoolStats {
  /** Bytes the pool holds now. */
  heldBytes: number;
  /** The most it will hold. */
  limitBytes: number;
  /** Buffers handed out again instead of allocated. */
  reused: number;
  /** Buffers given back and kept. */
  kept: number;
  /** Buffers given back and dropped (the pool was full, or they were not whole buffers). */
  dropped: number;
  /** Times the pool let go of everything it held because none of it was asked for while it refused others. */
  stale: number;
}

const DEFAULT_LIMIT_BYTES = 64 * 2 ** 20;

const free = new Map<number, Float32Array<ArrayBuffer>[]>();
// What the pool holds, to refuse a buffer given back twice (two later takers would then share it).
let held = new WeakSet<ArrayBuffer>();
let limitBytes = DEFAULT_LIMIT_BYTES;
let heldBytes = 0;
const counts = { reused: 0, kept: 0, dropped: 0, stale: 0 };

// Buffers refused for want of room since the pool last handed one out. A pool that keeps refusing
// while nothing it holds is asked for holds sizes of the past (a service that went from batches
// of 8 to single images): past STALE_REFUSALS it lets go of them, and the sizes in use take over.
// A working set larger than the limit still hits at every call, so it never gets that far.
const STALE_REFUSALS = 64;
let refusedSinceHit = 0;

/** A buffer of exactly `length` floats with arbitrary contents, or null when the pool has none. */
export function takeBuffer(length: number): Float32Array<ArrayBuffer> | null {
  const list = free.get(length);
  const buffer = list?.pop();
  if (!buffer) return null;
  if (list!.length === 0) free.delete(length);
  held.delete(buffer.buffer);
  heldBytes -= buffer.byteLength;
  counts.reused++;
  refusedSinceHit = 0;
  return buffer;
}

/** An output buffer of `length` floats whose every element the caller will write: a recycled one when the pool has it, else a fresh one. */
export function bufferToOverwrite(length: number): Float32Array<ArrayBuffer> {
  return takeBuffer(length) ?? new Float32Array(length);
}

/** A zero-filled buffer of `length` floats (for kernels that add into their output): a recycled one cleared, else a fresh one. */
export function zeroedBuffer(length: number): Float32Array<ArrayBuffer> {
  return takeBuffer(length)?.fill(0) ?? new Float32Array(length);
}

/**
 * Give back a buffer nothing will read or write again. Only whole, unshared
 * buffers are kept (a view into a bigger one would carry that one along).
 */
export function recycleBuffer(buffer: Float32Array): void {
  const whole =
    buffer.buffer instanceof ArrayBuffer && buffer.byteOffset === 0 && buffer.byteLength === buffer.buffer.byteLength && buffer.length > 0;
  if (whole && heldBytes > 0 && heldBytes + buffer.byteLength > limitBytes && ++refusedSinceHit > STALE_REFUSALS) {
    releaseBuffers();
    counts.stale++;
  }
  if (!whole || heldBytes + buffer.byteLength > limitBytes || held.has(buffer.buffer as ArrayBuffer)) {
    counts.dropped++;
    return;
  }
  held.add(buffer.buffer as ArrayBuffer);
  const list = free.get(buffer.length);
  if (list) list.push(buffer as Float32Array<ArrayBuffer>);
  else free.set(buffer.length, [buffer as Float32Array<ArrayBuffer>]);
  heldBytes += buffer.byteLength;
  counts.kept++;
}

/** What the pool holds and has done since the process (or worker) started. */
export function bufferPoolStats(): BufferPoolStats {
  return { heldBytes, limitBytes, ...counts };
}

/**
 * Set the most the pool may hold, in bytes (0 turns it off); buffers over the
 * new limit are let go at once. Returns the previous limit.
 */
export function setBufferPoolLimit(bytes: number): number {
  if (!(typeof bytes === 'number' && Number.isFinite(bytes) && bytes >= 0)) {
    throw new ArgumentError(`setBufferPoolLimit: bytes must be a finite number >= 0 (0 turns the pool off); got ${String(bytes)}`);
  }
  const previous = limitBytes;
  limitBytes = bytes;
  if (heldBytes > limitBytes) releaseBuffers();
  return previous;
}

/** Let go of every buffer the pool holds (the garbage collector then frees them). */
export function releaseBuffers(): void {
  free.clear();
  held = new WeakSet();
  refusedSinceHit = 0;
  heldBytes = 0;
}
