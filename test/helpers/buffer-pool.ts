import { afterEach, beforeEach, expect } from 'vitest';
import { grad } from '../../src/tensor/autograd.js';
import { setBackend } from '../../src/tensor/backend.js';
import { bufferPoolStats, recycleBuffer, releaseBuffers, setBufferPoolLimit, takeBuffer } from '../../src/tensor/buffer-pool.js';
import { sum } from '../../src/tensor/ops/reduce.js';
import type { Tensor } from '../../src/tensor/tensor.js';

/**
 * What the buffer-pool suites (layers.recycling, onnx.recycling,
 * tfjs.recycling) share: a
 * fresh pool at its default limit around each test, runs with the pool off
 * as the reference, and NaN-filled buffers so that a recycled buffer read
 * before it is written, or given back while still read, shows.
 */

export const POOL_LIMIT = 64 * 2 ** 20;

/** Each test starts and ends with an empty pool at its default limit, on the JS kernels. */
export function freshPoolPerTest(): void {
  beforeEach(() => {
    releaseBuffers();
    setBufferPoolLimit(POOL_LIMIT);
  });
  afterEach(async () => {
    setBufferPoolLimit(POOL_LIMIT);
    releaseBuffers();
    await setBackend('js');
  });
}

/** `fn` with the pool off (every activation freshly allocated), restoring the limit after. */
export function withoutPool<T>(fn: () => T): T {
  const previous = setBufferPoolLimit(0);
  try {
    return fn();
  } finally {
    setBufferPoolLimit(previous);
  }
}

/** Fill the pool with NaN buffers of these lengths (`copies` of each). */
export function poisonPool(lengths: readonly number[], copies = 1): void {
  for (const n of lengths) for (let k = 0; k < copies; k++) recycleBuffer(new Float32Array(n).fill(Number.NaN));
}

/**
 * Overwrite with NaN every buffer the pool holds of these lengths (and put
 * them back): a tensor that was wrongly given back shows even when no later
 * op happened to take its buffer.
 */
export function scribbleOverPool(lengths: readonly number[]): void {
  for (const n of new Set(lengths)) {
    const held: Float32Array[] = [];
    for (let b = takeBuffer(n); b; b = takeBuffer(n)) held.push(b.fill(Number.NaN));
    for (const b of held) recycleBuffer(b);
  }
}

/** Bit-for-bit equality, reported as the first difference: vitest's diff of two large arrays that differ everywhere takes minutes. */
export function expectSameBits(actual: Float32Array, expected: Float32Array): void {
  expect(actual.length).toBe(expected.length);
  const a = new Uint32Array(actual.buffer, actual.byteOffset, actual.length);
  const b = new Uint32Array(expected.buffer, expected.byteOffset, expected.length);
  const i = a.findIndex((bits, k) => bits !== b[k]);
  expect(i < 0 ? 'same' : `differs first at ${i}: ${actual[i]} vs ${expected[i]}`).toBe('same');
}

/**
 * A forward pass that records a gradient, then its input gradient: d sum(forward(x)) / dx
 * for x = input().requireGrad(), with the pool scribbled over (buffers of `sizes`) between
 * the two, so that what the backward pass reads must not be in it; and how many buffers
 * the forward pass gave the pool (a recorded one should give none).
 */
export function recordedInputGradient(forward: (x: Tensor) => Tensor, input: () => Tensor, sizes: number[]): { gradient: Float32Array; kept: number } {
  const x = input().requireGrad();
  const keptBefore = bufferPoolStats().kept;
  const score = sum(forward(x));
  const kept = bufferPoolStats().kept - keptBefore;
  scribbleOverPool(sizes);
  return { gradient: grad(score, [x])[0]!.data, kept };
}
