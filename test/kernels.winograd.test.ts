import { afterEach, describe, expect, it } from 'vitest';
import { grad } from '../src/tensor/autograd.js';
import { getBackend } from '../src/tensor/backend.js';
import { conv2d } from '../src/tensor/ops/conv.js';
import { Tensor } from '../src/tensor/tensor.js';
import { randn } from '../src/tensor/random.js';
import { forceConvAlgorithm, preferWinograd, winogradTileSize } from '../src/tensor/kernels/winograd.js';
import { gradcheck } from './helpers/gradcheck.js';
import { naiveConv2d, type Pads } from './helpers/naive.js';

/**
 * Winograd F(2x2, 3x3) and F(4x4, 3x3) against the direct convolution from the definition,
 * forward and input gradient, on the current backend (the wasm project runs
 * this file again on WebAssembly). The algorithm is forced so that small,
 * odd shapes (ragged tiles, every padding) exercise it.
 */
afterEach(() => forceConvAlgorithm('auto'));

function worstRelative(ours: Float32Array, ref: Float64Array): number {
  let worst = 0;
  let scale = 0;
  for (let i = 0; i < ref.length; i++) {
    worst = Math.max(worst, Math.abs(ours[i]! - ref[i]!));
    scale = Math.max(scale, Math.abs(ref[i]!));
  }
  return worst / scale;
}

const CASES: { n: number; c: number; o: number; h: number; w: number; pads: Pads; bias: boolean }[] = [
  { n: 1, c: 3, o: 5, h: 6, w: 6, pads: { top: 1, bottom: 1, left: 1, right: 1 }, bias: false },
  { n: 2, c: 4, o: 3, h: 7, w: 5, pads: { top: 1, bottom: 1, left: 1, right: 1 }, bias: true },
  { n: 1, c: 2, o: 2, h: 5, w: 8, pads: { top: 0, bottom: 0, left: 0, right: 0 }, bias: true },
  { n: 1, c: 3, o: 4, h: 4, w: 9, pads: { top: 2, bottom: 2, left: 2, right: 2 }, bias: false },
  { n: 2, c: 3, o: 2, h: 6, w: 7, pads: { top: 0, bottom: 1, left: 1, right: 0 }, bias: true },
  { n: 1, c: 1, o: 1, h: 3, w: 3, pads: { top: 0, bottom: 0, left: 0, right: 0 }, bias: false },
];

