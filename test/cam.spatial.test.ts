import { describe, expect, it } from 'vitest';
import { perChannel, weightedSum } from '../src/cam/spatial.js';
import { mul } from '../src/tensor/ops/elementwise.js';
import { sum } from '../src/tensor/ops/reduce.js';
import { randn } from '../src/tensor/random.js';
import { expectSameBits } from './helpers/buffer-pool.js';

describe('weightedSum (raw = sum_c w_c A_c)', () => {
  it.each([
    ['images', [3, 5, 4, 6]],
    ['signals', [2, 7, 9]],
    ['volumes', [2, 3, 2, 3, 4]],
    ['one channel', [1, 1, 5, 5]],
  ] as [string, number[]][])('gives mul then sum over the channels bit for bit (%s)', (_, shape) => {
    const a = randn(shape, { seed: 1 });
    const weights = randn([shape[0]!, shape[1]!], { seed: 2, std: 3 });
    const raw = weightedSum(a, weights);
    const reference = sum(mul(a, perChannel(weights, a)), 1);
    expect(raw.shape).toEqual([shape[0], ...shape.slice(2)]);
    expectSameBits(raw.data, reference.data);
    expect(raw.requiresGrad).toBe(false);
  });
});
