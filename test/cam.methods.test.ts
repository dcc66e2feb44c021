/**
 * The map methods on tiny hand-built models: hand-computed values (captum
 * style), an independent naive implementation of every formula, the exact
 * identities (CAM = Grad-CAM on GAP+FC; HiResCAM = Grad-CAM when dA is
 * spatially constant), batching, and never NaN.
 */
import { describe, expect, it } from 'vitest';
import {
  ablationCam,
  cam,
  eigenCam,
  eigenGradCam,
  fem,
  finerCam,
  fullGrad,
  gradCam,
  gradCamElementWise,
  gradCamPlusPlus,
  hiResCam,
  isCam,
  kpcaCam,
  layerCam,
  randomCam,
  refineCam,
  scoreCam,
  gradCamMaxNorm,
  segEigenCam,
  shapleyCam,
  smoothGradCamPlusPlus,
  sobelCam,
  ssCam,
  xGradCam,
  type MapOptions,
  type MapResult,
  type Target,
} from '../src/cam/index.js';
import { projectFirstComponent } from '../src/cam/methods/eigenCam.js';
import { leadingEigenvector } from '../src/cam/eigen.js';
import { AdaptiveAvgPool2d, BatchNorm2d, Flatten, Linear, MaxPool2d, ReLU, Sequential, Softplus } from '../src/layers/index.js';
import { Module } from '../src/layers/module.js';
import { grad } from '../src/tensor/autograd.js';
import { linear } from '../src/tensor/ops/matmul.js';
import { permute } from '../src/tensor/ops/shape.js';
import { interpolate } from '../src/tensor/ops/interpolate.js';
import { abs, mul } from '../src/tensor/ops/elementwise.js';
import { softmax } from '../src/tensor/ops/softmax.js';
import { sum } from '../src/tensor/ops/reduce.js';
import { randn } from '../src/tensor/random.js';
import { Parameter, Tensor, tensor } from '../src/tensor/tensor.js';

/** A 1x1 convolution written as permute + linear, so these tests do not depend on conv2d. */
class PointwiseMix extends Module {
  weight: Parameter;
  bias: Parameter;
  constructor(inChannels: number, outChannels: number, seed: number) {
    super();
    const w = randn([outChannels, inChannels], { seed, std: 1 / Math.sqrt(inChannels) });
    this.weight = new Parameter(w.data, w.shape);
    this.bias = new Parameter(randn([outChannels], { seed: seed + 1, std: 0.1 }).data, [outChannels]);
  }
  override forward(x: Tensor): Tensor {
    return permute(linear(permute(x, [0, 2, 3, 1]), this.weight, this.bias), [0, 3, 1, 2]);
  }
}

/** x [N,3,8,8] -> mix -> bn -> relu ('block.2', [N,6,8,8]) -> pool -> mix -> relu ('head.1', [N,5,4,4]) -> GAP -> fc (4 classes). */
function tinyNet(): Module {
  const model = new Sequential({
    block: new Sequential(new PointwiseMix(3, 6, 1), new BatchNorm2d(6), new ReLU()),
    pool: new MaxPool2d(2),
    head: new Sequential(new PointwiseMix(6, 5, 3), new ReLU()),
    gap: new AdaptiveAvgPool2d(1),
    flatten: new Flatten(),
    fc: new Linear(5, 4, { seed: 5 }),
  });
  const bn = model.getModule('block.1') as BatchNorm2d;
  const stats = randn([6], { seed: 9, std: 0.2 });
  (bn as unknown as { running_mean: Tensor }).running_mean.data.set(stats.data);
  return model;
}

/** x [N,2,2,2] -> relu ('relu') -> GAP -> flatten -> fc with W = [[1, 2], [3, -1]], b = [0.5, 0]. */
function handModel(): Module {
  const fc = new Linear(2, 2);
  fc.weight.data.set([1, 2, 3, -1]);
  fc.bias!.data.set([0.5, 0]);
  return new Sequential({ relu: new ReLU(), gap: new AdaptiveAvgPool2d(1), flatten: new Flatten(), fc });
}

// channel 0 = [[1, -2], [3, 0]] (relu: [[1, 0], [3, 0]]), channel 1 = [[2, 2], [0, 4]]
const handInput = tensor([1, -2, 3, 0, 2, 2, 0, 4], [1, 2, 2, 2]);

function expectValues(t: Tensor, expected: number[], tol = 1e-6): void {
  expect(t.size).toBe(expected.length);
  t.data.forEach((v, i) => expect(Math.abs(v - expected[i]!), `element ${i}: ${v} vs ${expected[i]}`).toBeLessThanOrEqual(tol));
}

