import { describe, expect, it } from 'vitest';
import { OnnxUnsupportedError, loadOnnx } from '../src/onnx/index.js';
import { noGrad } from '../src/tensor/autograd.js';
import { Rng } from '../src/tensor/random.js';
import { Tensor } from '../src/tensor/tensor.js';
import { gradcheck } from './helpers/gradcheck.js';
import { onnxModel, singleOp, type NodeSpec } from './onnx.builder.js';

/** Equal, If (branch chosen by a Shape-derived condition) and pools on 5-D input, against naive loops. */

function randomTensor(shape: number[], seed: number): Tensor {
  const rng = new Rng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return new Tensor(Float32Array.from({ length: n }, () => rng.normal()), shape);
}

function expectClose(ours: Tensor, expected: number[], shape: number[]): void {
  expect([...ours.shape]).toEqual(shape);
  expect(ours.size).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) expect(Math.abs(ours.data[i]! - expected[i]!)).toBeLessThan(1e-5 * (1 + Math.abs(expected[i]!)));
}

const INT64 = 7;

describe('Equal', () => {
  it('compares with broadcasting, 1 where equal and 0 elsewhere', () => {
    const model = loadOnnx(singleOp('Equal', 13, [{ name: 'a', dims: [2, 3] }, { name: 'b', dims: [3] }]));
    const a = new Tensor(Float32Array.from([1, 2, 3, 3, 2, 1]), [2, 3]);
    const b = new Tensor(Float32Array.from([1, 5, 1]), [3]);
    expectClose(noGrad(() => model.forward(a, b)), [1, 0, 0, 0, 0, 1], [2, 3]);
  });
});

/** y = If(Shape(x)[1] == 3) then 2 * x (a branch initializer) else -x; both branches read the outer x. */
function rankTestModel(thenOp = 'Mul'): Uint8Array {
  const nodes: NodeSpec[] = [
    { op: 'Shape', inputs: ['x'], outputs: ['s'] },
    { op: 'Gather', inputs: ['s', 'one'], outputs: ['s1'], attrs: { axis: { i: 0 } } },
    { op: 'Equal', inputs: ['s1', 'three'], outputs: ['c'] },
    {
      op: 'If', inputs: ['c'], outputs: ['y'], name: '/If', attrs: {
        then_branch: { g: { nodes: [{ op: thenOp, inputs: ['x', 'two'], outputs: ['t'], name: '/then' }], outputs: [{ name: 't' }], initializers: [{ name: 'two', dims: [], floats: [2] }] } },
        else_branch: { g: { nodes: [{ op: 'Neg', inputs: ['x'], outputs: ['e'], name: '/else' }], outputs: [{ name: 'e' }] } },
      },
    },
  ];
  return onnxModel({
    opset: 13, nodes, inputs: [{ name: 'x' }], outputs: [{ name: 'y' }],
    initializers: [{ name: 'one', dims: [], ints: [1], dataType: INT64 }, { name: 'three', dims: [], ints: [3], dataType: INT64 }],
  });
}

