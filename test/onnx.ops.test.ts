import { describe, expect, it } from 'vitest';
import { loadOnnx, supportedOps, type GraphModule } from '../src/onnx/index.js';
import { noGrad } from '../src/tensor/autograd.js';
import { Rng } from '../src/tensor/random.js';
import { Tensor, tensor } from '../src/tensor/tensor.js';
import { gradcheck } from './helpers/gradcheck.js';
import { onnxModel, singleOp, type AttrValue, type TensorSpec, type ValueSpec } from './onnx.builder.js';

/**
 * One op (or a short chain) per hand-built graph, against values computed
 * here by plain loops: ONNX's semantics by opset, old attribute forms, and
 * gradients through the importer's composite ops by finite differences.
 */

function randomTensor(shape: number[], seed: number): Tensor {
  const rng = new Rng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return new Tensor(Float32Array.from({ length: n }, () => rng.normal()), shape);
}

function run(model: GraphModule, ...inputs: Tensor[]): Tensor {
  return noGrad(() => model.forward(...inputs));
}

function close(ours: Tensor, expected: ArrayLike<number>, shape: number[], tol = 1e-5): void {
  expect([...ours.shape]).toEqual(shape);
  expect(ours.size).toBe(expected.length);
  for (let i = 0; i < ours.size; i++) {
    expect(Math.abs(ours.data[i]! - expected[i]!), `element ${i}: ${ours.data[i]} vs ${expected[i]}`).toBeLessThanOrEqual(tol * (1 + Math.abs(expected[i]!)));
  }
}

const op = (name: string, opset: number, inputs: ValueSpec[], attrs: Record<string, AttrValue> = {}, inits: TensorSpec[] = [], nodeInputs?: string[]): GraphModule =>
  loadOnnx(singleOp(name, opset, inputs, attrs, inits, nodeInputs));