describe('hand-computed maps on a GAP+FC model', () => {
  const model = handModel();
  // A = [[1,0],[3,0]] and [[2,2],[0,4]]; GAP = [1, 2]; logits = [5.5, 1]; dA_c = W[t,c] / 4.
  it('Grad-CAM for the argmax class (0)', () => {
    const r = gradCam(model, handInput, { layer: 'relu' });
    expect(r.targets).toEqual([0]);
    expectValues(r.logits, [5.5, 1]);
    expectValues(r.layers[0]!.weights!, [0.25, 0.5]);
    expectValues(r.layers[0]!.raw, [1.25, 1, 0.75, 2]);
    expectValues(r.layers[0]!.map, [0.4, 0.2, 0, 1], 1e-6);
    expectValues(r.maps, [0.4, 0.2, 0, 1], 1e-6);
  });
  it('Grad-CAM, HiResCAM, LayerCAM, XGrad-CAM, element-wise for class 1 (dA = [0.75, -0.25])', () => {
    const g = gradCam(model, handInput, { layer: 'relu', target: 1 });
    expectValues(g.layers[0]!.raw, [0.25, -0.5, 2.25, -1]);
    expectValues(g.maps, [0.25 / 2.25, 0, 1, 0], 1e-6);
    expectValues(hiResCam(model, handInput, { layer: 'relu', target: 1 }).layers[0]!.raw, [0.25, -0.5, 2.25, -1]);
    expectValues(layerCam(model, handInput, { layer: 'relu', target: 1 }).layers[0]!.raw, [0.75, 0, 2.25, 0]);
    // relu(dA*A): channel 0 gives [0.75, 0, 2.25, 0], channel 1 gives only negatives
    expectValues(gradCamElementWise(model, handInput, { layer: 'relu', target: 1 }).layers[0]!.raw, [0.75, 0, 2.25, 0]);
    const x = xGradCam(model, handInput, { layer: 'relu', target: 1 });
    // w_c = sum(dA A) / (sum A + 1e-7) = dA_c * S_c / (S_c + 1e-7) with S = [4, 8]
    expectValues(x.layers[0]!.weights!, [(0.75 * 4) / (4 + 1e-7), (-0.25 * 8) / (8 + 1e-7)]);
  });
  it('Grad-CAM++ by eq. 19 with constant gradients', () => {
    const r = gradCamPlusPlus(model, handInput, { layer: 'relu', target: 0 });
    // a = c^2 / (2c^2 + S c^3 + 1e-6); w = 4 positions * c * a
    const w0 = 4 * 0.25 * (0.0625 / (0.125 + 4 * 0.015625 + 1e-6));
    const w1 = 4 * 0.5 * (0.25 / (0.5 + 8 * 0.125 + 1e-6));
    expectValues(r.layers[0]!.weights!, [w0, w1], 1e-6);
    expectValues(r.layers[0]!.raw, [w0 * 1 + w1 * 2, w1 * 2, w0 * 3, w1 * 4], 1e-6);
    // class 1: channel 1 has dA < 0, so relu(dA) removes it
    const r1 = gradCamPlusPlus(model, handInput, { layer: 'relu', target: 1 });
    expect(r1.layers[0]!.weights!.data[1]).toBe(0);
  });
  it('CAM uses the fc row of the target: raw = 4 x Grad-CAM raw, same final map', () => {
    const z = cam(model, handInput, { layer: 'relu' });
    expectValues(z.layers[0]!.weights!, [1, 2]);
    expectValues(z.layers[0]!.raw, [5, 4, 3, 8]);
    expectValues(z.maps, gradCam(model, handInput, { layer: 'relu' }).maps.data as unknown as number[], 1e-6);
  });
  it('the seed formula divides by the max after the ReLU', () => {
    const s = gradCamMaxNorm(model, handInput, { layer: 'relu', target: 1 });
    expectValues(s.layers[0]!.map, [0.25 / 2.25, 0, 1, 0], 1e-6);
  });
  it('Score-CAM: masks, scores and softmax by hand', () => {
    // Layer = input size, so the masks are A min-max scaled per channel:
    // m0 = [1,0,3,0]/3, m1 = [2,2,0,4]/4. Masked inputs go through relu, GAP, fc.
    const r = scoreCam(model, handInput, { layer: 'relu', target: 0 });
    const x = [1, -2, 3, 0, 2, 2, 0, 4];
    const masks = [
      [1 / 3, 0, 1, 0],
      [0.5, 0.5, 0, 1],
    ];
    const scores = masks.map((m) => {
      const g0 = (Math.max(x[0]! * m[0]!, 0) + Math.max(x[1]! * m[1]!, 0) + Math.max(x[2]! * m[2]!, 0) + Math.max(x[3]! * m[3]!, 0)) / 4;
      const g1 = (x[4]! * m[0]! + x[5]! * m[1]! + x[6]! * m[2]! + x[7]! * m[3]!) / 4;
      return g0 + 2 * g1 + 0.5;
    });
    expectValues((r.layers[0] as { scores: Tensor }).scores, scores, 1e-5);
    const e = scores.map((s) => Math.exp(s - Math.max(...scores)));
    const w = e.map((v) => v / (e[0]! + e[1]!));
    expectValues(r.layers[0]!.weights!, w, 1e-6);
  });
  it('Ablation-CAM: w_c = (y - y_c) / y with channel c zeroed', () => {
    const r = ablationCam(model, handInput, { layer: 'relu', target: 0 });
    // y = 5.5; zeroing channel 0 removes 1*1 -> 4.5; channel 1 removes 2*2 -> 1.5
    expectValues(r.layers[0]!.weights!, [(5.5 - 4.5) / 5.5, (5.5 - 1.5) / 5.5], 1e-6);
  });
});

/** What the test reads itself from the model: A and dA at a layer, by its own hook and grad call. */
function naiveCapture(model: Module, input: Tensor, path: string, target: number[]): { a: Tensor; g: Tensor } {
  let a: Tensor | null = null;
  const handle = model.getModule(path)!.registerForwardHook((_m, _i, out) => {
    a = out;
  });
  const logits = model.forward(input);
  handle.remove();
  const [n, k] = logits.shape as [number, number];
  const seed = new Float32Array(n * k);
  target.forEach((t, i) => (seed[i * k + t] = 1));
  const [g] = grad(logits, [a!], { gradOutput: new Tensor(seed, logits.shape) });
  return { a: a!, g: g! };
}

