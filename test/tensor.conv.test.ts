import { describe, expect, it } from 'vitest';
import { grad } from '../src/tensor/autograd.js';
import { ArgumentError, ShapeError } from '../src/tensor/errors.js';
import { conv2d, convTranspose2d, type Padding2d } from '../src/tensor/ops/conv.js';
import { Rng, randn } from '../src/tensor/random.js';
import { Tensor, tensor } from '../src/tensor/tensor.js';
import { gradcheck } from './helpers/gradcheck.js';
import { naiveConv2d } from './helpers/naive.js';
import { forceConvAlgorithm } from '../src/tensor/kernels/winograd.js';

interface Config {
  batch: number;
  inChannels: number;
  outChannels: number;
  h: number;
  w: number;
  kH: number;
  kW: number;
  stride: [number, number];
  pads: { top: number; bottom: number; left: number; right: number };
  dilation: [number, number];
  groups: number;
  bias: boolean;
  outputPadding: [number, number];
}

/** Transposed convolution from its definition: each input pixel scatters its weighted kernel. */
function naiveConvTranspose2d(x: Tensor, w: Tensor, b: Tensor | null, c: Config): { data: Float64Array; shape: number[] } {
  const [N, C, H, W] = x.shape as number[] as [number, number, number, number];
  const [, Og, kH, kW] = w.shape as number[] as [number, number, number, number];
  const Cg = C / c.groups;
  const O = Og * c.groups;
  const OH = (H - 1) * c.stride[0] - c.pads.top - c.pads.bottom + c.dilation[0] * (kH - 1) + c.outputPadding[0] + 1;
  const OW = (W - 1) * c.stride[1] - c.pads.left - c.pads.right + c.dilation[1] * (kW - 1) + c.outputPadding[1] + 1;
  const out = new Float64Array(N * O * OH * OW);
  for (let n = 0; n < N; n++)
    for (let o = 0; o < O; o++)
      for (let i = 0; i < OH * OW; i++) out[(n * O + o) * OH * OW + i] = b ? b.data[o]! : 0;
  for (let n = 0; n < N; n++)
    for (let ch = 0; ch < C; ch++) {
      const g = Math.floor(ch / Cg);
      for (let ih = 0; ih < H; ih++)
        for (let iw = 0; iw < W; iw++) {
          const v = x.data[((n * C + ch) * H + ih) * W + iw]!;
          for (let oc = 0; oc < Og; oc++)
            for (let ki = 0; ki < kH; ki++)
              for (let kj = 0; kj < kW; kj++) {
                const oh = ih * c.stride[0] - c.pads.top + ki * c.dilation[0];
                const ow = iw * c.stride[1] - c.pads.left + kj * c.dilation[1];
                if (oh < 0 || oh >= OH || ow < 0 || ow >= OW) continue;
                const at = ((n * O + g * Og + oc) * OH + oh) * OW + ow;
                out[at] = out[at]! + v * w.data[((ch * Og + oc) * kH + ki) * kW + kj]!;
              }
        }
    }
  return { data: out, shape: [N, O, OH, OW] };
}

function expectMatches(ours: Tensor, ref: { data: Float64Array; shape: number[] }, what: string): void {
  expect([...ours.shape], `${what}: shape`).toEqual(ref.shape);
  let worst = 0;
  for (let i = 0; i < ref.data.length; i++) worst = Math.max(worst, Math.abs(ours.data[i]! - ref.data[i]!));
  expect(worst, `${what}: max |ours - naive| = ${worst}`).toBeLessThan(1e-4);
}

function padding(c: Config): Padding2d {
  const p = c.pads;
  if (p.top === p.bottom && p.left === p.right) return p.top === p.left ? p.top : [p.top, p.left];
  return p;
}

