import { bench, describe } from 'vitest';
import { gemm } from '../src/tensor/kernels/gemm.js';
import { conv2d } from '../src/tensor/ops/conv.js';
import { randn } from '../src/tensor/random.js';
import { naiveConv2d, naiveMatmul } from './naive.js';

/**
 * `npm run bench` (vitest bench): ours beside the naive kernels at one
 * ResNet-18 layer shape each. bench/run.ts is the full table behind
 * bench/RESULTS.md; this is the quick check.
 */
describe('gemm 128 x 784 x 1152 (ResNet-18 layer2 3x3 conv as a GEMM)', () => {
  const [m, n, k] = [128, 784, 1152];
  const a = randn([m * k], { seed: 1 }).data;
  const b = randn([k * n], { seed: 2 }).data;
  const c = new Float32Array(m * n);
  bench('blocked gemm', () => gemm(m, n, k, a, b, c), { iterations: 5, time: 0 });
  bench('naive triple loop', () => naiveMatmul(m, n, k, a, b, c), { iterations: 2, time: 0 });
});

describe('conv2d [1,128,28,28] x [128,128,3,3] pad 1', () => {
  const x = randn([1, 128, 28, 28], { seed: 3 });
  const w = randn([128, 128, 3, 3], { seed: 4 });
  bench('conv2d (im2col + gemm)', () => void conv2d(x, w, null, { padding: 1 }), { iterations: 5, time: 0 });
  bench('naive direct loop', () => void naiveConv2d(x, w, null, { padding: 1 }), { iterations: 2, time: 0 });
});