/** Nested-loop reference implementations, in float64, of the formulas in the manifest. */
function naiveMaps(a: Tensor, g: Tensor) {
  const [n, c, h, w] = a.shape as number[];
  const at = (t: Tensor, i: number, k: number, p: number) => t.data[(i * c! + k) * h! * w! + p]!;
  const hw = h! * w!;
  const perImage = (fn: (i: number, p: number) => number) => {
    const out: number[] = [];
    for (let i = 0; i < n!; i++) for (let p = 0; p < hw; p++) out.push(fn(i, p));
    return out;
  };
  const weighted = (weights: (i: number, k: number) => number) =>
    perImage((i, p) => {
      let s = 0;
      for (let k = 0; k < c!; k++) s += weights(i, k) * at(a, i, k, p);
      return s;
    });
  const sumHw = (_i: number, _k: number, f: (p: number) => number) => {
    let s = 0;
    for (let p = 0; p < hw; p++) s += f(p);
    return s;
  };
  const gradcamW = (i: number, k: number) => sumHw(i, k, (p) => at(g, i, k, p)) / hw;
  const xgradW = (i: number, k: number) => sumHw(i, k, (p) => at(g, i, k, p) * at(a, i, k, p)) / (sumHw(i, k, (p) => at(a, i, k, p)) + 1e-7);
  const ppW = (i: number, k: number) => {
    const s = sumHw(i, k, (p) => at(a, i, k, p));
    return sumHw(i, k, (p) => {
      const d = at(g, i, k, p);
      if (d === 0) return 0;
      const alpha = (d * d) / (2 * d * d + s * d * d * d + 1e-6);
      return Math.max(d, 0) * alpha;
    });
  };
  const elementwise = (f: (d: number, x: number) => number) =>
    perImage((i, p) => {
      let s = 0;
      for (let k = 0; k < c!; k++) s += f(at(g, i, k, p), at(a, i, k, p));
      return s;
    });
  return {
    gradCam: weighted(gradcamW),
    xGradCam: weighted(xgradW),
    gradCamPlusPlus: weighted(ppW),
    hiResCam: elementwise((d, x) => d * x),
    layerCam: elementwise((d, x) => Math.max(d, 0) * x),
    gradCamElementWise: elementwise((d, x) => Math.max(d * x, 0)),
  };
}

describe('every formula against a naive implementation (tiny conv-free net, batch of 3)', () => {
  const model = tinyNet().eval();
  const input = randn([3, 3, 8, 8], { seed: 42 });
  const targets = [0, 3, 1];
  const methods = { gradCam, xGradCam, gradCamPlusPlus, hiResCam, layerCam, gradCamElementWise };
  for (const path of ['block.2', 'head.1']) {
    const { a, g } = naiveCapture(model, input, path, targets);
    const expected = naiveMaps(a, g);
    for (const [name, method] of Object.entries(methods)) {
      it(`${name} at ${path}`, () => {
        const r = method(model, input, { layer: path, target: targets });
        const exp = expected[name as keyof typeof expected];
        const scale = Math.max(...exp.map(Math.abs));
        expectValues(r.layers[0]!.raw, exp, 1e-5 * scale);
        expect(r.maps.shape).toEqual([3, 8, 8]);
      });
    }
  }
});

describe('EigenCAM', () => {
  it('Jacobi gives the leading eigenvector of a symmetric matrix with close eigenvalues', () => {
    // Q diag(5, 4.99, 1) Q^T with a fixed rotation Q
    const c = Math.cos(0.3);
    const s = Math.sin(0.3);
    const q = [c, -s, 0, s, c, 0, 0, 0, 1];
    const d = [5, 4.99, 1];
    const m = new Float64Array(9);
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) for (let k = 0; k < 3; k++) m[i * 3 + j] = m[i * 3 + j]! + q[i * 3 + k]! * d[k]! * q[j * 3 + k]!;
    const { value, vector } = leadingEigenvector(m, 3);
    expect(value).toBeCloseTo(5, 10);
    expect(Math.abs(vector[0]! * c + vector[1]! * s)).toBeCloseTo(1, 8);
  });
  it('raw is the centred projection on the first right singular vector, with the documented sign', () => {
    // One image, 2 channels, 3 positions: channel 1 = 2 x channel 0, so v1 ∝ (1, 2)/sqrt(5)
    const model = new Sequential({ relu: new ReLU(), gap: new AdaptiveAvgPool2d(1), flatten: new Flatten(), fc: new Linear(2, 2, { seed: 1 }) });
    const x = tensor([0, 1, 5, 0, 2, 10], [1, 2, 1, 3]);
    const r = eigenCam(model, x, { layer: 'relu' });
    // centred: ch0 = [-2, -1, 3], ch1 = [-4, -2, 6]; projection = (ch0 + 2 ch1) / sqrt(5) = sqrt(5) * [-2, -1, 3]
    const k = Math.sqrt(5);
    // sign: correlation with the activity [0, 3, 15] is positive for +[-2,-1,3]
    expectValues(r.layers[0]!.raw, [-2 * k, -1 * k, 3 * k], 1e-5);
  });
  it('eigenGradCam projects dA * A on its first principal component (naive power iteration)', () => {
    const model = tinyNet().eval();
    const input = randn([1, 3, 8, 8], { seed: 4 });
    const r = eigenGradCam(model, input, { layer: 'head.1', target: 2 });
    const { a, g } = naiveCapture(model, input, 'head.1', [2]);
    const [, c, h, w] = a.shape as number[];
    const hw = h! * w!;
    // M [hw, C]: dA * A, each channel centred over positions
    const m = Array.from({ length: hw }, (_, p) => Array.from({ length: c! }, (_, k) => a.data[k * hw + p]! * g.data[k * hw + p]!));
    for (let k = 0; k < c!; k++) {
      const mean = m.reduce((s, row) => s + row[k]!, 0) / hw;
      for (const row of m) row[k] = row[k]! - mean;
    }
    let v = Array.from({ length: c! }, (_, k) => 1 + k);
    for (let it = 0; it < 5000; it++) {
      const mv = m.map((row) => row.reduce((s, x, k) => s + x * v[k]!, 0));
      const next = v.map((_, k) => m.reduce((s, row, p) => s + row[k]! * mv[p]!, 0));
      const norm = Math.hypot(...next);
      v = next.map((x) => x / norm);
    }
    const expected = m.map((row) => row.reduce((s, x, k) => s + x * v[k]!, 0));
    const ours = Array.from(r.layers[0]!.raw.data);
    const sign = ours.reduce((s, x, p) => s + x * expected[p]!, 0) < 0 ? -1 : 1;
    const scale = Math.max(...expected.map(Math.abs));
    expectValues(r.layers[0]!.raw, expected.map((x) => sign * x), 1e-4 * scale);
  });
});

