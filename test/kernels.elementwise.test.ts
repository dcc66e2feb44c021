import { describe, expect, it } from 'vitest';
import { kernels } from '../src/tensor/backend.js';
import type { ConvLayout } from '../src/tensor/kernels/kernels.js';
import type { PoolWindow } from '../src/tensor/kernels/pool.js';
import { Rng } from '../src/tensor/random.js';
import { expectSameBits } from './helpers/buffer-pool.js';
import { relu6 as relu6Kernel } from '../src/tensor/kernels/elementwise.js';

/**
 * The element-wise and pooling kernels (relu, batch norm's scale and shift,
 * the residual add, max pooling) on the current backend against references
 * written from the definitions here; the wasm project runs this file again on
 * WebAssembly. Sizes are above the WebAssembly kernels' small-array cutoff
 * (4,096 floats), odd (so SIMD tails run), and some cross the 2^20-float
 * chunks those kernels work in.
 */

const CHUNK = 1 << 20;

function randomArray(n: number, rng: Rng): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.normal();
  return a;
}

/** torch.relu on one float: -0 and -Infinity give +0, NaN stays NaN. */
function reluRef(v: number): number {
  return v !== v ? NaN : v > 0 ? v : 0;
}

/** Within `rel` of the largest finite |reference|; NaN and infinities exactly where the reference has them. */
function expectClose(ours: Float32Array, ref: ArrayLike<number>, rel: number): void {
  expect(ours.length).toBe(ref.length);
  let scale = 0;
  for (let i = 0; i < ref.length; i++) if (Number.isFinite(ref[i]!)) scale = Math.max(scale, Math.abs(ref[i]!));
  for (let i = 0; i < ref.length; i++) {
    const r = ref[i]!;
    const o = ours[i]!;
    if (Number.isNaN(r) || !Number.isFinite(r)) {
      if (!Object.is(o, r)) expect(o, `element ${i}`).toBe(r);
      continue;
    }
    if (Math.abs(o - r) > rel * scale) expect(Math.abs(o - r), `element ${i}: ${o} vs ${r}`).toBeLessThanOrEqual(rel * scale);
  }
}

describe('relu kernel', () => {
  it('is torch.relu, bit for bit, including -0, infinities and NaN, across chunks', () => {
    const rng = new Rng(1);
    for (const n of [4097, CHUNK + 13]) {
      const x = randomArray(n, rng);
      x[0] = -0;
      x[1] = NaN;
      x[2] = -Infinity;
      x[3] = Infinity;
      x[n - 1] = NaN; // in the scalar tail
      x[n - 2] = -0;
      const out = new Float32Array(n);
      kernels().relu(x, out);
      for (let i = 0; i < n; i++) {
        const want = reluRef(x[i]!);
        if (!Object.is(out[i], want)) expect(out[i], `element ${i} of ${n} (x = ${x[i]})`).toBe(want);
      }
    }
  });

  it('may run in place (out === x)', () => {
    const x = randomArray(5003, new Rng(2));
    const ref = Array.from(x, reluRef);
    kernels().relu(x, x);
    expect(Array.from(x)).toEqual(ref);
  });
});

describe('add kernel', () => {
  it('adds two arrays of one length, across chunks', () => {
    const rng = new Rng(3);
    for (const n of [4099, CHUNK + 7]) {
      const a = randomArray(n, rng);
      const b = randomArray(n, rng);
      const out = new Float32Array(n);
      kernels().add(a, b, out);
      // float32 + float32 rounds the same everywhere: exact.
      for (let i = 0; i < n; i++) if (out[i] !== Math.fround(a[i]! + b[i]!)) expect(out[i], `element ${i}`).toBe(Math.fround(a[i]! + b[i]!));
    }
  });
});