/** Random configurations covering stride, symmetric and asymmetric padding, dilation, groups (incl. depthwise), bias. */
function randomConfigs(count: number, seed: number, transposed: boolean): Config[] {
  const rng = new Rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[rng.int(xs.length)]!;
  const configs: Config[] = [];
  while (configs.length < count) {
    const groups = pick([1, 1, 2, 3]);
    const depthwise = !transposed && rng.uniform() < 0.25;
    const inChannels = depthwise ? groups * 2 : groups * pick([1, 2]);
    const outChannels = depthwise ? inChannels * pick([1, 2]) : groups * pick([1, 2, 3]);
    const kH = pick([1, 2, 3]);
    const kW = pick([1, 2, 3]);
    const stride: [number, number] = [pick([1, 2]), pick([1, 2, 3])];
    const dilation: [number, number] = [pick([1, 2]), pick([1, 1, 2])];
    const asymmetric = rng.uniform() < 0.4;
    const ph = pick([0, 1, 2]);
    const pw = pick([0, 1]);
    const pads = asymmetric
      ? { top: pick([0, 1, 2]), bottom: pick([0, 1]), left: pick([0, 2]), right: pick([0, 1, 3]) }
      : { top: ph, bottom: ph, left: pw, right: pw };
    const outputPadding: [number, number] = transposed
      ? [rng.int(Math.max(stride[0], dilation[0])), rng.int(Math.max(stride[1], dilation[1]))]
      : [0, 0];
    const c: Config = {
      batch: pick([1, 2]), inChannels: depthwise ? groups * 1 * (inChannels / groups) : inChannels, outChannels,
      h: 3 + rng.int(5), w: 3 + rng.int(6), kH, kW, stride, pads, dilation, groups: depthwise ? inChannels : groups,
      bias: rng.uniform() < 0.6, outputPadding,
    };
    if (depthwise) {
      c.groups = c.inChannels;
    }
    // skip geometry that leaves no output
    const spanH = dilation[0] * (kH - 1) + 1;
    const spanW = dilation[1] * (kW - 1) + 1;
    if (!transposed && (c.h + pads.top + pads.bottom < spanH || c.w + pads.left + pads.right < spanW)) continue;
    if (transposed) {
      const oh = (c.h - 1) * stride[0] - pads.top - pads.bottom + spanH + outputPadding[0];
      const ow = (c.w - 1) * stride[1] - pads.left - pads.right + spanW + outputPadding[1];
      if (oh < 1 || ow < 1) continue;
    }
    configs.push(c);
  }
  return configs;
}

/** Cases the random draw might miss: 1x1 at stride 1 without padding (no im2col), depthwise, output padding. */
function fixedConfigs(transposed: boolean): Config[] {
  const base: Config = {
    batch: 2, inChannels: 4, outChannels: 6, h: 5, w: 4, kH: 1, kW: 1, stride: [1, 1],
    pads: { top: 0, bottom: 0, left: 0, right: 0 }, dilation: [1, 1], groups: 2, bias: true, outputPadding: [0, 0],
  };
  const configs: Config[] = [base, { ...base, groups: 1, bias: false }];
  if (transposed) {
    configs.push({ ...base, kH: 3, kW: 3, stride: [2, 3], outputPadding: [1, 2], pads: { top: 1, bottom: 1, left: 1, right: 1 } });
    configs.push({ ...base, kH: 3, kW: 2, stride: [1, 1], dilation: [3, 2], outputPadding: [2, 1], groups: 1 });
  } else {
    configs.push({ ...base, inChannels: 6, outChannels: 6, groups: 6, kH: 3, kW: 3, pads: { top: 1, bottom: 1, left: 1, right: 1 } });
    configs.push({ ...base, inChannels: 3, outChannels: 6, groups: 3, kH: 3, kW: 3, stride: [2, 2], pads: { top: 0, bottom: 1, left: 0, right: 1 } });
  }
  return configs;
}