describe('identities', () => {
  it('Grad-CAM equals CAM after normalisation on a GAP+FC model (batch, several targets)', () => {
    const model = tinyNet().eval();
    const input = randn([4, 3, 8, 8], { seed: 7 });
    const options: MapOptions = { layer: 'head.1', target: [0, 1, 2, 3] };
    const g = gradCam(model, input, options);
    const z = cam(model, input, options);
    // dA = W[t] / hw, so Grad-CAM raw = CAM raw / hw exactly
    expectValues(g.layers[0]!.raw, Array.from(z.layers[0]!.raw.data, (v) => v / 16), 1e-6);
    expectValues(g.maps, Array.from(z.maps.data), 1e-5);
  });
  it('HiResCAM equals Grad-CAM when dA is spatially constant (GAP right after the layer)', () => {
    const model = tinyNet().eval();
    const input = randn([2, 3, 8, 8], { seed: 8 });
    const h = hiResCam(model, input, { layer: 'head.1', target: [1, 2] });
    const g = gradCam(model, input, { layer: 'head.1', target: [1, 2] });
    expectValues(h.layers[0]!.raw, Array.from(g.layers[0]!.raw.data), 1e-6);
  });
  it('CAM finds the Linear after global average pooling by itself, and refuses a layer without one', () => {
    const model = tinyNet().eval();
    const input = randn([1, 3, 8, 8], { seed: 9 });
    const auto = cam(model, input, { layer: 'head.1' });
    const named = cam(model, input, { layer: 'head.1', fc: 'fc' });
    expectValues(auto.layers[0]!.raw, Array.from(named.layers[0]!.raw.data));
    expect(() => cam(model, input, { layer: 'block.2' })).toThrow(/no module takes the global average of layer 'block.2's output and returns the logits/);
  });
});

const allMapMethods: [string, (m: Module, x: Tensor, o: MapOptions) => MapResult][] = [
  ['gradCam', gradCam],
  ['gradCamMaxNorm', gradCamMaxNorm],
  ['hiResCam', hiResCam],
  ['gradCamElementWise', gradCamElementWise],
  ['gradCamPlusPlus', gradCamPlusPlus],
  ['xGradCam', xGradCam],
  ['layerCam', layerCam],
  ['scoreCam', scoreCam],
  ['ablationCam', ablationCam],
  ['eigenCam', eigenCam],
  ['eigenGradCam', eigenGradCam],
  ['cam', cam],
  ['fem', fem],
  ['randomCam', randomCam],
  ['segEigenCam', segEigenCam],
  ['kpcaCam', kpcaCam],
  ['finerCam', finerCam],
  ['refineCam', refineCam],
  ['shapleyCam', shapleyCam],
  ['ssCam', (m, x, o) => ssCam(m, x, { ...o, samples: 3 })],
  ['isCam', (m, x, o) => isCam(m, x, { ...o, steps: 3 })],
  ['smoothGradCamPlusPlus', smoothGradCamPlusPlus],
];

describe('a batch equals single-image calls', () => {
  const model = tinyNet().eval();
  const input = randn([3, 3, 8, 8], { seed: 11 });
  const targets = [2, 0, 3];
  for (const [name, method] of allMapMethods) {
    it(name, () => {
      const batch = method(model, input, { layer: 'head.1', target: targets });
      expect(batch.targets).toEqual(targets);
      for (let i = 0; i < 3; i++) {
        const one = new Tensor(input.data.slice(i * 192, (i + 1) * 192), [1, 3, 8, 8]);
        const single = method(model, one, { layer: 'head.1', target: targets[i] });
        expectValues(new Tensor(batch.maps.data.slice(i * 64, (i + 1) * 64), [64]), Array.from(single.maps.data), 1e-5);
        const raw = batch.layers[0]!.raw.data.slice(i * 16, (i + 1) * 16);
        const scale = Math.max(1e-6, ...Array.from(single.layers[0]!.raw.data, Math.abs));
        expectValues(new Tensor(raw, [16]), Array.from(single.layers[0]!.raw.data), 1e-5 * scale);
      }
    });
  }
});