describe('Winograd F(2x2, 3x3) convolution', () => {
  it.each(CASES)('matches the direct convolution and its input gradient: %o', ({ n, c, o, h, w, pads, bias }) => {
    forceConvAlgorithm('winograd');
    const x = randn([n, c, h, w], { seed: h * 31 + w }).requireGrad();
    const weight = randn([o, c, 3, 3], { seed: 2 });
    const b = bias ? randn([o], { seed: 3 }) : null;
    const padding = { top: pads.top, bottom: pads.bottom, left: pads.left, right: pads.right };
    const y = conv2d(x, weight, b, { padding });
    const ref = naiveConv2d(x, weight, b, { pads });
    expect([...y.shape]).toEqual(ref.shape);
    expect(worstRelative(y.data, ref.data)).toBeLessThan(2e-6);
    // The input gradient (itself a Winograd convolution with the rotated weight) against finite differences.
    gradcheck((p) => conv2d(p, weight, b, { padding }), [x], { seed: n + c });
  });

  it('gives what im2col gives at ResNet-like sizes, where it is chosen by default', () => {
    const x = randn([2, 32, 14, 13], { seed: 5 });
    const weight = randn([48, 32, 3, 3], { seed: 6 });
    const layout = { batch: 2, groups: 1, imageChannels: 32, rowChannels: 48, geo: { channels: 32, inH: 14, inW: 13, outH: 14, outW: 13, kH: 3, kW: 3, strideH: 1, strideW: 1, padTop: 1, padLeft: 1, dilationH: 1, dilationW: 1 } };
    expect(preferWinograd(layout)).toBe(true);
    const viaWinograd = conv2d(x, weight, null, { padding: 1 });
    forceConvAlgorithm('im2col');
    const viaIm2col = conv2d(x, weight, null, { padding: 1 });
    const ref = naiveConv2d(x, weight, null, { pads: { top: 1, bottom: 1, left: 1, right: 1 } });
    expect(worstRelative(viaIm2col.data, ref.data)).toBeLessThan(1e-6);
    // WebAssembly takes F(4x4) here (14 x 13 outputs), the JS kernels F(2x2).
    expect(worstRelative(viaWinograd.data, ref.data)).toBeLessThan(getBackend() === 'wasm' ? 2e-5 : 2e-6);
  });

  it('takes a batch in several groups of images (the WebAssembly kernels group about 256 tiles), with bias, and its input gradient', () => {
    // 256 tiles per image: one image per group on WebAssembly, so three groups.
    forceConvAlgorithm('winograd');
    const x = randn([3, 16, 32, 31], { seed: 12 }).requireGrad();
    const weight = randn([20, 16, 3, 3], { seed: 13 });
    const b = randn([20], { seed: 14 });
    const pads = { top: 1, bottom: 1, left: 1, right: 1 };
    const y = conv2d(x, weight, b, { padding: 1 });
    expect(worstRelative(y.data, naiveConv2d(x, weight, b, { pads }).data)).toBeLessThan(2e-6);
    // The input gradient is the convolution of dy with the rotated weight (pad 2 - 1): check it against the definition.
    const dy = randn([...y.shape], { seed: 15 });
    const [dx] = grad(y, [x], { gradOutput: dy });
    const rotated = new Float32Array(weight.size);
    for (let o = 0; o < 20; o++) for (let c = 0; c < 16; c++) for (let t = 0; t < 9; t++) rotated[(c * 20 + o) * 9 + t] = weight.data[(o * 16 + c) * 9 + 8 - t]!;
    const ref = naiveConv2d(dy, new Tensor(rotated, [16, 20, 3, 3]), null, { pads });
    expect(worstRelative(dx!.data, ref.data)).toBeLessThan(2e-6);
  });

  it.each(CASES)('F(4x4, 3x3) (WebAssembly; F(2x2) on JS) matches the direct convolution and its input gradient: %o', ({ n, c, o, h, w, pads, bias }) => {
    forceConvAlgorithm('winograd4');
    const x = randn([n, c, h, w], { seed: h * 29 + w }).requireGrad();
    const weight = randn([o, c, 3, 3], { seed: 4 });
    const b = bias ? randn([o], { seed: 5 }) : null;
    const padding = { top: pads.top, bottom: pads.bottom, left: pads.left, right: pads.right };
    const y = conv2d(x, weight, b, { padding });
    const ref = naiveConv2d(x, weight, b, { pads });
    expect([...y.shape]).toEqual(ref.shape);
    // F(4x4)'s interpolation points (0, ±1, ±2) round more than F(2x2)'s.
    expect(worstRelative(y.data, ref.data)).toBeLessThan(2e-5);
    gradcheck((p) => conv2d(p, weight, b, { padding }), [x], { seed: n + c + 1 });
  });

  it('F(4x4, 3x3) over rows of four and more tiles, two images per group, with bias and the input gradient (forced: F(4x4) too)', () => {
    // 23 x 26 outputs: 6 x 7 tiles of 4 (ragged last row and column; a row of 7 tiles: two overlapping groups of four).
    forceConvAlgorithm('winograd4');
    const x = randn([2, 6, 23, 26], { seed: 21 }).requireGrad();
    const weight = randn([5, 6, 3, 3], { seed: 22 });
    const b = randn([5], { seed: 23 });
    const pads = { top: 1, bottom: 1, left: 1, right: 1 };
    const y = conv2d(x, weight, b, { padding: 1 });
    expect(worstRelative(y.data, naiveConv2d(x, weight, b, { pads }).data)).toBeLessThan(2e-5);
    const dy = randn([...y.shape], { seed: 24 });
    const [dx] = grad(y, [x], { gradOutput: dy });
    const rotated = new Float32Array(weight.size);
    for (let o = 0; o < 5; o++) for (let c = 0; c < 6; c++) for (let t = 0; t < 9; t++) rotated[(c * 5 + o) * 9 + t] = weight.data[(o * 6 + c) * 9 + 8 - t]!;
    const ref = naiveConv2d(dy, new Tensor(rotated, [6, 5, 3, 3]), null, { pads });
    expect(worstRelative(dx!.data, ref.data)).toBeLessThan(2e-5);
  });

  it('takes F(4x4) on WebAssembly for unrecorded results on maps of 14x14 and up, F(2x2) otherwise and on the JS kernels', () => {
    const layout = (size: number, channels = 64) => ({ batch: 1, groups: 1, imageChannels: channels, rowChannels: channels, geo: { channels, inH: size, inW: size, outH: size, outW: size, kH: 3, kW: 3, strideH: 1, strideW: 1, padTop: 1, padLeft: 1, dilationH: 1, dilationW: 1 } });
    expect(winogradTileSize(layout(56), 'wasm')).toBe(4);
    expect(winogradTileSize(layout(14), 'wasm')).toBe(4);
    expect(winogradTileSize(layout(7, 128), 'wasm')).toBe(2);
    expect(winogradTileSize({ ...layout(7), batch: 16 }, 'wasm')).toBe(4);
    expect(winogradTileSize(layout(56), 'js')).toBe(2);
    // A result recorded for a backward pass (or a gradient) keeps F(2x2)'s accuracy.
    expect(winogradTileSize({ ...layout(56), recorded: true }, 'wasm')).toBe(2);
    forceConvAlgorithm('im2col');
    expect(winogradTileSize(layout(56), 'wasm')).toBe(0);
  });

  it('is not chosen below 2^22 multiply-adds on either backend (compiling its transforms would cost more than it saves)', () => {
    const layout = (batch: number, size: number, channels: number) => ({ batch, groups: 1, imageChannels: channels, rowChannels: channels, geo: { channels, inH: size, inW: size, outH: size, outW: size, kH: 3, kW: 3, strideH: 1, strideW: 1, padTop: 1, padLeft: 1, dilationH: 1, dilationW: 1 } });
    // 7 x 7 x 64 x 64 x 9 = 1.8 M multiply-adds at batch 1; 14.5 M at batch 8.
    expect(winogradTileSize(layout(1, 7, 64), 'wasm')).toBe(0);
    expect(winogradTileSize(layout(8, 7, 64), 'wasm')).not.toBe(0);
    // The shapes example's last layer: 16 x 16 x 32 x 32 x 9 = 2.4 M at batch 1.
    expect(preferWinograd(layout(1, 16, 32), 'wasm')).toBe(false);
    expect(preferWinograd(layout(1, 16, 32), 'js')).toBe(false);
    expect(preferWinograd(layout(2, 16, 32), 'wasm')).toBe(true);
  });

  it('is never chosen for strided, dilated, grouped or non-3x3 convolutions', () => {
    const geo = { channels: 64, inH: 28, inW: 28, outH: 28, outW: 28, kH: 3, kW: 3, strideH: 1, strideW: 1, padTop: 1, padLeft: 1, dilationH: 1, dilationW: 1 };
    const base = { batch: 1, groups: 1, imageChannels: 64, rowChannels: 64, geo };
    forceConvAlgorithm('winograd');
    expect(preferWinograd(base)).toBe(true);
    expect(preferWinograd({ ...base, geo: { ...geo, strideH: 2 } })).toBe(false);
    expect(preferWinograd({ ...base, geo: { ...geo, dilationW: 2 } })).toBe(false);
    expect(preferWinograd({ ...base, groups: 2 })).toBe(false);
    expect(preferWinograd({ ...base, geo: { ...geo, kH: 5, kW: 5 } })).toBe(false);
  });
});