function describeConfig(c: Config): string {
  const p = c.pads;
  return `x[${c.batch},${c.inChannels},${c.h},${c.w}] k${c.kH}x${c.kW} out${c.outChannels} s${c.stride} pad(t${p.top},b${p.bottom},l${p.left},r${p.right}) d${c.dilation} g${c.groups}${c.bias ? ' bias' : ''}${c.outputPadding[0] || c.outputPadding[1] ? ` op${c.outputPadding}` : ''}`;
}

describe('conv2d', () => {
  it('computes a hand-checked 3x3 example (2x2 ones kernel sums windows, plus bias)', () => {
    const x = tensor([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 1, 3, 3]);
    const w = tensor([1, 1, 1, 1], [1, 1, 2, 2]);
    const y = conv2d(x, w, tensor([10]));
    expect(y.toArray()).toEqual([[[[22, 26], [34, 38]]]]);
    // padding 1, stride 2: windows at the corners
    const z = conv2d(x, w, null, { padding: 1, stride: 2 });
    expect(z.toArray()).toEqual([[[[1, 5], [11, 28]]]]);
  });

  const configs = [...fixedConfigs(false), ...randomConfigs(40, 11, false)];
  configs.forEach((c, i) => {
    it(`matches a direct convolution and finite differences: ${describeConfig(c)}`, () => {
      const x = randn([c.batch, c.inChannels, c.h, c.w], { seed: 1000 + i });
      const w = randn([c.outChannels, c.inChannels / c.groups, c.kH, c.kW], { seed: 2000 + i });
      const b = c.bias ? randn([c.outChannels], { seed: 3000 + i }) : null;
      const options = { stride: c.stride, padding: padding(c), dilation: c.dilation, groups: c.groups };
      expectMatches(conv2d(x, w, b, options), naiveConv2d(x, w, b, c), describeConfig(c));
      if (b) gradcheck((p, q, r) => conv2d(p, q, r, options), [x, w, b], { seed: i });
      else gradcheck((p, q) => conv2d(p, q, null, options), [x, w], { seed: i });
    });
  });

  it('matches the direct convolution at a size that crosses GEMM blocks (Cin*k*k > 256, H*W > 512)', () => {
    const c: Config = {
      batch: 1, inChannels: 32, outChannels: 70, h: 24, w: 23, kH: 3, kW: 3, stride: [1, 1],
      pads: { top: 1, bottom: 1, left: 1, right: 1 }, dilation: [1, 1], groups: 1, bias: true, outputPadding: [0, 0],
    };
    const x = randn([1, 32, 24, 23], { seed: 1 });
    const w = randn([70, 32, 3, 3], { seed: 2 });
    const b = randn([70], { seed: 3 });
    // im2col + GEMM, the path whose blocking this checks (3x3 stride 1 would take Winograd, tested in kernels.winograd).
    forceConvAlgorithm('im2col');
    try {
      expectMatches(conv2d(x, w, b, { padding: 1 }), naiveConv2d(x, w, b, c), 'large');
    } finally {
      forceConvAlgorithm('auto');
    }
  });

  it('computes only the input gradient when only it is asked for (no weight or bias gradient)', () => {
    const x = randn([1, 2, 5, 5], { seed: 1 }).requireGrad();
    const w = new Tensor(randn([3, 2, 3, 3], { seed: 2 }).data, [3, 2, 3, 3], true);
    const b = new Tensor(randn([3], { seed: 3 }).data, [3], true);
    const y = conv2d(x, w, b, { padding: 1 });
    const rule = y.gradFn!.backward;
    let seen: (Tensor | null)[] = [];
    (y.gradFn as { backward: typeof rule }).backward = (g, needs) => (seen = rule(g, needs));
    const [gx] = grad(y, [x], { gradOutput: randn([1, 3, 5, 5], { seed: 4 }) });
    expect(seen[0]).not.toBeNull();
    expect(seen[1]).toBeNull();
    expect(seen[2]).toBeNull();
    expect(gx!.shape).toEqual([1, 2, 5, 5]);
  });

  it('rejects mismatched shapes and bad options with messages naming the op and the shapes', () => {
    expect(() => conv2d(randn([1, 3, 8, 8]), randn([16, 4, 3, 3]))).toThrow(ShapeError);
    expect(() => conv2d(randn([1, 3, 8, 8]), randn([16, 4, 3, 3]))).toThrow(/conv2d: input \[1, 3, 8, 8\].*weight \[16, 4, 3, 3\]/);
    expect(() => conv2d(randn([1, 4, 8, 8]), randn([6, 1, 3, 3]), null, { groups: 4 })).toThrow(/not divisible by groups=4/);
    expect(() => conv2d(randn([3, 8, 8]), randn([16, 3, 3, 3]))).toThrow(/conv2d: input must be 4-D/);
    expect(() => conv2d(randn([1, 3, 2, 2]), randn([4, 3, 3, 3]))).toThrow(/smaller than the \(dilated\) kernel/);
    expect(() => conv2d(randn([1, 3, 8, 8]), randn([4, 3, 3, 3]), randn([5]))).toThrow(/bias \[5\]/);
    expect(() => conv2d(randn([1, 3, 8, 8]), randn([4, 3, 3, 3]), null, { stride: 0 })).toThrow(ArgumentError);
    expect(() => conv2d(randn([1, 3, 8, 8]), randn([4, 3, 3, 3]), null, { padding: { top: 1, bottom: -1, left: 0, right: 0 } })).toThrow(/padding.bottom/);
  });
});