describe('scaleShift kernel (batch norm in evaluation mode, optionally + relu)', () => {
  const cases = [
    { channels: 3, inner: 1001, batch: 2 }, // planes of odd length
    { channels: 5, inner: 4, batch: 300 }, // short planes, many of them
    { channels: 3, inner: 1000, batch: 367 }, // 1,101 planes: crosses a chunk mid-batch (channel index carries on)
  ];
  it.each(cases)('gives x * scale[c] + shift[c] per channel (then relu): %o', ({ channels, inner, batch }) => {
    const rng = new Rng(channels * inner);
    const n = channels * inner * batch;
    const x = randomArray(n, rng);
    x[5] = NaN;
    const scale = Float64Array.from({ length: channels }, () => rng.normal() * 2);
    const shift = Float64Array.from({ length: channels }, () => rng.normal());
    for (const withRelu of [false, true]) {
      const out = new Float32Array(n);
      kernels().scaleShift(x, out, channels, inner, scale, shift, withRelu);
      const ref = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        const c = Math.floor(i / inner) % channels;
        const v = x[i]! * scale[c]! + shift[c]!;
        ref[i] = withRelu ? reluRef(v) : v;
      }
      // WebAssembly computes in float32 (scale and shift rounded): a few ulps of the largest value.
      expectClose(out, ref, 1e-6);
    }
  });
});

/** Max pooling as PyTorch's CPU loop: the first strictly greatest (or last NaN) cell of each window, padding skipped. */
function maxPoolRef(x: Float32Array, planes: number, H: number, W: number, g: PoolWindow): { out: Float32Array; argmax: Int32Array } {
  const out = new Float32Array(planes * g.outH * g.outW);
  const argmax = new Int32Array(out.length);
  let o = 0;
  for (let p = 0; p < planes; p++)
    for (let oh = 0; oh < g.outH; oh++)
      for (let ow = 0; ow < g.outW; ow++, o++) {
        let best = -Infinity;
        let at = -1;
        for (let i = 0; i < g.kh; i++)
          for (let j = 0; j < g.kw; j++) {
            const r = oh * g.sh - g.top + i * g.dh;
            const c = ow * g.sw - g.left + j * g.dw;
            if (r < 0 || r >= H || c < 0 || c >= W) continue;
            const v = x[p * H * W + r * W + c]!;
            if (at < 0) at = r * W + c; // PyTorch starts at the first cell inside, with -Infinity
            if (v > best || v !== v) {
              best = v;
              at = r * W + c;
            }
          }
        out[o] = best;
        argmax[o] = at;
      }
  return { out, argmax };
}

function window(H: number, W: number, k: [number, number], s: [number, number], d: [number, number], pad: [number, number], ceil = false): PoolWindow {
  const size = (n: number, kk: number, ss: number, dd: number, pp: number): number => {
    const span = n + 2 * pp - dd * (kk - 1) - 1;
    let out = (ceil ? Math.ceil(span / ss) : Math.floor(span / ss)) + 1;
    if (ceil && (out - 1) * ss >= n + pp) out--; // PyTorch: no window starting in the right padding
    return out;
  };
  return { outH: size(H, k[0], s[0], d[0], pad[0]), outW: size(W, k[1], s[1], d[1], pad[1]), kh: k[0], kw: k[1], sh: s[0], sw: s[1], dh: d[0], dw: d[1], top: pad[0], left: pad[1] };
}

