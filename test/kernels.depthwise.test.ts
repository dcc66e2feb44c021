import { describe, expect, it } from 'vitest';
import { grad } from '../src/tensor/autograd.js';
import { conv2d } from '../src/tensor/ops/conv.js';
import { randn } from '../src/tensor/random.js';
import type { Tensor } from '../src/tensor/tensor.js';
import { naiveConv2d, type Pads } from './helpers/naive.js';

/**
 * Depthwise convolution (groups = input channels, as MobileNet's) forward and
 * input gradient on the current backend, against the definition in float64;
 * the wasm project runs this file again on WebAssembly. Maps are wide enough
 * for the WebAssembly kernels' four-column paths and odd enough for their
 * edges; strides 1, 2 and 3, dilation, uneven padding, multipliers 1 and 2.
 */

interface Case { n: number; c: number; m: number; h: number; w: number; k: [number, number]; stride: [number, number]; dilation: [number, number]; pads: Pads }
const CASES: Case[] = [
  { n: 2, c: 3, m: 1, h: 13, w: 21, k: [3, 3], stride: [1, 1], dilation: [1, 1], pads: { top: 1, bottom: 1, left: 1, right: 1 } }, // MobileNet's stride-1 block
  { n: 1, c: 4, m: 1, h: 14, w: 23, k: [3, 3], stride: [2, 2], dilation: [1, 1], pads: { top: 1, bottom: 1, left: 1, right: 1 } }, // its stride-2 block
  { n: 1, c: 2, m: 2, h: 11, w: 19, k: [5, 3], stride: [1, 2], dilation: [1, 1], pads: { top: 2, bottom: 0, left: 0, right: 2 } },
  { n: 2, c: 2, m: 2, h: 12, w: 25, k: [3, 3], stride: [1, 1], dilation: [2, 3], pads: { top: 2, bottom: 1, left: 3, right: 0 } },
  { n: 1, c: 3, m: 1, h: 10, w: 20, k: [3, 3], stride: [3, 3], dilation: [1, 1], pads: { top: 0, bottom: 0, left: 1, right: 1 } },
  { n: 1, c: 2, m: 3, h: 9, w: 17, k: [7, 7], stride: [1, 1], dilation: [1, 1], pads: { top: 3, bottom: 3, left: 3, right: 3 } }, // kernel wider than the interior
  { n: 1, c: 2, m: 1, h: 4, w: 5, k: [3, 3], stride: [1, 1], dilation: [1, 1], pads: { top: 0, bottom: 0, left: 0, right: 0 } }, // no interior at all
];

/** The adjoint of the depthwise convolution in the image, from the definition (float64). */
function naiveInputGradient(g: Tensor, weight: Tensor, inShape: readonly number[], k: Case): Float64Array {
  const [N, C, H, W] = inShape as [number, number, number, number];
  const [, O, OH, OW] = g.shape as [number, number, number, number];
  const [kH, kW] = k.k;
  const dx = new Float64Array(N * C * H * W);
  for (let n = 0; n < N; n++)
    for (let o = 0; o < O; o++) {
      const c = Math.floor(o / k.m);
      for (let oh = 0; oh < OH; oh++)
        for (let ow = 0; ow < OW; ow++)
          for (let ki = 0; ki < kH; ki++)
            for (let kj = 0; kj < kW; kj++) {
              const ih = oh * k.stride[0] - k.pads.top + ki * k.dilation[0];
              const iw = ow * k.stride[1] - k.pads.left + kj * k.dilation[1];
              if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
              dx[((n * C + c) * H + ih) * W + iw]! += weight.data[(o * kH + ki) * kW + kj]! * g.data[((n * O + o) * OH + oh) * OW + ow]!;
            }
    }
  return dx;
}

function worstRelative(ours: Float32Array, ref: Float64Array): number {
  expect(ours.length).toBe(ref.length);
  let worst = 0;
  let scale = 0;
  for (let i = 0; i < ref.length; i++) {
    worst = Math.max(worst, Math.abs(ours[i]! - ref[i]!));
    scale = Math.max(scale, Math.abs(ref[i]!));
  }
  return worst / scale;
}

describe('depthwise convolution', () => {
  it.each(CASES)('matches the definition, forward (with bias) and input gradient: %o', (k) => {
    const x = randn([k.n, k.c, k.h, k.w], { seed: k.h * 7 + k.w }).requireGrad();
    const weight = randn([k.c * k.m, 1, ...k.k], { seed: k.c + k.m });
    const bias = randn([k.c * k.m], { seed: 5 });
    const padding = { top: k.pads.top, bottom: k.pads.bottom, left: k.pads.left, right: k.pads.right };
    const y = conv2d(x, weight, bias, { stride: k.stride, dilation: k.dilation, padding, groups: k.c });
    const ref = naiveConv2d(x, weight, bias, { stride: k.stride, dilation: k.dilation, pads: k.pads, groups: k.c });
    expect([...y.shape]).toEqual(ref.shape);
    expect(worstRelative(y.data, ref.data)).toBeLessThan(1e-6);
    const g = randn([...y.shape], { seed: 11 });
    const [dx] = grad(y, [x], { gradOutput: g });
    expect(worstRelative(dx!.data, naiveInputGradient(g, weight, x.shape, k))).toBeLessThan(1e-6);
  });
});