describe('convTranspose2d', () => {
  it('computes a hand-checked example (stride 2 spreads each pixel into its own 2x2 block)', () => {
    const x = tensor([1, 2, 3, 4], [1, 1, 2, 2]);
    const w = tensor([1, 10, 100, 1000], [1, 1, 2, 2]);
    const y = convTranspose2d(x, w, null, { stride: 2 });
    expect(y.toArray()).toEqual([[[
      [1, 10, 2, 20],
      [100, 1000, 200, 2000],
      [3, 30, 4, 40],
      [300, 3000, 400, 4000],
    ]]]);
  });

  const configs = [...fixedConfigs(true), ...randomConfigs(30, 23, true)];
  configs.forEach((c, i) => {
    it(`matches a direct scatter and finite differences: ${describeConfig(c)}`, () => {
      const x = randn([c.batch, c.inChannels, c.h, c.w], { seed: 4000 + i });
      const w = randn([c.inChannels, c.outChannels / c.groups, c.kH, c.kW], { seed: 5000 + i });
      const b = c.bias ? randn([c.outChannels], { seed: 6000 + i }) : null;
      const options = { stride: c.stride, padding: padding(c), dilation: c.dilation, groups: c.groups, outputPadding: c.outputPadding };
      expectMatches(convTranspose2d(x, w, b, options), naiveConvTranspose2d(x, w, b, c), describeConfig(c));
      if (b) gradcheck((p, q, r) => convTranspose2d(p, q, r, options), [x, w, b], { seed: i });
      else gradcheck((p, q) => convTranspose2d(p, q, null, options), [x, w], { seed: i });
    });
  });

  it('rejects mismatched channels and too large an output padding', () => {
    expect(() => convTranspose2d(randn([1, 3, 4, 4]), randn([4, 2, 3, 3]))).toThrow(/convTranspose2d: input \[1, 3, 4, 4\].*weight \[4, 2, 3, 3\]/);
    expect(() => convTranspose2d(randn([1, 4, 4, 4]), randn([4, 2, 3, 3]), null, { stride: 2, outputPadding: 2 })).toThrow(ArgumentError);
    expect(() => convTranspose2d(randn([1, 4, 4, 4]), randn([4, 2, 3, 3]), randn([3]))).toThrow(/bias \[3\]/);
  });
});