describe('never NaN', () => {
  const model = tinyNet().eval();
  // A constant input makes every activation map constant over space.
  const constant = new Tensor(new Float32Array(2 * 3 * 8 * 8).fill(0.5), [2, 3, 8, 8]);
  for (const [name, method] of allMapMethods) {
    it(`${name}: a constant map gives zeros`, () => {
      // Smooth Grad-CAM++ maps the last noisy pass's activations, which noise makes vary: without noise here.
      const options = name === 'smoothGradCamPlusPlus' ? { std: 0 } : {};
      const r = method(model, constant, { layer: 'head.1', target: [0, 1], ...options });
      expect(r.maps.data.every((v) => v === 0)).toBe(true);
      for (const l of r.layers) expect(l.map.data.every((v) => v === 0)).toBe(true);
    });
  }
  it('an all-negative map gives zeros (Grad-CAM, HiResCAM, XGrad-CAM, seed, CAM)', () => {
    const hand = handModel();
    (hand.getModule('fc') as Linear).weight.data.set([-1, -2, 3, -1]);
    // target 0: every weight negative, A >= 0, so the raw map is <= 0 everywhere
    for (const method of [gradCam, hiResCam, xGradCam, gradCamMaxNorm, cam, gradCamElementWise, layerCam, gradCamPlusPlus]) {
      const r = method(hand, handInput, { layer: 'relu', target: 0 });
      expect(r.maps.data.every((v) => v === 0), method.name).toBe(true);
    }
  });
  it('FullGrad and SobelCAM on a constant input: finite maps in [0, 1] (SobelCAM all zeros)', () => {
    for (const r of [fullGrad(model, constant, { target: [0, 1] }), sobelCam(model, constant)]) {
      expect(r.maps.data.every((v) => Number.isFinite(v) && v >= 0 && v <= 1)).toBe(true);
    }
    expect(sobelCam(model, constant).maps.data.every((v) => v === 0)).toBe(true);
  });
  it('a zero target score gives ablation weights 0, not NaN', () => {
    const hand = handModel();
    const fc = hand.getModule('fc') as Linear;
    fc.weight.data.set([0, 0, 3, -1]);
    fc.bias!.data.set([0, 0]);
    const r = ablationCam(hand, handInput, { layer: 'relu', target: 0 });
    expect(Array.from(r.layers[0]!.weights!.data)).toEqual([0, 0]);
  });
});

describe('layers and post-processing options', () => {
  const model = tinyNet().eval();
  const input = randn([2, 3, 8, 8], { seed: 12 });
  it('the default layer is the last module with a 4-D output above 1x1, and is reported', () => {
    const r = gradCam(model, input);
    expect(r.layers.map((l) => l.name)).toEqual(['head']);
    expect(r.targets).toHaveLength(2);
  });
  it('several layers: mean or max of the resized per-layer maps, then normalised', () => {
    const one = gradCam(model, input, { layer: 'block.2', target: 1 });
    const two = gradCam(model, input, { layer: 'head.1', target: 1 });
    for (const fuse of ['mean', 'max'] as const) {
      const both = gradCam(model, input, { layer: ['block.2', model.getModule('head.1')!], target: 1, fuse });
      expect(both.layers.map((l) => l.name)).toEqual(['block.2', 'head.1']);
      // each layer's normalised map, resized to 8x8 with the engine's bilinear interpolate
      const up = (t: Tensor) => interpolate(new Tensor(t.data, [2, 1, ...t.shape.slice(1)]), { size: [8, 8], mode: 'bilinear' });
      const upOne = up(one.layers[0]!.map);
      const upTwo = up(two.layers[0]!.map);
      expectValues(both.layers[1]!.map, Array.from(two.layers[0]!.map.data));
      const expected: number[] = [];
      for (let i = 0; i < 2; i++) {
        const part = Array.from({ length: 64 }, (_, p) => {
          const a = upOne.data[i * 64 + p]!;
          const b = upTwo.data[i * 64 + p]!;
          return fuse === 'mean' ? (a + b) / 2 : Math.max(a, b);
        });
        const lo = Math.min(...part);
        const hi = Math.max(...part);
        expected.push(...part.map((v) => (v - lo) / (hi - lo + 1e-7)));
      }
      expectValues(both.maps, expected, 1e-5);
    }
  });
  it('ReLU and normalisation can be turned off', () => {
    const plain = gradCam(model, input, { layer: 'head.1', target: 1, relu: false, normalize: false });
    const raw = plain.layers[0]!.raw;
    expectValues(plain.layers[0]!.map, Array.from(raw.data));
    expect(Math.min(...plain.layers[0]!.map.data)).toBeLessThan(0);
  });
  it('a function target: one score per image, targets null', () => {
    const byIndex = gradCam(model, input, { layer: 'head.1', target: [1, 2] });
    const byFunction = gradCam(model, input, {
      layer: 'head.1',
      target: (logits) => sum(mul(logits, tensor([0, 1, 0, 0, 0, 0, 1, 0], [2, 4])), 1),
    });
    expect(() =>
      gradCam(model, input, { layer: 'head.1', target: (logits) => new Tensor(logits.data.slice(0, 2), [2]) }),
    ).toThrow(/not computed from the output it was given/);
    expect(byFunction.targets).toBeNull();
    expectValues(byFunction.maps, Array.from(byIndex.maps.data), 1e-6);
  });
});