describe('If', () => {
  it('runs only the branch the condition selects; branches read outer tensors and their own initializers', () => {
    const model = loadOnnx(rankTestModel());
    const x3 = randomTensor([2, 3], 1);
    expectClose(noGrad(() => model.forward(x3)), [...x3.data].map((v) => 2 * v), [2, 3]);
    const x4 = randomTensor([2, 4], 2);
    expectClose(noGrad(() => model.forward(x4)), [...x4.data].map((v) => -v), [2, 4]);
  });

  it('differentiates through the taken branch', () => {
    const model = loadOnnx(rankTestModel());
    gradcheck((x) => model.forward(x!), [randomTensor([2, 3], 3)]);
    gradcheck((x) => model.forward(x!), [randomTensor([2, 5], 4)]);
  });

  it('lists unsupported ops inside branches with the rest in one error at load time', () => {
    let error: unknown;
    try {
      loadOnnx(rankTestModel('NotAnOp'));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(OnnxUnsupportedError);
    expect((error as OnnxUnsupportedError).unsupported.map((u) => u.opType)).toEqual(['NotAnOp']);
    expect((error as OnnxUnsupportedError).unsupported[0]!.nodes).toEqual(['/then']);
  });
});

/** Naive 3-D pooling over [N, C, D, H, W] with explicit pads (no ceil mode); avg excludes padding. */
function naivePool3d(x: Tensor, k: number[], s: number[], p: number[], kind: 'max' | 'avg'): { data: number[]; shape: number[] } {
  const [n, c, ...dims] = x.shape as number[];
  const out = dims.map((d, a) => Math.floor((d + p[a]! + p[a + 3]! - k[a]!) / s[a]!) + 1);
  const data: number[] = [];
  for (let b = 0; b < n! * c!; b++) {
    for (let od = 0; od < out[0]!; od++) for (let oh = 0; oh < out[1]!; oh++) for (let ow = 0; ow < out[2]!; ow++) {
      let acc = kind === 'max' ? -Infinity : 0;
      let count = 0;
      for (let kd = 0; kd < k[0]!; kd++) for (let kh = 0; kh < k[1]!; kh++) for (let kw = 0; kw < k[2]!; kw++) {
        const d = od * s[0]! - p[0]! + kd, h = oh * s[1]! - p[1]! + kh, w = ow * s[2]! - p[2]! + kw;
        if (d < 0 || h < 0 || w < 0 || d >= dims[0]! || h >= dims[1]! || w >= dims[2]!) continue;
        const v = x.data[((b * dims[0]! + d) * dims[1]! + h) * dims[2]! + w]!;
        acc = kind === 'max' ? Math.max(acc, v) : acc + v;
        count++;
      }
      data.push(kind === 'max' ? acc : acc / count);
    }
  }
  return { data, shape: [n!, c!, ...out] };
}

describe('pools on 5-D input', () => {
  it('AveragePool with a window along D only (torch.onnx LocalResponseNorm form), with padding and stride', () => {
    const attrs = { kernel_shape: { ints: [3, 1, 1] }, strides: { ints: [2, 1, 1] }, pads: { ints: [1, 0, 0, 2, 0, 0] } };
    const model = loadOnnx(singleOp('AveragePool', 11, [{ name: 'x' }], attrs));
    const x = randomTensor([2, 1, 6, 3, 2], 5);
    const ref = naivePool3d(x, [3, 1, 1], [2, 1, 1], [1, 0, 0, 2, 0, 0], 'avg');
    expectClose(noGrad(() => model.forward(x)), ref.data, ref.shape);
    gradcheck((t) => model.forward(t!), [x]);
  });

  it('MaxPool and AveragePool with a window over H and W only', () => {
    const attrs = { kernel_shape: { ints: [1, 2, 3] }, strides: { ints: [1, 2, 1] }, pads: { ints: [0, 1, 0, 0, 0, 1] } };
    const x = randomTensor([1, 2, 3, 4, 5], 6);
    for (const kind of ['max', 'avg'] as const) {
      const model = loadOnnx(singleOp(kind === 'max' ? 'MaxPool' : 'AveragePool', 11, [{ name: 'x' }], attrs));
      const ref = naivePool3d(x, [1, 2, 3], [1, 2, 1], [0, 1, 0, 0, 0, 1], kind);
      expectClose(noGrad(() => model.forward(x)), ref.data, ref.shape);
    }
  });

  it('pools a window over D, H and W together (3-D pools); refuses one with uneven pads on two axes, naming the node', () => {
    const attrs = { kernel_shape: { ints: [2, 3, 2] }, strides: { ints: [1, 2, 2] }, pads: { ints: [1, 1, 0, 1, 1, 0] } };
    const x = randomTensor([1, 2, 3, 5, 4], 7);
    for (const kind of ['max', 'avg'] as const) {
      const model = loadOnnx(singleOp(kind === 'max' ? 'MaxPool' : 'AveragePool', 11, [{ name: 'x' }], attrs));
      const ref = naivePool3d(x, [2, 3, 2], [1, 2, 2], [1, 1, 0, 1, 1, 0], kind);
      expectClose(noGrad(() => model.forward(x)), ref.data, ref.shape);
      gradcheck((t) => model.forward(t!), [x]);
    }
    const uneven = loadOnnx(singleOp('AveragePool', 11, [{ name: 'x' }], { kernel_shape: { ints: [2, 2, 1] }, pads: { ints: [1, 0, 0, 0, 1, 0] } }));
    expect(() => uneven.forward(randomTensor([1, 1, 3, 3, 3], 7))).toThrow(/AveragePool node '\/AveragePool'.*trivial/);
  });
});
