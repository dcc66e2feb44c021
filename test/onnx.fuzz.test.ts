import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadOnnx } from '../src/onnx/index.js';
import { noGrad } from '../src/tensor/autograd.js';
import { TinycamError } from '../src/tensor/errors.js';
import { setTensorLimits, type TensorLimits } from '../src/tensor/limits.js';
import { Rng } from '../src/tensor/random.js';
import { Tensor } from '../src/tensor/tensor.js';
import { onnxModel, type AttrValue, type ModelSpec, type NodeSpec, type TensorSpec } from './onnx.builder.js';

/*
 * A structure-aware fuzz test of the ONNX importer (issue 8, item 7): valid
 * seed graphs mutated where meaning lives — shapes (initializer dims,
 * declared input sizes, reshape targets, ConstantOfShape sizes), attributes
 * (values, types, presence) and graph edges (inputs rewired, outputs
 * renamed or dropped, nodes removed, duplicated, reordered, op types
 * swapped) — then loaded and run. Every case must end in a result or a
 * TinycamError. Time and memory are bounded by the limits (each tensor at
 * most 2^22 elements, each run at most 2^26 multiply-adds per item), which
 * the mutated graphs run under.
 */

const f = (n: number, seed: number): number[] => Array.from({ length: n }, (_, i) => Math.sin(i * 1.7 + seed) * 0.5);