describe('capture details', () => {
  it('a layer that runs twice in one forward pass is captured at its last call', () => {
    const shared = new ReLU();
    const mix = new PointwiseMix(3, 3, 21);
    class Twice extends Module {
      shared = shared;
      mix = mix;
      head = new Sequential({ gap: new AdaptiveAvgPool2d(1), flatten: new Flatten(), fc: new Linear(3, 2, { seed: 2 }) });
      override forward(x: Tensor): Tensor {
        return this.head.forward(this.shared.forward(this.mix.forward(this.shared.forward(x))));
      }
    }
    const model = new Twice().eval();
    const input = randn([1, 3, 4, 4], { seed: 6 });
    const r = gradCam(model, input, { layer: 'shared', target: 1 });
    // The second call's output feeds GAP directly: dA = W[1] / 16, A = relu(mix(relu(x))).
    let second: Tensor | null = null;
    let calls = 0;
    const handle = shared.registerForwardHook((_m, _i, out) => {
      if (++calls === 2) second = out;
    });
    model.forward(input);
    handle.remove();
    const w = (model.head.getModule('fc') as Linear).weight.data;
    const expected = Array.from({ length: 16 }, (_, p) => {
      let s = 0;
      for (let k = 0; k < 3; k++) s += (w[3 + k]! / 16) * second!.data[k * 16 + p]!;
      return s;
    });
    expectValues(r.layers[0]!.raw, expected, 1e-6);
  });
  it('a frozen model on a plain input gives the same maps (the hook starts the graph at the layer)', () => {
    const model = tinyNet().eval();
    const input = randn([2, 3, 8, 8], { seed: 13 });
    const normal = gradCam(model, input, { layer: 'head.1', target: [0, 2] });
    for (const p of model.parameters()) p.requiresGrad = false;
    const frozen = gradCam(model, input, { layer: 'head.1', target: [0, 2] });
    expect(Array.from(frozen.maps.data)).toEqual(Array.from(normal.maps.data));
    expect(model.parameters().every((p) => !p.requiresGrad)).toBe(true);
  });
});


/** pytorch-grad-cam's ClassifierOutputSoftmaxTarget(c) for every image. */
function softmaxOf(c: number): Target {
  return (logits) => {
    const [n, k] = logits.shape as [number, number];
    const mask = new Float32Array(n * k);
    for (let i = 0; i < n; i++) mask[i * k + c] = 1;
    return sum(mul(softmax(logits, -1), new Tensor(mask, [n, k])), 1);
  };
}