describe('maxPool2d kernel', () => {
  const cases: { name: string; planes: number; H: number; W: number; g: PoolWindow }[] = [
    { name: "ResNet's stem pool 3x3 s2 p1", planes: 6, H: 33, W: 37, g: window(33, 37, [3, 3], [2, 2], [1, 1], [1, 1]) },
    { name: '3x3 s1 p1', planes: 5, H: 29, W: 31, g: window(29, 31, [3, 3], [1, 1], [1, 1], [1, 1]) },
    { name: '2x2 s2 ceil mode', planes: 7, H: 27, W: 25, g: window(27, 25, [2, 2], [2, 2], [1, 1], [0, 0], true) },
    { name: '3x2 s(1,2) p(1,0)', planes: 4, H: 30, W: 41, g: window(30, 41, [3, 2], [1, 2], [1, 1], [1, 0]) },
    { name: 'dilated 3x3 d2 p1', planes: 4, H: 32, W: 33, g: window(32, 33, [3, 3], [1, 1], [2, 2], [1, 1]) },
    { name: 'dilation only in height', planes: 3, H: 40, W: 39, g: window(40, 39, [3, 3], [2, 2], [2, 1], [0, 0], true) },
    { name: '2x2 s2 on even planes (its written-out path)', planes: 6, H: 32, W: 24, g: window(32, 24, [2, 2], [2, 2], [1, 1], [0, 0]) },
    { name: '2x2 s2 dilated 2 in ceil mode (the size of the written-out path, not its taps)', planes: 3, H: 20, W: 18, g: window(20, 18, [2, 2], [2, 2], [2, 2], [0, 0], true) },
    { name: 'crosses a chunk (70 planes of 128x128)', planes: 70, H: 128, W: 128, g: window(128, 128, [3, 3], [2, 2], [1, 1], [1, 1]) },
  ];
  it.each(cases)('matches the definition with and without argmax: $name', ({ planes, H, W, g }) => {
    const rng = new Rng(planes * H + W);
    // Few distinct values (ties in every window) and a sprinkle of NaN.
    const x = new Float32Array(planes * H * W);
    for (let i = 0; i < x.length; i++) x[i] = rng.int(5) - 2;
    for (let k = 0; k < 20; k++) x[rng.int(x.length)] = NaN;
    const ref = maxPoolRef(x, planes, H, W, g);
    for (const withArgmax of [true, false]) {
      const out = new Float32Array(ref.out.length).fill(123);
      const argmax = withArgmax ? new Int32Array(ref.out.length).fill(-7) : null;
      kernels().maxPool2d(x, out, argmax, planes, H, W, g);
      for (let i = 0; i < out.length; i++) if (!Object.is(out[i], ref.out[i])) expect(out[i], `output ${i}`).toBe(ref.out[i]);
      if (argmax) for (let i = 0; i < argmax.length; i++) if (argmax[i] !== ref.argmax[i]) expect(argmax[i], `argmax ${i}`).toBe(ref.argmax[i]);
    }
  });

  it('2x2 s2: a window of -Infinity points at its first cell, the last of two NaN wins, ties keep the first', () => {
    const x = new Float32Array([-Infinity, -Infinity, NaN, 1, -Infinity, -Infinity, NaN, 2, 3, 3, 7, 7, 3, 3, 7, 7]);
    const g = window(4, 4, [2, 2], [2, 2], [1, 1], [0, 0]);
    const ref = maxPoolRef(x, 1, 4, 4, g);
    const out = new Float32Array(4);
    const argmax = new Int32Array(4);
    kernels().maxPool2d(x, out, argmax, 1, 4, 4, g);
    expect(Array.from(out)).toEqual([-Infinity, NaN, 3, 7]);
    expect(Array.from(argmax)).toEqual([0, 6, 8, 10]);
    expect(Array.from(out)).toEqual(Array.from(ref.out));
    expect(Array.from(argmax)).toEqual(Array.from(ref.argmax));
  });
});