/** Seed graphs: a CNN, shape arithmetic, padding and resizing, a branch. */
const SEEDS: ModelSpec[] = [
  {
    opset: 13,
    nodes: [
      { op: 'Conv', inputs: ['x', 'w', 'b'], outputs: ['c'], name: '/f/Conv', attrs: { pads: { ints: [1, 1, 1, 1] }, strides: { ints: [1, 1] }, kernel_shape: { ints: [3, 3] } } },
      { op: 'Relu', inputs: ['c'], outputs: ['r'], name: '/f/Relu' },
      { op: 'MaxPool', inputs: ['r'], outputs: ['p'], name: '/f/MaxPool', attrs: { kernel_shape: { ints: [2, 2] }, strides: { ints: [2, 2] } } },
      { op: 'BatchNormalization', inputs: ['p', 's', 'b', 'm', 'v'], outputs: ['n'], name: '/f/BN', attrs: { epsilon: { f: 1e-5 } } },
      { op: 'GlobalAveragePool', inputs: ['n'], outputs: ['g'], name: '/pool' },
      { op: 'Flatten', inputs: ['g'], outputs: ['fl'], name: '/flat', attrs: { axis: { i: 1 } } },
      { op: 'Gemm', inputs: ['fl', 'wf', 'bf'], outputs: ['y'], name: '/fc/Gemm', attrs: { transB: { i: 1 } } },
      { op: 'Softmax', inputs: ['y'], outputs: ['prob'], name: '/Softmax', attrs: { axis: { i: 1 } } },
    ],
    inputs: [{ name: 'x', dims: [1, 2, 8, 8] }],
    outputs: [{ name: 'prob' }],
    initializers: [
      { name: 'w', dims: [4, 2, 3, 3], floats: f(72, 1) }, { name: 'b', dims: [4], floats: f(4, 2) },
      { name: 's', dims: [4], floats: [1, 1, 1, 1] }, { name: 'm', dims: [4], floats: f(4, 3) }, { name: 'v', dims: [4], floats: [1, 2, 1, 2] },
      { name: 'wf', dims: [3, 4], floats: f(12, 4) }, { name: 'bf', dims: [3], floats: f(3, 5) },
    ],
  },
  {
    opset: 13,
    nodes: [
      { op: 'Shape', inputs: ['x'], outputs: ['sh'], name: 'shape' },
      { op: 'Gather', inputs: ['sh', 'zero'], outputs: ['n'], name: 'gather', attrs: { axis: { i: 0 } } },
      { op: 'Unsqueeze', inputs: ['n', 'zero1'], outputs: ['n1'], name: 'unsq' },
      { op: 'Concat', inputs: ['n1', 'minus1'], outputs: ['target'], name: 'concat', attrs: { axis: { i: 0 } } },
      { op: 'Reshape', inputs: ['x', 'target'], outputs: ['flat'], name: 'reshape' },
      { op: 'MatMul', inputs: ['flat', 'wm'], outputs: ['mm'], name: 'matmul' },
      { op: 'Add', inputs: ['mm', 'bias'], outputs: ['sum'], name: 'add' },
      { op: 'Transpose', inputs: ['sum'], outputs: ['t'], name: 'transpose', attrs: { perm: { ints: [1, 0] } } },
      { op: 'ReduceMean', inputs: ['t'], outputs: ['y'], name: 'mean', attrs: { axes: { ints: [1] }, keepdims: { i: 0 } } },
    ],
    inputs: [{ name: 'x', dims: [2, 3, 4] }],
    outputs: [{ name: 'y' }],
    initializers: [
      { name: 'zero', dims: [], ints: [0] }, { name: 'zero1', dims: [1], ints: [0] }, { name: 'minus1', dims: [1], ints: [-1] },
      { name: 'wm', dims: [12, 5], floats: f(60, 6) }, { name: 'bias', dims: [5], floats: f(5, 7) },
    ],
  },
  {
    opset: 13,
    nodes: [
      { op: 'Pad', inputs: ['x', 'pads', 'cv'], outputs: ['pd'], name: 'pad', attrs: { mode: { s: 'constant' } } },
      { op: 'ConstantOfShape', inputs: ['shp'], outputs: ['ones'], name: 'fill', attrs: { value: { t: { dims: [1], floats: [0.5] } } } },
      { op: 'Mul', inputs: ['pd', 'ones'], outputs: ['mu'], name: 'mul' },
      { op: 'Resize', inputs: ['mu', '', 'scales'], outputs: ['rs'], name: 'resize', attrs: { mode: { s: 'linear' }, coordinate_transformation_mode: { s: 'half_pixel' } } },
      { op: 'AveragePool', inputs: ['rs'], outputs: ['ap'], name: 'avg', attrs: { kernel_shape: { ints: [3, 3] }, pads: { ints: [1, 1, 1, 1] } } },
      { op: 'Slice', inputs: ['ap', 'st', 'en', 'ax'], outputs: ['sl'], name: 'slice' },
      { op: 'Sigmoid', inputs: ['sl'], outputs: ['y'], name: 'sigmoid' },
    ],
    inputs: [{ name: 'x', dims: [1, 1, 4, 4] }],
    outputs: [{ name: 'y' }],
    initializers: [
      { name: 'pads', dims: [8], ints: [0, 0, 1, 1, 0, 0, 1, 1] }, { name: 'cv', dims: [], floats: [0.25] },
      { name: 'shp', dims: [4], ints: [1, 1, 6, 6] }, { name: 'scales', dims: [4], floats: [1, 1, 2, 2] },
      { name: 'st', dims: [1], ints: [1] }, { name: 'en', dims: [1], ints: [9] }, { name: 'ax', dims: [1], ints: [2] },
    ],
  },
  {
    opset: 13,
    nodes: [
      { op: 'ReduceSum', inputs: ['x'], outputs: ['total'], name: 'sum', attrs: { keepdims: { i: 0 } } },
      { op: 'Equal', inputs: ['total', 'zero'], outputs: ['cond'], name: 'eq' },
      {
        op: 'If', inputs: ['cond'], outputs: ['y'], name: 'if',
        attrs: {
          then_branch: { g: { nodes: [{ op: 'Neg', inputs: ['x'], outputs: ['a'], name: 'neg' }], outputs: [{ name: 'a' }] } },
          else_branch: { g: { nodes: [{ op: 'LeakyRelu', inputs: ['x'], outputs: ['b'], name: 'leaky', attrs: { alpha: { f: 0.1 } } }], outputs: [{ name: 'b' }] } },
        },
      },
    ],
    inputs: [{ name: 'x', dims: [2, 3] }],
    outputs: [{ name: 'y' }],
    initializers: [{ name: 'zero', dims: [], floats: [0] }],
  },
];

const OPS = ['Conv', 'Relu', 'MaxPool', 'AveragePool', 'Add', 'Mul', 'Concat', 'Reshape', 'Gemm', 'MatMul', 'Pad', 'Slice', 'Gather', 'Transpose', 'Flatten', 'Softmax', 'ConstantOfShape', 'Resize', 'ReduceMean', 'Squeeze', 'Unsqueeze', 'BatchNormalization', 'If', 'Identity', 'ConvTranspose', 'GlobalMaxPool', 'LRN'];
const INTERESTING = [0, 1, 2, 3, -1, -2, 7, 64, 255, 1000, 65535, 65536, 2 ** 31 - 1, -(2 ** 31), 2 ** 40, Number.MAX_SAFE_INTEGER];