describe('pytorch-grad-cam additions: identities and naive formulas', () => {
  const model = tinyNet().eval();
  const input = randn([2, 3, 8, 8], { seed: 31 });
  const targets = [1, 3];
  it('FEM: weights are the fraction of positions above mean + k std (population), naively', () => {
    for (const k of [2, 0.5]) {
      const r = fem(model, input, { layer: 'head.1', target: targets, k });
      const { a } = naiveCapture(model, input, 'head.1', targets);
      const expected: number[] = [];
      for (let nc = 0; nc < 10; nc++) {
        const values = Array.from(a.data.subarray(nc * 16, (nc + 1) * 16));
        const mu = values.reduce((s, v) => s + v, 0) / 16;
        const sigma = Math.sqrt(values.reduce((s, v) => s + (v - mu) ** 2, 0) / 16);
        expected.push(values.filter((v) => v > mu + k * sigma).length / 16);
      }
      expectValues(r.layers[0]!.weights!, expected, 1e-7);
    }
  });
  it('KPCA-CAM with a linear kernel is EigenCAM up to sign', () => {
    const kpca = kpcaCam(model, input, { layer: 'head.1', kernel: 'linear' }).layers[0]!.raw;
    const eigen = eigenCam(model, input, { layer: 'head.1' }).layers[0]!.raw;
    for (let i = 0; i < 2; i++) {
      const x = Array.from(kpca.data.subarray(i * 16, (i + 1) * 16));
      const y = Array.from(eigen.data.subarray(i * 16, (i + 1) * 16));
      const sign = x.reduce((s, v, p) => s + v * y[p]!, 0) < 0 ? -1 : 1;
      const scale = Math.max(...y.map(Math.abs));
      x.forEach((v, p) => expect(Math.abs(sign * v - y[p]!)).toBeLessThanOrEqual(1e-4 * scale));
      // scikit-learn's svd_flip: the largest entry is positive
      const largest = x.reduce((best, v, p) => (Math.abs(v) > Math.abs(x[best]!) ? p : best), 0);
      expect(x[largest]!).toBeGreaterThan(0);
    }
  });
  it('SegEigenCAM projects |dA| * A on its first component, flipped so that max >= |min|', () => {
    const r = segEigenCam(model, input, { layer: 'head.1', target: targets }).layers[0]!.raw;
    const { a, g } = naiveCapture(model, input, 'head.1', targets);
    const reference = projectFirstComponent(mul(abs(g), a));
    for (let i = 0; i < 2; i++) {
      const x = Array.from(r.data.subarray(i * 16, (i + 1) * 16));
      const y = Array.from(reference.data.subarray(i * 16, (i + 1) * 16));
      const sign = x.reduce((s, v, p) => s + v * y[p]!, 0) < 0 ? -1 : 1;
      x.forEach((v, p) => expect(Math.abs(sign * v - y[p]!)).toBeLessThanOrEqual(1e-5 * Math.max(...y.map(Math.abs))));
      expect(Math.max(...x)).toBeGreaterThanOrEqual(Math.abs(Math.min(...x)));
    }
  });
  it('RandomCAM: seeded, the same weights in [-1, 1) for every image, another seed gives others', () => {
    const a = randomCam(model, input, { layer: 'head.1', seed: 3 }).layers[0]!.weights!;
    expect(Array.from(randomCam(model, input, { layer: 'head.1', seed: 3 }).layers[0]!.weights!.data)).toEqual(Array.from(a.data));
    expect(Array.from(a.data.subarray(0, 5))).toEqual(Array.from(a.data.subarray(5, 10)));
    expect(a.data.every((w) => w >= -1 && w < 1)).toBe(true);
    expect(Array.from(randomCam(model, input, { layer: 'head.1', seed: 4 }).layers[0]!.weights!.data)).not.toEqual(Array.from(a.data));
  });
  it('FinerCAM with alpha 0 is Grad-CAM of the target class; its comparisons are the closest logits', () => {
    const finer = finerCam(model, input, { layer: 'head.1', target: targets, alpha: 0 });
    expectValues(finer.layers[0]!.raw, Array.from(gradCam(model, input, { layer: 'head.1', target: targets }).layers[0]!.raw.data), 1e-6);
    finer.comparisons.forEach((classes, i) => {
      const z = Array.from(finer.logits.data.subarray(i * 4, (i + 1) * 4));
      const order = [0, 1, 2, 3].filter((c) => c !== targets[i]).sort((p, q) => Math.abs(z[p]! - z[targets[i]!]!) - Math.abs(z[q]! - z[targets[i]!]!));
      expect(classes).toEqual(order);
    });
    expect(() => finerCam(model, input, { comparisonCategories: [4] })).toThrow(/comparisonCategories must be/);
  });
  it('RefineCAM of one layer is the base method\'s map; of two, their product rescaled', () => {
    const one = refineCam(model, input, { layer: 'head.1', target: targets });
    expectValues(one.maps, Array.from(gradCamPlusPlus(model, input, { layer: 'head.1', target: targets }).maps.data), 1e-6);
    const two = refineCam(model, input, { layer: ['block.2', 'head.1'], target: targets, method: layerCam });
    const maps = ['block.2', 'head.1'].map((l) => layerCam(model, input, { layer: l, target: targets }).maps);
    const product = maps[0]!.data.map((v, i) => v * maps[1]!.data[i]!);
    for (let i = 0; i < 2; i++) {
      const part = Array.from(product.subarray(i * 64, (i + 1) * 64));
      const lo = Math.min(...part);
      const hi = Math.max(...part);
      expectValues(new Tensor(two.maps.data.slice(i * 64, (i + 1) * 64), [64]), part.map((v) => (v - lo) / (hi - lo + 1e-7)), 1e-5);
    }
  });
  it('ShapleyCAM equals Grad-CAM for a logit target on a piecewise-linear head (H A = 0 exactly)', () => {
    const s = shapleyCam(model, input, { layer: 'block.2', target: targets });
    expect(s.layers[0]!.hvpMethod).toBe('exact');
    expect(s.layers[0]!.hvp.data.every((v) => v === 0)).toBe(true);
    expect(Array.from(s.layers[0]!.weights!.data)).toEqual(Array.from(gradCam(model, input, { layer: 'block.2', target: targets }).layers[0]!.weights!.data));
  });
  it('ShapleyCAM with a softmax target: H A against a central difference of dA along A', () => {
    const target = softmaxOf(2);
    const s = shapleyCam(model, input, { layer: 'head.1', target });
    // dA at A (1 +- h) through a hook that scales the layer's output
    const gradientAt = (factor: number): Tensor => {
      const handle = model.getModule('head.1')!.registerForwardHook((_m, _i, out) => new Tensor(out.data.map((v) => v * factor), out.shape, true));
      let scaled: Tensor | null = null;
      const h2 = model.getModule('head.1')!.registerForwardHook((_m, _i, out) => void (scaled = out));
      try {
        const scores = (target as (l: Tensor) => Tensor)(model.forward(input));
        return grad(scores, [scaled!], { gradOutput: new Tensor(new Float32Array(2).fill(1), [2]) })[0]!;
      } finally {
        handle.remove();
        h2.remove();
      }
    };
    const h = 1e-2;
    const plus = gradientAt(1 + h);
    const minus = gradientAt(1 - h);
    const numeric = plus.data.map((v, i) => (v - minus.data[i]!) / (2 * h));
    const scale = Math.max(...Array.from(numeric, Math.abs));
    expect(scale).toBeGreaterThan(0);
    s.layers[0]!.hvp.data.forEach((v, i) => expect(Math.abs(v - numeric[i]!)).toBeLessThanOrEqual(1e-3 * scale));
  });
  it('ShapleyCAM falls back on a central difference where an op has no second derivatives', () => {
    const smooth = new Sequential({ mix: new PointwiseMix(3, 4, 41), soft: new Softplus(), gap: new AdaptiveAvgPool2d(1), flatten: new Flatten(), fc: new Linear(4, 3, { seed: 42 }) });
    const s = shapleyCam(smooth, input, { layer: 'mix', target: 1 });
    expect(s.layers[0]!.hvpMethod).toBe('central difference');
    expect(s.layers[0]!.hvp.data.some((v) => v !== 0)).toBe(true);
  });
  it('Ablation-CAM ablates to min - 1e7 when the layer\'s minimum is not 0 (pytorch-grad-cam\'s ablation_layer.py)', () => {
    // No ReLU: the layer is the input itself, minimum -2. GAP of an ablated channel is -2 - 1e7 (float32).
    const fc = new Linear(2, 2);
    fc.weight.data.set([1, 2, 3, -1]);
    fc.bias!.data.set([0.5, 0]);
    const identity = new Sequential({ pass: new Flatten(0, 0) /* flattening axis 0 alone: an identity layer */, gap: new AdaptiveAvgPool2d(1), flatten: new Flatten(), fc });
    const r = ablationCam(identity, handInput, { layer: 'pass', target: 0 });
    const ablated = Math.fround(-2 - 1e7);
    // GAP = [0.5, 2]; y = 0.5 + 2 * 2 + 0.5 = 5; ablating channel 0: y0 = ablated + 4 + 0.5, channel 1: 0.5 + 2 ablated + 0.5
    const y = 5;
    const scores = [Math.fround(ablated + 4.5), Math.fround(2 * ablated + 1)];
    expectValues((r.layers[0] as { scores: Tensor }).scores, scores, 2);
    expectValues(r.layers[0]!.weights!, scores.map((s) => (y - s) / y), 1e-6 * 4e6);
  });
});