describe('ONNX ops against naive loops', () => {
  it('Gemm with alpha, beta, transA, transB and a broadcast C', () => {
    const a = randomTensor([4, 3], 1); // transA: A' is [3, 4]
    const b = randomTensor([5, 4], 2); // transB: B' is [4, 5]
    const c = [0.5, -1, 2, 0, 3];
    const model = op('Gemm', 13, [{ name: 'a', dims: [4, 3] }, { name: 'b', dims: [5, 4] }],
      { alpha: { f: 0.5 }, beta: { f: 2 }, transA: { i: 1 }, transB: { i: 1 } }, [{ name: 'c', dims: [1, 5], floats: c }]);
    const expected: number[] = [];
    for (let m = 0; m < 3; m++) for (let n = 0; n < 5; n++) {
      let s = 0;
      for (let k = 0; k < 4; k++) s += a.get(k, m) * b.get(n, k);
      expected.push(0.5 * s + 2 * c[n]!);
    }
    close(run(model, a, b), expected, [3, 5]);
    gradcheck((x, y) => model.forward(x!, y!), [a, b]);
  });

  it('Softmax: opset 11 normalises the flattened trailing axes, opset 13 one axis', () => {
    const x = randomTensor([2, 3, 4], 3);
    const old = run(op('Softmax', 11, [{ name: 'x', dims: [2, 3, 4] }], { axis: { i: 1 } }), x);
    const modern = run(op('Softmax', 13, [{ name: 'x', dims: [2, 3, 4] }], { axis: { i: 1 } }), x);
    const expectedOld: number[] = [];
    for (let n = 0; n < 2; n++) {
      const row = Array.from(x.data.slice(n * 12, n * 12 + 12));
      const z = row.reduce((s, v) => s + Math.exp(v), 0);
      expectedOld.push(...row.map((v) => Math.exp(v) / z));
    }
    close(old, expectedOld, [2, 3, 4]);
    const expectedNew = new Array<number>(24);
    for (let n = 0; n < 2; n++) for (let w = 0; w < 4; w++) {
      let z = 0;
      for (let c = 0; c < 3; c++) z += Math.exp(x.get(n, c, w));
      for (let c = 0; c < 3; c++) expectedNew[n * 12 + c * 4 + w] = Math.exp(x.get(n, c, w)) / z;
    }
    close(modern, expectedNew, [2, 3, 4]);
    const logOld = run(op('LogSoftmax', 9, [{ name: 'x', dims: [2, 3, 4] }]), x);
    close(logOld, expectedOld.map(Math.log), [2, 3, 4]);
    const model = op('Softmax', 11, [{ name: 'x', dims: [2, 3, 4] }], { axis: { i: 1 } });
    gradcheck((t) => model.forward(t!), [x]);
  });

  it('Reshape: 0 copies, -1 infers, allowzero keeps 0; Flatten at axis 0 and 2', () => {
    const x = randomTensor([2, 3, 4], 4);
    const reshape = (shape: number[], allowzero = 0, dims = [2, 3, 4]): GraphModule =>
      op('Reshape', 14, [{ name: 'x', dims }], allowzero ? { allowzero: { i: 1 } } : {}, [{ name: 's', dims: [shape.length], ints: shape }]);
    expect([...run(reshape([0, -1]), x).shape]).toEqual([2, 12]);
    expect([...run(reshape([-1, 0, 2]), x).shape]).toEqual([4, 3, 2]);
    expect(Array.from(run(reshape([0, -1]), x).data)).toEqual(Array.from(x.data));
    expect([...run(reshape([0, 4], 1, [0, 3]), new Tensor(new Float32Array(0), [0, 3])).shape]).toEqual([0, 4]);
    expect([...run(op('Flatten', 13, [{ name: 'x' }], { axis: { i: 0 } }), x).shape]).toEqual([1, 24]);
    expect([...run(op('Flatten', 13, [{ name: 'x' }], { axis: { i: 2 } }), x).shape]).toEqual([6, 4]);
    expect([...run(op('Flatten', 13, [{ name: 'x' }], { axis: { i: -1 } }), x).shape]).toEqual([6, 4]);
  });

  it('Slice: attributes before opset 10, inputs with negative steps and INT64 sentinels after', () => {
    const x = tensor(Array.from({ length: 20 }, (_, i) => i), [4, 5]);
    const old = op('Slice', 9, [{ name: 'x', dims: [4, 5] }], { starts: { ints: [1, 0] }, ends: { ints: [1000, -1] }, axes: { ints: [0, 1] } });
    close(run(old, x), [5, 6, 7, 8, 10, 11, 12, 13, 15, 16, 17, 18], [3, 4]);
    const INT64_MIN = -9223372036854775808n;
    const modern = op('Slice', 13, [{ name: 'x', dims: [4, 5] }], {}, [
      { name: 'starts', dims: [2], ints: [-1, 4] },
      { name: 'ends', dims: [2], ints: [INT64_MIN, 0] },
      { name: 'axes', dims: [2], ints: [0, -1] },
      { name: 'steps', dims: [2], ints: [-2, -3] },
    ]);
    // rows 3, 1; columns 4, 1
    close(run(modern, x), [19, 16, 9, 6], [2, 2]);
    gradcheck((t) => modern.forward(t!), [randomTensor([4, 5], 5)]);
  });

  it('Squeeze and Unsqueeze: axes attribute before opset 13, input from 13', () => {
    const x = randomTensor([3, 1, 2], 6);
    expect([...run(op('Unsqueeze', 11, [{ name: 'x' }], { axes: { ints: [0, -1] } }), x).shape]).toEqual([1, 3, 1, 2, 1]);
    const u13 = op('Unsqueeze', 13, [{ name: 'x' }], {}, [{ name: 'axes', dims: [2], ints: [3, 1] }]);
    expect([...run(u13, x).shape]).toEqual([3, 1, 1, 1, 2]);
    expect([...run(op('Squeeze', 11, [{ name: 'x' }], { axes: { ints: [1] } }), x).shape]).toEqual([3, 2]);
    expect([...run(op('Squeeze', 13, [{ name: 'x' }], {}, [{ name: 'axes', dims: [1], ints: [-2] }]), x).shape]).toEqual([3, 2]);
    expect([...run(op('Squeeze', 13, [{ name: 'x' }]), x).shape]).toEqual([3, 2]);
    expect(() => run(op('Squeeze', 11, [{ name: 'x' }], { axes: { ints: [0] } }), x)).toThrow(/cannot squeeze axis 0 of size 3/);
  });

  it('Pad: attribute pads (opset 2) and input pads (opset 11), constant, reflect and edge', () => {
    const x = tensor([[1, 2, 3], [4, 5, 6]]);
    const constant = op('Pad', 2, [{ name: 'x', dims: [2, 3] }], { pads: { ints: [0, 1, 1, 0] }, value: { f: 9 } });
    close(run(constant, x), [9, 1, 2, 3, 9, 4, 5, 6, 9, 9, 9, 9], [3, 4]);
    const reflect = op('Pad', 11, [{ name: 'x', dims: [2, 3] }], { mode: { s: 'reflect' } }, [{ name: 'p', dims: [4], ints: [0, 2, 0, 1] }]);
    close(run(reflect, x), [3, 2, 1, 2, 3, 2, 6, 5, 4, 5, 6, 5], [2, 6]);
    const edge = op('Pad', 13, [{ name: 'x', dims: [2, 3] }], { mode: { s: 'edge' } }, [{ name: 'p', dims: [4], ints: [1, 0, 0, 1] }]);
    close(run(edge, x), [1, 2, 3, 3, 1, 2, 3, 3, 4, 5, 6, 6], [3, 4]);
    gradcheck((t) => reflect.forward(t!), [randomTensor([2, 3], 7)]);
  });

  it('Clip with attributes (opset 6) and with optional inputs (opset 11+)', () => {
    const x = tensor([-3, -0.5, 0.5, 3]);
    close(run(op('Clip', 6, [{ name: 'x' }], { min: { f: -1 }, max: { f: 1 } }), x), [-1, -0.5, 0.5, 1], [4]);
    close(run(op('Clip', 12, [{ name: 'x' }], {}, [{ name: 'lo', dims: [], floats: [0] }]), x), [0, 0, 0.5, 3], [4]);
    const onlyMax = op('Clip', 13, [{ name: 'x' }], {}, [{ name: 'hi', dims: [], floats: [0.25] }], ['x', '', 'hi']);
    close(run(onlyMax, x), [-3, -0.5, 0.25, 0.25], [4]);
  });

  it('Gather with a 2-D index tensor and negative indices', () => {
    const x = tensor(Array.from({ length: 12 }, (_, i) => i), [3, 4]);
    const model = op('Gather', 13, [{ name: 'x', dims: [3, 4] }], { axis: { i: 1 } }, [{ name: 'i', dims: [2, 2], ints: [0, -1, 2, 2] }]);
    const expected: number[] = [];
    for (let r = 0; r < 3; r++) for (const c of [0, 3, 2, 2]) expected.push(r * 4 + c);
    close(run(model, x), expected, [3, 2, 2]);
    const scalar = op('Gather', 13, [{ name: 'x', dims: [3, 4] }], { axis: { i: 0 } }, [{ name: 'i', dims: [], ints: [1] }]);
    close(run(scalar, x), [4, 5, 6, 7], [4]);
    gradcheck((t) => model.forward(t!), [randomTensor([3, 4], 8)]);
  });

  it('computes shapes with integer semantics: Shape, Gather, Div, Cast, ConstantOfShape, Concat, Reshape', () => {
    // The dynamic flatten old PyTorch exports write: reshape(x, [shape[0], -1]), plus shape[1] / 2 integer division.
    const bytes = onnxModel({
      opset: 11,
      nodes: [
        { op: 'Shape', inputs: ['x'], outputs: ['s'] },
        { op: 'Gather', inputs: ['s', 'zero'], outputs: ['n'], attrs: { axis: { i: 0 } } },
        { op: 'Gather', inputs: ['s', 'one'], outputs: ['c'], attrs: { axis: { i: 0 } } },
        { op: 'Div', inputs: ['c', 'two'], outputs: ['half'] },
        { op: 'Unsqueeze', inputs: ['n'], outputs: ['n1'], attrs: { axes: { ints: [0] } } },
        { op: 'Unsqueeze', inputs: ['half'], outputs: ['h1'], attrs: { axes: { ints: [0] } } },
        { op: 'Concat', inputs: ['n1', 'h1', 'minus1'], outputs: ['shape'], attrs: { axis: { i: 0 } } },
        { op: 'Reshape', inputs: ['x', 'shape'], outputs: ['y'] },
        { op: 'ConstantOfShape', inputs: ['shape3'], outputs: ['filled'], attrs: { value: { t: { dims: [1], floats: [2.5] } } } },
        { op: 'Cast', inputs: ['filled'], outputs: ['ints'], attrs: { to: { i: 7 } } },
      ],
      inputs: [{ name: 'x', dims: [2, 5, 2] }],
      outputs: [{ name: 'y' }, { name: 'ints' }],
      initializers: [
        { name: 'zero', dims: [], ints: [0] },
        { name: 'one', dims: [], ints: [1] },
        { name: 'two', dims: [], ints: [2] },
        { name: 'minus1', dims: [1], ints: [-1] },
        { name: 'shape3', dims: [1], ints: [3] },
      ],
    });
    const model = loadOnnx(bytes);
    const out = noGrad(() => model.run({ x: randomTensor([2, 5, 2], 9) }));
    // 5 / 2 is 2 in int64 arithmetic: [2, 2, 5].
    expect([...out.y!.shape]).toEqual([2, 2, 5]);
    close(out.ints!, [2, 2, 2], [3]);
  });

  it('ReduceMean with axes attribute, ReduceSum with axes input (opset 13), keepdims', () => {
    const x = randomTensor([2, 3, 4], 10);
    const mean = run(op('ReduceMean', 11, [{ name: 'x' }], { axes: { ints: [-1] }, keepdims: { i: 0 } }), x);
    const expectedMean: number[] = [];
    for (let i = 0; i < 6; i++) expectedMean.push(Array.from(x.data.slice(4 * i, 4 * i + 4)).reduce((a, b) => a + b) / 4);
    close(mean, expectedMean, [2, 3]);
    const sum = run(op('ReduceSum', 13, [{ name: 'x' }], {}, [{ name: 'axes', dims: [1], ints: [1] }]), x);
    const expectedSum: number[] = [];
    for (let n = 0; n < 2; n++) for (let w = 0; w < 4; w++) expectedSum.push(x.get(n, 0, w) + x.get(n, 1, w) + x.get(n, 2, w));
    close(sum, expectedSum, [2, 1, 4]);
    const all = run(op('ReduceSum', 13, [{ name: 'x' }]), x);
    close(all, [Array.from(x.data).reduce((a, b) => a + b)], [1, 1, 1], 1e-4);
  });

  it('activations with ONNX defaults: HardSigmoid alpha 0.2, LeakyRelu 0.01, Elu, Selu, Softplus, PRelu [C,1,1]', () => {
    const x = tensor([-4, -1, 0, 0.5, 3]);
    close(run(op('HardSigmoid', 13, [{ name: 'x' }]), x), [0, 0.3, 0.5, 0.6, 1], [5]);
    close(run(op('LeakyRelu', 13, [{ name: 'x' }]), x), [-0.04, -0.01, 0, 0.5, 3], [5]);
    close(run(op('Elu', 13, [{ name: 'x' }], { alpha: { f: 2 } }), x), [-4, -1, 0, 0.5, 3].map((v) => (v > 0 ? v : 2 * Math.expm1(v))), [5]);
    const selu = [-4, -1, 0, 0.5, 3].map((v) => 1.0507009873554805 * (v > 0 ? v : 1.6732632423543772 * Math.expm1(v)));
    close(run(op('Selu', 13, [{ name: 'x' }]), x), selu, [5]);
    close(run(op('Softplus', 13, [{ name: 'x' }]), x), [-4, -1, 0, 0.5, 3].map((v) => Math.log1p(Math.exp(v))), [5]);
    close(run(op('HardSwish', 14, [{ name: 'x' }]), x), [-4, -1, 0, 0.5, 3].map((v) => v * Math.min(1, Math.max(0, v / 6 + 0.5))), [5]);
    const xs = randomTensor([1, 2, 2, 2], 11);
    const prelu = op('PRelu', 13, [{ name: 'x', dims: [1, 2, 2, 2] }], {}, [{ name: 's', dims: [2, 1, 1], floats: [0.1, -2] }]);
    close(run(prelu, xs), Array.from(xs.data).map((v, i) => (v > 0 ? v : v * (i < 4 ? 0.1 : -2))), [1, 2, 2, 2]);
  });

  it('MaxPool with auto_pad SAME_UPPER and ceil_mode; AveragePool with and without count_include_pad', () => {
    const x = randomTensor([1, 1, 5, 5], 12);
    const pool = (k: number, s: number, pads: [number, number, number, number], ceil: boolean, reduce: 'max' | 'avg', includePad: boolean): number[] => {
      const out: number[] = [];
      const size = (n: number, p0: number, p1: number): number => {
        const raw = (n + p0 + p1 - k) / s;
        let o = (ceil ? Math.ceil(raw) : Math.floor(raw)) + 1;
        if (ceil && (o - 1) * s >= n + p0) o--;
        return o;
      };
      const oh = size(5, pads[0], pads[2]);
      const ow = size(5, pads[1], pads[3]);
      for (let i = 0; i < oh; i++) for (let j = 0; j < ow; j++) {
        let best = -Infinity;
        let sum = 0;
        let count = 0;
        for (let u = 0; u < k; u++) for (let v = 0; v < k; v++) {
          const r = i * s - pads[0] + u;
          const c = j * s - pads[1] + v;
          const inPadded = r >= -pads[0] && r < 5 + pads[2] && c >= -pads[1] && c < 5 + pads[3];
          if (r >= 0 && r < 5 && c >= 0 && c < 5) {
            best = Math.max(best, x.get(0, 0, r, c));
            sum += x.get(0, 0, r, c);
            count++;
          } else if (inPadded && includePad) count++;
        }
        out.push(reduce === 'max' ? best : sum / count);
      }
      return out;
    };
    const same = op('MaxPool', 12, [{ name: 'x' }], { kernel_shape: { ints: [2, 2] }, strides: { ints: [2, 2] }, auto_pad: { s: 'SAME_UPPER' } });
    close(run(same, x), pool(2, 2, [0, 0, 1, 1], false, 'max', false), [1, 1, 3, 3]);
    const ceil = op('MaxPool', 12, [{ name: 'x' }], { kernel_shape: { ints: [3, 3] }, strides: { ints: [2, 2] }, ceil_mode: { i: 1 }, pads: { ints: [0, 0, 0, 0] } });
    close(run(ceil, x), pool(3, 2, [0, 0, 0, 0], true, 'max', false), [1, 1, 2, 2]);
    for (const include of [0, 1]) {
      const avg = op('AveragePool', 11, [{ name: 'x' }], { kernel_shape: { ints: [3, 3] }, strides: { ints: [2, 2] }, pads: { ints: [1, 1, 1, 1] }, count_include_pad: { i: include } });
      close(run(avg, x), pool(3, 2, [1, 1, 1, 1], false, 'avg', include === 1), [1, 1, 3, 3]);
    }
  });

  it('BatchNormalization (opset 7 attributes): running statistics in eval, batch statistics in train', () => {
    const x = randomTensor([2, 2, 3, 3], 13);
    const scale = [1.5, -0.5];
    const bias = [0.1, 0.2];
    const mean = [0.3, -0.2];
    const variance = [2, 0.5];
    const model = op('BatchNormalization', 7, [{ name: 'x' }], { epsilon: { f: 1e-3 }, spatial: { i: 1 }, momentum: { f: 0.9 } }, [
      { name: 'scale', dims: [2], floats: scale }, { name: 'b', dims: [2], floats: bias },
      { name: 'mean', dims: [2], floats: mean }, { name: 'var', dims: [2], floats: variance },
    ]);
    expect(model.training).toBe(false);
    const expected = Array.from(x.data).map((v, i) => {
      const c = Math.floor(i / 9) % 2;
      return ((v - mean[c]!) / Math.sqrt(variance[c]! + 1e-3)) * scale[c]! + bias[c]!;
    });
    close(run(model, x), expected, [2, 2, 3, 3]);
    model.train();
    const trained = run(model, x);
    // Batch statistics: each channel of the output has mean = bias and std = |scale| (biased variance).
    for (let c = 0; c < 2; c++) {
      const values: number[] = [];
      for (let n = 0; n < 2; n++) for (let k = 0; k < 9; k++) values.push(trained.data[n * 18 + c * 9 + k]!);
      const m = values.reduce((a, b) => a + b) / 18;
      const sd = Math.sqrt(values.reduce((a, b) => a + (b - m) ** 2, 0) / 18);
      expect(m).toBeCloseTo(bias[c]!, 4);
      expect(sd).toBeCloseTo(Math.abs(scale[c]!), 2);
    }
    // Running mean moved by PyTorch momentum 1 - 0.9 toward the batch mean.
    expect(model.initializers.get('mean')!.data[0]).not.toBeCloseTo(mean[0]!, 6);
  });

  it('Dropout is the identity in eval mode and drops in train mode', () => {
    const x = randomTensor([1000], 14);
    const model = op('Dropout', 10, [{ name: 'x' }], { ratio: { f: 0.5 } });
    expect(Array.from(run(model, x).data)).toEqual(Array.from(x.data));
    model.train();
    const dropped = run(model, x);
    const zeros = Array.from(dropped.data).filter((v) => v === 0).length;
    expect(zeros).toBeGreaterThan(350);
    expect(zeros).toBeLessThan(650);
  });

  it('Transpose with the default (reversed) permutation, Concat, Sum/Max/Min of three', () => {
    const x = randomTensor([2, 3, 4], 15);
    const t = run(op('Transpose', 13, [{ name: 'x' }]), x);
    expect([...t.shape]).toEqual([4, 3, 2]);
    expect(t.get(3, 1, 0)).toBe(x.get(0, 1, 3));
    const a = tensor([1, 5, -2]);
    const b = tensor([[3], [0]]);
    const c = tensor([2, 2, 2]);
    const three = (name: string): GraphModule => op(name, 13, [{ name: 'a' }, { name: 'b' }, { name: 'c' }]);
    close(run(three('Sum'), a, b, c), [6, 10, 3, 3, 7, 0], [2, 3]);
    close(run(three('Max'), a, b, c), [3, 5, 3, 2, 5, 2], [2, 3]);
    close(run(three('Min'), a, b, c), [1, 2, -2, 0, 0, -2], [2, 3]);
  });

  it('LRN uses the ONNX window for even sizes', () => {
    const x = randomTensor([1, 5, 1, 1], 16);
    const model = op('LRN', 13, [{ name: 'x' }], { size: { i: 4 }, alpha: { f: 0.5 }, beta: { f: 0.75 }, bias: { f: 2 } });
    const v = Array.from(x.data);
    const expected = v.map((xc, c) => {
      let s = 0;
      // [c - floor((size-1)/2), c + ceil((size-1)/2)] = [c - 1, c + 2]
      for (let j = Math.max(0, c - 1); j <= Math.min(4, c + 2); j++) s += v[j]! ** 2;
      return xc / (2 + (0.5 / 4) * s) ** 0.75;
    });
    close(run(model, x), expected, [1, 5, 1, 1]);
  });

  it('Conv with auto_pad SAME_LOWER and 1-D Conv, checked by gradient and by loops', () => {
    const x = randomTensor([1, 1, 4, 4], 17);
    const w = randomTensor([1, 1, 2, 2], 18);
    const model = op('Conv', 11, [{ name: 'x' }], { auto_pad: { s: 'SAME_LOWER' } }, [{ name: 'w', dims: [1, 1, 2, 2], floats: Array.from(w.data) }]);
    const expected: number[] = [];
    // SAME_LOWER with kernel 2: one padding row/column at the top/left.
    for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) {
      let s = 0;
      for (let u = 0; u < 2; u++) for (let v = 0; v < 2; v++) {
        const r = i - 1 + u;
        const c = j - 1 + v;
        if (r >= 0 && c >= 0) s += x.get(0, 0, r, c) * w.get(0, 0, u, v);
      }
      expected.push(s);
    }
    close(run(model, x), expected, [1, 1, 4, 4], 1e-5);
    gradcheck((t) => model.forward(t!), [x]);
    const x1 = randomTensor([1, 2, 6], 19);
    const conv1d = op('Conv', 13, [{ name: 'x' }], { pads: { ints: [1, 0] }, strides: { ints: [2] } }, [{ name: 'w', dims: [1, 2, 3], floats: [1, 2, 3, -1, 0, 1] }]);
    const expected1: number[] = [];
    for (let o = 0; o < 3; o++) {
      let s = 0;
      for (let c = 0; c < 2; c++) for (let k = 0; k < 3; k++) {
        const p = o * 2 - 1 + k;
        if (p >= 0 && p < 6) s += x1.get(0, c, p) * [1, 2, 3, -1, 0, 1][c * 3 + k]!;
      }
      expected1.push(s);
    }
    close(run(conv1d, x1), expected1, [1, 1, 3]);
  });

  it("implements every op of the issue's list, plus the extras torch.onnx exports need", () => {
    const issue = ('Conv ConvTranspose Gemm MatMul Add Sub Mul Div Sum Max Min Relu Clip LeakyRelu PRelu Elu Selu Sigmoid ' +
      'HardSigmoid HardSwish Tanh Softplus Exp Log Sqrt Pow Neg MaxPool AveragePool GlobalAveragePool GlobalMaxPool ' +
      'BatchNormalization LRN Concat Flatten Reshape Transpose Squeeze Unsqueeze Pad Dropout Identity Softmax LogSoftmax ' +
      'Constant ConstantOfShape Shape Gather Slice ReduceMean ReduceSum Cast').split(' ');
    expect(issue).toHaveLength(52);
    // Added after the issue: Equal and If (torch.onnx's LocalResponseNorm at opset 11+), Resize and Upsample (F.interpolate).
    const extras = ['Equal', 'If', 'Resize', 'Upsample'];
    // Issue 9 (transformer, segmentation and detector exports), and the relatives that come with them for free.
    const modern = ('Erf Gelu LayerNormalization InstanceNormalization GroupNormalization Expand Where Split Tile Gather ' +
      'GatherElements ScatterND Range ConstantOfShape CumSum ReduceMax ReduceMin ReduceMean ReduceSum ReduceL2 ReduceProd ' +
      'ArgMax TopK Einsum Softmax LogSoftmax MatMul HardSigmoid HardSwish Sigmoid Mish Sqrt Pow Reciprocal Abs Neg Floor ' +
      'Ceil Sign Cast Not And Or Equal Less Greater Mod ConvTranspose Resize DepthToSpace SpaceToDepth NonMaxSuppression').split(' ');
    const relatives = 'ArgMin GatherND Round Xor LessOrEqual GreaterOrEqual ReduceL1 ReduceSumSquare ReduceLogSum ReduceLogSumExp'.split(' ');
    expect(supportedOps()).toEqual([...new Set([...issue, ...extras, ...modern, ...relatives])].sort());
  });

  it('GlobalMaxPool, GlobalAveragePool, Identity, Neg, Log, Exp, Sqrt, Pow', () => {
    const x = randomTensor([1, 2, 2, 3], 20);
    const v = Array.from(x.data);
    const gmp = op('GlobalMaxPool', 13, [{ name: 'x' }]);
    close(run(gmp, x), [Math.max(...v.slice(0, 6)), Math.max(...v.slice(6))], [1, 2, 1, 1]);
    gradcheck((t) => gmp.forward(t!), [x]);
    const mean = (a: number[]): number => a.reduce((p, q) => p + q) / a.length;
    close(run(op('GlobalAveragePool', 13, [{ name: 'x' }]), x), [mean(v.slice(0, 6)), mean(v.slice(6))], [1, 2, 1, 1]);
    const identity = run(op('Identity', 13, [{ name: 'x' }]), x);
    expect(identity).not.toBe(x);
    close(identity, v, [1, 2, 2, 3]);
    close(run(op('Neg', 13, [{ name: 'x' }]), x), v.map((a) => -a), [1, 2, 2, 3]);
    const positive = tensor([0.5, 2, 9]);
    close(run(op('Log', 13, [{ name: 'x' }]), positive), [Math.log(0.5), Math.log(2), Math.log(9)], [3]);
    close(run(op('Exp', 13, [{ name: 'x' }]), positive), [Math.exp(0.5), Math.exp(2), Math.exp(9)], [3]);
    close(run(op('Sqrt', 13, [{ name: 'x' }]), positive), [Math.sqrt(0.5), Math.sqrt(2), 3], [3]);
    close(run(op('Pow', 13, [{ name: 'x' }], {}, [{ name: 'e', dims: [], floats: [3] }]), positive), [0.125, 8, 729], [3]);
  });

  it('MatMul broadcasts batch axes', () => {
    const a = randomTensor([2, 1, 2, 3], 21);
    const b = randomTensor([4, 3, 2], 22);
    const y = run(op('MatMul', 13, [{ name: 'a' }, { name: 'b' }]), a, b);
    expect([...y.shape]).toEqual([2, 4, 2, 2]);
    let s = 0;
    for (let k = 0; k < 3; k++) s += a.get(1, 0, 1, k) * b.get(3, k, 0);
    expect(y.get(1, 3, 1, 0)).toBeCloseTo(s, 5);
  });

  it('ConvTranspose with strides, pads and output_shape', () => {
    const x = randomTensor([1, 1, 3, 3], 23);
    const w = randomTensor([1, 1, 3, 3], 24);
    // Naive scatter: out[i*s + u - pad, j*s + v - pad] += x[i,j] w[u,v]
    const scatter = (size: number, pad: number): number[] => {
      const out = new Array<number>(size * size).fill(0);
      for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) for (let u = 0; u < 3; u++) for (let v = 0; v < 3; v++) {
        const r = i * 2 + u - pad;
        const c = j * 2 + v - pad;
        if (r >= 0 && r < size && c >= 0 && c < size) out[r * size + c]! += x.get(0, 0, i, j) * w.get(0, 0, u, v);
      }
      return out;
    };
    const weights = [{ name: 'w', dims: [1, 1, 3, 3], floats: Array.from(w.data) }];
    const padded = op('ConvTranspose', 11, [{ name: 'x' }], { strides: { ints: [2, 2] }, pads: { ints: [1, 1, 1, 1] } }, weights);
    close(run(padded, x), scatter(5, 1), [1, 1, 5, 5]);
    // output_shape 6x6 from a full size of 7: total padding 1, put at the start (not SAME_UPPER).
    const shaped = op('ConvTranspose', 11, [{ name: 'x' }], { strides: { ints: [2, 2] }, output_shape: { ints: [6, 6] } }, weights);
    close(run(shaped, x), scatter(6, 1), [1, 1, 6, 6]);
    gradcheck((t) => shaped.forward(t!), [x]);
  });
});