class Mutator {
  readonly #rng: Rng;
  constructor(seed: number) {
    this.#rng = new Rng(seed);
  }
  int(n: number): number {
    return Math.floor(this.#rng.uniform() * n);
  }
  pick<T>(list: readonly T[]): T {
    return list[this.int(list.length)]!;
  }
  chance(p: number): boolean {
    return this.#rng.uniform() < p;
  }
  value(): number {
    return this.chance(0.6) ? this.pick(INTERESTING) : this.int(20) - 5;
  }
  attr(): AttrValue {
    switch (this.int(6)) {
      case 0: return { i: this.value() };
      case 1: {
        // Often one value repeated (pads of 65,535 on every side), as shapes that lie tend to be.
        const one = this.value();
        return { ints: Array.from({ length: this.int(7) }, () => (this.chance(0.5) ? one : this.value())) };
      }
      case 2: return { f: this.pick([0, -1, 0.5, 1e30, Number.NaN, Infinity]) };
      case 3: return { s: this.pick(['', 'SAME_UPPER', 'VALID', 'reflect', 'edge', 'nearest', 'linear', 'asymmetric', 'wrap']) };
      case 4: return { floats: Array.from({ length: this.int(5) }, () => this.pick([0, 1, 2, -1, 1e9])) };
      default: return { t: { dims: [this.int(3)], floats: [1, 2, 3].slice(0, this.int(3)) } };
    }
  }
}

const ATTR_NAMES = ['pads', 'strides', 'kernel_shape', 'dilations', 'group', 'axis', 'axes', 'perm', 'transB', 'transA', 'alpha', 'beta', 'auto_pad', 'mode', 'ceil_mode', 'keepdims', 'value', 'to', 'epsilon', 'size', 'shape', 'allowzero'];

/** One structural mutation of a copy of `spec`. */
function mutate(spec: ModelSpec, m: Mutator): ModelSpec {
  const s: ModelSpec = structuredClone(spec);
  const node = (): NodeSpec | undefined => (s.nodes.length ? m.pick(s.nodes) : undefined);
  const names = [...s.inputs.map((v) => v.name), ...(s.initializers ?? []).map((t) => t.name!), ...s.nodes.flatMap((n) => n.outputs)];
  switch (m.int(14)) {
    case 0: { // initializer dims
      const t = s.initializers?.length ? m.pick(s.initializers) : undefined;
      if (t) t.dims = Array.from({ length: m.int(5) }, () => Math.abs(m.value()) % (m.chance(0.5) ? 9 : 70000));
      break;
    }
    case 1: { // integer initializer values (shapes, pads, axes, indices)
      const ints = (s.initializers ?? []).filter((t) => t.ints);
      if (ints.length) {
        const t = m.pick(ints);
        t.ints = t.ints!.map((v) => (m.chance(0.5) ? m.value() : v));
      }
      break;
    }
    case 2: { // declared input shape
      const v = m.pick(s.inputs);
      if (v.dims) v.dims = v.dims.map((d) => (m.chance(0.4) ? m.pick([0, 1, 3, 'N', 100]) : d));
      break;
    }
    case 3: case 4: { // attribute value or type (more often one the node has)
      const n = node();
      if (n) (n.attrs ??= {})[m.chance(0.7) && Object.keys(n.attrs).length ? m.pick(Object.keys(n.attrs)) : m.pick(ATTR_NAMES)] = m.attr();
      break;
    }
    case 5: { // attribute removed
      const n = node();
      if (n?.attrs) delete n.attrs[m.pick(Object.keys(n.attrs).concat('none'))];
      break;
    }
    case 6: { // input rewired
      const n = node();
      if (n && n.inputs.length) n.inputs[m.int(n.inputs.length)] = m.chance(0.8) ? m.pick(names) : m.pick(['', 'ghost']);
      else if (n) n.inputs.push(m.pick(names));
      break;
    }
    case 7: { // input added or removed
      const n = node();
      if (n) {
        if (m.chance(0.5)) n.inputs.splice(m.int(n.inputs.length + 1), 0, m.pick(names));
        else n.inputs.splice(m.int(Math.max(1, n.inputs.length)), 1);
      }
      break;
    }
    case 8: { // output renamed (a duplicate, an input's name, or fresh)
      const n = node();
      if (n) n.outputs[m.int(n.outputs.length)] = m.chance(0.7) ? m.pick(names) : `fresh${m.int(9)}`;
      break;
    }
    case 9: // node removed
      if (s.nodes.length > 1) s.nodes.splice(m.int(s.nodes.length), 1);
      break;
    case 10: { // node duplicated or moved
      const i = m.int(s.nodes.length);
      const [n] = m.chance(0.5) ? [structuredClone(s.nodes[i]!)] : s.nodes.splice(i, 1);
      if (n) s.nodes.splice(m.int(s.nodes.length + 1), 0, n);
      break;
    }
    case 11: { // op type swapped
      const n = node();
      if (n) n.op = m.pick(OPS);
      break;
    }
    case 12: // graph outputs changed
      if (m.chance(0.3)) s.outputs = [];
      else if (m.chance(0.5)) s.outputs.push({ name: m.pick(names) });
      else s.outputs = [{ name: m.pick(names) }];
      break;
    default: { // float initializer replaced by a huge or empty one
      const t = (s.initializers ?? []).filter((x) => x.floats);
      if (t.length) {
        const chosen: TensorSpec = m.pick(t);
        const size = m.pick([0, 1, 5, 4096]);
        chosen.dims = [size];
        chosen.floats = f(size, 9);
      }
    }
  }
  return s;
}

/** An input of the graph's declared shape (symbolic and odd sizes made small). */
function inputFor(dims: (number | string)[] | undefined): Tensor {
  const shape = (dims ?? [2]).map((d) => (typeof d === 'number' && d >= 0 && d <= 64 ? d : 2));
  const n = shape.reduce((a, b) => a * b, 1);
  return new Tensor(Float32Array.from({ length: n }, (_, i) => Math.sin(i)), shape);
}

describe('structure-aware ONNX fuzzing', () => {
  let saved: TensorLimits;
  beforeAll(() => {
    saved = setTensorLimits({ maxElements: 2 ** 22, maxWork: 2 ** 26 });
  });
  afterAll(() => {
    setTensorLimits(saved);
  });

  it('every seed graph runs unmutated', () => {
    for (const spec of SEEDS) {
      const model = loadOnnx(onnxModel(spec));
      const y = noGrad(() => model.forward(inputFor(spec.inputs[0]!.dims)));
      expect(y.size).toBeGreaterThan(0);
    }
  });

  it('1,200 mutated graphs each end in a result or a TinycamError', { timeout: 600_000 }, () => {
    const m = new Mutator(8);
    const outcomes = { result: 0, typed: 0, byCode: new Map<string, number>() };
    for (let k = 0; k < 1200; k++) {
      let spec = SEEDS[k % SEEDS.length]!;
      const rounds = 1 + m.int(3);
      for (let r = 0; r < rounds; r++) spec = mutate(spec, m);
      let bytes: Uint8Array;
      try {
        bytes = onnxModel(spec);
      } catch {
        continue; // the test's writer cannot encode this spec (a non-integer where an integer goes)
      }
      try {
        const model = loadOnnx(bytes);
        const x = inputFor(spec.inputs[0]?.dims);
        noGrad(() => model.run({ ...(model.inputNames[0] ? { [model.inputNames[0]]: x } : {}) }));
        outcomes.result++;
      } catch (e) {
        if (!(e instanceof TinycamError)) {
          throw new Error(`case ${k}: ${(e as Error)?.constructor?.name}: ${(e as Error)?.message}\n${JSON.stringify(spec)}`);
        }
        outcomes.typed++;
        outcomes.byCode.set(e.code, (outcomes.byCode.get(e.code) ?? 0) + 1);
      }
    }
    // The mutations reach both ends and many kinds of refusal.
    expect(outcomes.result).toBeGreaterThan(100);
    expect(outcomes.typed).toBeGreaterThan(300);
    expect([...outcomes.byCode.keys()]).toEqual(expect.arrayContaining(['E_ONNX_GRAPH', 'E_ONNX_NODE', 'E_SHAPE']));
  });
});