describe('torch-cam additions: identities and naive formulas', () => {
  const model = tinyNet().eval();
  const input = randn([2, 3, 8, 8], { seed: 32 });
  const targets = [0, 2];
  it('SS-CAM without noise and IS-CAM with one step are torch-cam\'s Score-CAM: softmax of the masked scores minus the score', () => {
    const ss = ssCam(model, input, { layer: 'head.1', target: targets, std: 0, samples: 1 });
    const is = isCam(model, input, { layer: 'head.1', target: targets, steps: 1 });
    expectValues(is.layers[0]!.weights!, Array.from(ss.layers[0]!.weights!.data), 1e-6);
    // naive: masks scaled at the layer's resolution, then resized (bilinear, align_corners=False)
    const { a } = naiveCapture(model, input, 'head.1', targets);
    const logits = model.forward(input);
    for (let i = 0; i < 2; i++) {
      const scaled = Array.from(a.data.subarray(i * 80, (i + 1) * 80));
      for (let k = 0; k < 5; k++) {
        const part = scaled.slice(k * 16, (k + 1) * 16);
        const lo = Math.min(...part);
        const hi = Math.max(...part);
        for (let p = 0; p < 16; p++) scaled[k * 16 + p] = (part[p]! - lo) / (hi - lo + 1e-8);
      }
      const masks = interpolate(new Tensor(Float32Array.from(scaled), [1, 5, 4, 4]), { size: [8, 8], mode: 'bilinear' });
      const scores = [0, 1, 2, 3, 4].map((k) => {
        const masked = new Float32Array(192);
        for (let ch = 0; ch < 3; ch++) for (let p = 0; p < 64; p++) masked[ch * 64 + p] = input.data[i * 192 + ch * 64 + p]! * masks.data[k * 64 + p]!;
        return model.forward(new Tensor(masked, [1, 3, 8, 8])).data[targets[i]!]! - logits.data[i * 4 + targets[i]!]!;
      });
      const top = Math.max(...scores);
      const e = scores.map((v) => Math.exp(v - top));
      const total = e.reduce((s, v) => s + v, 0);
      expectValues(new Tensor(ss.layers[0]!.weights!.data.slice(i * 5, (i + 1) * 5), [5]), e.map((v) => v / total), 1e-5);
    }
  });
  it('IS-CAM scales the masked input by torch-cam\'s running coefficient (1/N, 3/N, 6/N, ...)', () => {
    const two = isCam(model, input, { layer: 'head.1', target: targets, steps: 2 });
    // steps 2: coefficients 0.5 and 1.5; with one channel scaled the scores are those of 0.5 x M and 1.5 x M
    const half = isCam(model, input, { layer: 'head.1', target: targets, steps: 1 });
    expect(Array.from(two.layers[0]!.weights!.data)).not.toEqual(Array.from(half.layers[0]!.weights!.data));
    expect(two.layers[0]!.weights!.data.every((w) => w > 0 && w < 1)).toBe(true);
  });
  it('SS-CAM: seeded noise; another seed gives other weights', () => {
    const a = ssCam(model, input, { layer: 'head.1', target: targets, samples: 2 });
    expect(Array.from(ssCam(model, input, { layer: 'head.1', target: targets, samples: 2 }).layers[0]!.weights!.data)).toEqual(Array.from(a.layers[0]!.weights!.data));
    expect(Array.from(ssCam(model, input, { layer: 'head.1', target: targets, samples: 2, seed: 5 }).layers[0]!.weights!.data)).not.toEqual(Array.from(a.layers[0]!.weights!.data));
  });
  it('Smooth Grad-CAM++ without noise: alpha = dA^2 / (2 dA^2 + sum(dA^3 A) + 1e-8), w = sum alpha relu(dA)', () => {
    const r = smoothGradCamPlusPlus(model, input, { layer: 'block.2', target: targets, std: 0, samples: 3 });
    const { a, g } = naiveCapture(model, input, 'block.2', targets);
    const expected: number[] = [];
    for (let nc = 0; nc < 12; nc++) {
      let cubic = 0;
      for (let p = nc * 64; p < (nc + 1) * 64; p++) cubic += g.data[p]! ** 3 * a.data[p]!;
      let w = 0;
      for (let p = nc * 64; p < (nc + 1) * 64; p++) w += (g.data[p]! ** 2 / (2 * g.data[p]! ** 2 + cubic + 1e-8)) * Math.max(g.data[p]!, 0);
      expected.push(w);
    }
    const scale = Math.max(...expected.map(Math.abs));
    expectValues(r.layers[0]!.weights!, expected, 1e-5 * scale);
  });
  it('SobelCAM: |gx| / 2 + |gy| / 2 of the grey image, reflect-101 borders', () => {
    // one channel: a vertical step 0 | 1 between columns 1 and 2 of a 4x4 image
    const step = new Tensor(Float32Array.from({ length: 16 }, (_, i) => (i % 4 >= 2 ? 1 : 0)), [1, 1, 4, 4]);
    const flat = new Sequential({ gap: new AdaptiveAvgPool2d(1), flatten: new Flatten(), fc: new Linear(1, 2, { seed: 1 }) });
    const r = sobelCam(flat, step, { normalize: false });
    // gx at columns 1 and 2 is 4 (1 + 2 + 1), elsewhere 0; gy is 0
    expectValues(r.layers[0]!.raw, Array.from({ length: 16 }, (_, i) => (i % 4 === 1 || i % 4 === 2 ? 2 : 0)));
  });
});