describe('the epilogues layers/fusion.ts asks the kernels for', () => {
  /** A convolution's layout: groups of `cin` -> `cout` channels, a k x k kernel. */
  function layout(batch: number, groups: number, cin: number, cout: number, size: number, k: number, stride: number, pad: number): ConvLayout {
    const out = Math.floor((size + 2 * pad - k) / stride) + 1;
    return {
      batch, groups, imageChannels: cin, rowChannels: cout,
      geo: { channels: cin, inH: size, inW: size, outH: out, outW: out, kH: k, kW: k, strideH: stride, strideW: stride, padTop: pad, padLeft: pad, dilationH: 1, dilationW: 1 },
    };
  }

  // Above and below the WebAssembly kernels' 4,096-float cutoff; Winograd (3x3 stride 1), im2col, pointwise, grouped.
  it.each([
    ['3x3 stride 1, 2 x 16 x 24 x 24 out', layout(2, 1, 8, 16, 24, 3, 1, 1)],
    ['3x3 stride 2', layout(3, 1, 8, 16, 24, 3, 2, 1)],
    ['1x1', layout(2, 1, 16, 24, 20, 1, 1, 0)],
    ['2 groups', layout(2, 2, 4, 8, 20, 3, 1, 1)],
    ['small (under the cutoff)', layout(1, 1, 3, 4, 8, 3, 1, 1)],
  ] as const)('convForward then scale and shift (and ReLU), %s: the values of the two calls, bit for bit', (_, L) => {
    const rng = new Rng(21);
    const channels = L.groups * L.rowChannels;
    const inner = L.geo.outH * L.geo.outW;
    const image = randomArray(L.batch * L.groups * L.imageChannels * L.geo.inH * L.geo.inW, rng);
    const weight = randomArray(channels * L.imageChannels * L.geo.kH * L.geo.kW, rng);
    const scale = Float64Array.from(randomArray(channels, rng), (v) => 0.5 + Math.abs(v));
    const shift = Float64Array.from(randomArray(channels, rng));
    for (const relu of [false, true]) {
      for (const accumulate of [false, true]) {
        const start = randomArray(L.batch * channels * inner, rng);
        const separate = start.slice();
        kernels().convForward(image, weight, separate, L, accumulate);
        kernels().scaleShift(separate, separate, channels, inner, scale, shift, relu);
        const fused = start.slice();
        kernels().convForward(image, weight, fused, L, accumulate, { scale, shift, relu });
        expectSameBits(fused, separate);
        // The scale and shift did something.
        const plain = start.slice();
        kernels().convForward(image, weight, plain, L, accumulate);
        expect(fused).not.toEqual(plain);
      }
    }
  });

  it('add then ReLU: the values of add and relu called one after the other, bit for bit, in place too', () => {
    const rng = new Rng(22);
    for (const n of [100, 4099, CHUNK + 7]) {
      const a = randomArray(n, rng);
      const b = randomArray(n, rng);
      const separate = new Float32Array(n);
      kernels().add(a, b, separate);
      kernels().relu(separate, separate);
      const fused = new Float32Array(n);
      kernels().add(a, b, fused, true);
      expectSameBits(fused, separate);
      kernels().add(a, b, a, true);
      expectSameBits(a, separate);
    }
  });
});

describe('relu6 kernel (on float32 bits)', () => {
  /** torch.relu6 on one float: NaN stays NaN, -0 and -Infinity give +0, above 6 (and +Infinity) gives 6. */
  const relu6Ref = (v: number): number => (v !== v ? v : v > 6 ? 6 : v > 0 ? v : 0);

  it('is torch.relu6, bit for bit (NaN payloads of both signs kept), in place too', () => {
    const rng = new Rng(23);
    const n = 10_007;
    const x = new Float32Array(n);
    for (let i = 0; i < n; i++) x[i] = rng.normal() * 8;
    const special = [0, -0, 6, -6, 5.999999, 6.000001, Infinity, -Infinity, NaN, 1e-45, -1e-45, 3.4e38, -3.4e38];
    special.forEach((v, i) => (x[i] = v));
    const bits = new Int32Array(x.buffer);
    bits[20] = 0x7fc00123; // a positive NaN with a payload
    bits[21] = 0xffc00456 | 0; // a negative one
    const want = new Float32Array(n);
    for (let i = 0; i < n; i++) want[i] = relu6Ref(x[i]!);
    // The reference keeps each NaN's own bits.
    new Int32Array(want.buffer).set([bits[20]!, bits[21]!], 20);
    const out = new Float32Array(n);
    relu6Kernel(x, out);
    expectSameBits(out, want);
    relu6Kernel(x, x);
    expectSameBits(x, want);
  });
});

describe('relu6 on the current backend', () => {
  it('is torch.relu6 (NaN stays NaN, -0 and -Infinity give 0), across chunks, in place too', () => {
    const rng = new Rng(24);
    for (const n of [100, 4099, CHUNK + 7]) {
      const x = new Float32Array(n);
      for (let i = 0; i < n; i++) x[i] = rng.normal() * 8;
      [0, -0, 6, 6.000001, Infinity, -Infinity, NaN].forEach((v, i) => (x[i] = v));
      const out = new Float32Array(n);
      kernels().relu6(x, out);
      for (let i = 0; i < n; i++) {
        const v = x[i]!;
        const want = v !== v ? NaN : v > 6 ? 6 : v > 0 ? v : 0;
        if (!Object.is(out[i], want)) expect(out[i], `element ${i} of ${n}: relu6(${v})`).toBe(want);
      }
      kernels().relu6(x, x);
      expectSameBits(x, out);
    }
  });
});
