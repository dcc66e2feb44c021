import { describe, expect, it, vi } from 'vitest';
import { setBackend, type BackendName } from '../src/tensor/backend.js';
import { grad, noGrad } from '../src/tensor/autograd.js';
import { sum } from '../src/tensor/ops/reduce.js';
import { randn } from '../src/tensor/random.js';
import type { Tensor } from '../src/tensor/tensor.js';
import type { Module } from '../src/layers/module.js';
import { loadOnnx, type GraphModule } from '../src/onnx/index.js';
import type { NodeModule } from '../src/onnx/layers.js';
import { gradCam } from '../src/cam/methods/gradCam.js';
import { onnxModel, randomWeight as weight, type NodeSpec } from './onnx.builder.js';
import { expectSameBits } from './helpers/buffer-pool.js';

/**
 * Conv -> BatchNormalization -> Relu and Conv -> Relu of an ONNX graph run as
 * one convolution (src/onnx/fusion.ts) only where nothing can tell: the
 * reference is the same graph run node by node, which a run gets when the
 * caller keeps the intermediate names.
 */

const C = 6;
const HW = 8;
const N = 2;


/** Conv(+bias) -> BatchNormalization -> Relu -> Conv -> Relu -> GlobalAveragePool -> Flatten -> Gemm, named as PyTorch exports (module paths). */
function chainGraph(statistics = C): GraphModule {
  const nodes: NodeSpec[] = [
    { op: 'Conv', name: '/features/conv/Conv', inputs: ['x', 'w1', 'b1'], outputs: ['c1'], attrs: { pads: { ints: [1, 1, 1, 1] } } },
    { op: 'BatchNormalization', name: '/features/bn/BatchNormalization', inputs: ['c1', 'gamma', 'beta', 'mean', 'var'], outputs: ['n1'] },
    { op: 'Relu', name: '/features/relu/Relu', inputs: ['n1'], outputs: ['r1'] },
    { op: 'Conv', name: '/head/conv/Conv', inputs: ['r1', 'w2'], outputs: ['c2'], attrs: { pads: { ints: [1, 1, 1, 1] } } },
    { op: 'Relu', name: '/head/relu/Relu', inputs: ['c2'], outputs: ['r2'] },
    { op: 'GlobalAveragePool', name: '/gap/GlobalAveragePool', inputs: ['r2'], outputs: ['g'] },
    { op: 'Flatten', name: '/Flatten', inputs: ['g'], outputs: ['f'] },
    { op: 'Gemm', name: '/fc/Gemm', inputs: ['f', 'wfc', 'bfc'], outputs: ['y'], attrs: { transB: { i: 1 } } },
  ];
  return loadOnnx(onnxModel({
    opset: 13,
    nodes,
    inputs: [{ name: 'x', dims: ['N', 3, HW, HW] }],
    outputs: [{ name: 'y', dims: ['N', 4] }],
    initializers: [
      weight('w1', [C, 3, 3, 3], 1), weight('b1', [C], 2), weight('w2', [C, C, 3, 3], 3, 0.2),
      weight('gamma', [statistics], 4), weight('beta', [statistics], 5), weight('mean', [statistics], 6, 0.2),
      { name: 'var', dims: [statistics], floats: Array.from({ length: statistics }, (_, i) => 0.5 + i / statistics) },
      weight('wfc', [4, C], 7), weight('bfc', [4], 8),
    ],
  }));
}

const input = (seed: number): Tensor => randn([N, 3, HW, HW], { seed });
/** The run node by node: keeping the intermediate names turns the fusions off. */
const nodeByNode = (model: GraphModule, x: Tensor) => noGrad(() => model.run({ x }, ['y', 'c1', 'n1', 'r1', 'c2', 'r2']));
/** model.run({ x }, keep), checked to have run none of `skipped` (nodes by name: their forwards). */
function fusedRun(model: GraphModule, x: Tensor, keep: string[], skipped: string[]): Record<string, Tensor> {
  const spies = skipped.map((name) => vi.spyOn(model.layer(name), 'forward'));
  try {
    const out = noGrad(() => model.run({ x }, keep));
    for (const spy of spies) expect(spy).not.toHaveBeenCalled();
    return out;
  } finally {
    for (const spy of spies) spy.mockRestore();
  }
}

/** Whether a module's forward ran during `f`. */
function ran(module: Module, f: () => unknown): boolean {
  return called(module, 'forward', f);
}

/** Whether a Conv node ran fused with the batch norm after it (NodeModule.executeThen) during `f`. */
function fusedConv(conv: Module, f: () => unknown): boolean {
  return called(conv as NodeModule, 'executeThen', f);
}

function called<M extends object>(object: M, method: keyof M & string, f: () => unknown): boolean {
  const spy = vi.spyOn(object, method as never);
  try {
    f();
    return spy.mock.calls.length > 0;
  } finally {
    spy.mockRestore();
  }
}

describe.each(['js', 'wasm'] as BackendName[])('ONNX conv chains run as one convolution on the %s kernels', (backend) => {
  const use = async (): Promise<void> => {
    expect(await setBackend(backend)).toBe(true);
  };

  it("gives the nodes' values bit for bit without running the batch norm and Relu nodes", async () => {
    await use();
    const model = chainGraph();
    const x = input(1);
    const reference = nodeByNode(model, x);
    const fused = fusedRun(model, x, ['y', 'r1'], ['n1', 'r1', 'r2']);
    expectSameBits(fused.r1!.data, reference.r1!.data);
    expectSameBits(fused.y!.data, reference.y!.data);
    expect(reference.r1!.data.some((v) => v > 0) && reference.n1!.data.some((v) => v < 0)).toBe(true); // the ReLU did something
    // The reference really ran node by node.
    expect(ran(model.layer('n1'), () => nodeByNode(model, x))).toBe(true);
  });

  it('runs the nodes one by one when a hook on a node or on a module path could see an intermediate', async () => {
    await use();
    const model = chainGraph();
    const x = input(2);
    const reference = nodeByNode(model, x);
    for (const name of ['c1', 'n1', 'features.conv', 'features.bn', 'r1']) {
      const seen: Tensor[] = [];
      const handle = model.layer(name).registerForwardHook((_m, _inputs, out) => void seen.push(out as Tensor));
      try {
        let y!: Tensor;
        // (A hook on the conv's output leaves the batch norm -> Relu after it to fuse on their own.)
        expect(fusedConv(model.layer('c1'), () => (y = noGrad(() => model.forward(x))))).toBe(false);
        expectSameBits(y.data, reference.y!.data);
        expect(seen).toHaveLength(1);
        const expected = reference[name.startsWith('features.') ? (name === 'features.conv' ? 'c1' : 'n1') : name]!;
        expectSameBits(seen[0]!.data, expected.data);
      } finally {
        handle.remove();
      }
    }
    // No hook any more: fused again.
    expect(fusedConv(model.layer('c1'), () => noGrad(() => model.forward(x)))).toBe(true);
  });

  it('runs the nodes one by one when a gradient is recorded through them, or in training mode', async () => {
    await use();
    const model = chainGraph();
    const x = input(3).requireGrad();
    let y!: Tensor;
    expect(ran(model.layer('n1'), () => (y = model.forward(x)))).toBe(true);
    const [dx] = grad(sum(y), [x]);
    expect(dx!.data.some((v) => v !== 0)).toBe(true);
    model.train();
    expect(ran(model.layer('n1'), () => noGrad(() => model.forward(input(4))))).toBe(true);
  });

  it("raises the batch norm's own error when its statistics do not fit the convolution", async () => {
    await use();
    const model = chainGraph(C + 1);
    const x = input(5);
    let expected = '';
    try {
      nodeByNode(model, x);
    } catch (e) {
      expected = (e as Error).message;
    }
    expect(expected).toMatch(/batchNorm/);
    expect(() => noGrad(() => model.forward(x))).toThrow(expected);
  });

  it("reports the skipped nodes' shapes in layers()", async () => {
    await use();
    const model = chainGraph();
    const shapes = Object.fromEntries(model.layers(input(6)).map((l) => [l.name, l.shape]));
    for (const name of ['n1', 'features.bn', 'r1', 'features.relu', 'features.conv', 'c2', 'r2']) expect(shapes[name]).toEqual([N, C, HW, HW]);
  });

  it("gives Grad-CAM's maps of the node-by-node run, bit for bit", async () => {
    await use();
    const model = chainGraph();
    const x = input(7);
    for (const layer of ['r1', 'r2', 'head.relu']) {
      const fused = gradCam(model, x, { layer });
      // A hook that only watches turns the first chain's fusion off.
      const handle = model.layer('c1').registerForwardHook(() => undefined);
      try {
        const reference = gradCam(model, x, { layer });
        expectSameBits(fused.maps.data, reference.maps.data);
        expect(fused.maps.data.some((v) => v > 0)).toBe(true);
      } finally {
        handle.remove();
      }
    }
  });
});

describe.each(['js', 'wasm'] as BackendName[])('ONNX Conv -> BatchNormalization -> Clip (ReLU6) on the %s kernels', (backend) => {
  /** The chain as PyTorch exports MobileNetV2's blocks: Clip's bounds as inputs (opset 11 on) or attributes (before). */
  function clipGraph(opset: 6 | 13): GraphModule {
    const bounds: Pick<NodeSpec, 'inputs' | 'attrs'> = opset >= 11 ? { inputs: ['n', 'zero', 'six'], attrs: {} } : { inputs: ['n'], attrs: { min: { f: 0 }, max: { f: 6 } } };
    return loadOnnx(onnxModel({
      opset,
      nodes: [
        { op: 'Conv', name: '/block/conv/Conv', inputs: ['x', 'w'], outputs: ['c'], attrs: { pads: { ints: [1, 1, 1, 1] } } },
        { op: 'BatchNormalization', name: '/block/bn/BatchNormalization', inputs: ['c', 'gamma', 'beta', 'mean', 'var'], outputs: ['n'] },
        { op: 'Clip', name: '/block/relu6/Clip', inputs: bounds.inputs, outputs: ['r'], attrs: bounds.attrs },
        { op: 'GlobalAveragePool', name: '/gap/GlobalAveragePool', inputs: ['r'], outputs: ['y'] },
      ],
      inputs: [{ name: 'x', dims: ['N', 3, HW, HW] }],
      outputs: [{ name: 'y' }],
      initializers: [
        weight('w', [C, 3, 3, 3], 11, 1.5), weight('gamma', [C], 12), weight('beta', [C], 13, 2), weight('mean', [C], 14, 0.2),
        { name: 'var', dims: [C], floats: Array.from({ length: C }, (_, i) => 0.5 + i / C) },
        { name: 'zero', dims: [], floats: [0] }, { name: 'six', dims: [], floats: [6] },
      ].filter((t) => opset >= 11 || (t.name !== 'zero' && t.name !== 'six')),
    }));
  }

  it.each([13, 6] as const)('gives the nodes\' values bit for bit without running the batch norm and Clip nodes (opset %i)', async (opset) => {
    expect(await setBackend(backend)).toBe(true);
    const model = clipGraph(opset);
    const x = input(21);
    const reference = noGrad(() => model.run({ x }, ['y', 'c', 'n', 'r']));
    const fused = fusedRun(model, x, ['y', 'r'], ['n', 'r']);
    expectSameBits(fused.r!.data, reference.r!.data);
    expectSameBits(fused.y!.data, reference.y!.data);
    // Both bounds were reached: the clamp did something on each side.
    expect(reference.n!.data.some((v) => v < 0) && reference.n!.data.some((v) => v > 6)).toBe(true);
  });
});

describe.each(['js', 'wasm'] as BackendName[])('ONNX BatchNormalization -> Relu with no conv before it, on the %s kernels', (backend) => {
  it("gives the nodes' values bit for bit in one output, and runs them one by one under a hook", async () => {
    expect(await setBackend(backend)).toBe(true);
    // A DenseNet's pre-activation: the batch norm reads a tensor that others read too (here the graph input).
    const model = loadOnnx(onnxModel({
      opset: 13,
      nodes: [
        { op: 'BatchNormalization', name: '/dense/norm/BatchNormalization', inputs: ['x', 'gamma', 'beta', 'mean', 'var'], outputs: ['n'] },
        { op: 'Relu', name: '/dense/relu/Relu', inputs: ['n'], outputs: ['r'] },
        { op: 'Add', name: '/dense/Add', inputs: ['r', 'x'], outputs: ['y'] },
      ],
      inputs: [{ name: 'x', dims: ['N', C, HW, HW] }],
      outputs: [{ name: 'y' }],
      initializers: [
        weight('gamma', [C], 31), weight('beta', [C], 32), weight('mean', [C], 33, 0.2),
        { name: 'var', dims: [C], floats: Array.from({ length: C }, (_, i) => 0.5 + i / C) },
      ],
    }));
    const x = randn([N, C, HW, HW], { seed: 34 });
    const reference = noGrad(() => model.run({ x }, ['y', 'n', 'r']));
    const fused = fusedRun(model, x, ['y', 'r'], ['n', 'r']);
    expectSameBits(fused.r!.data, reference.r!.data);
    expectSameBits(fused.y!.data, reference.y!.data);
    expect(reference.n!.data.some((v) => v < 0)).toBe(true);
    const handle = model.layer('dense.norm').registerForwardHook(() => undefined);
    try {
      expect(ran(model.layer('n'), () => noGrad(() => model.run({ x }, ['y'])))).toBe(true);
    } finally {
      handle.remove();
    }
  });
});

describe('which ONNX conv chains fuse', () => {
  it('leaves a chain whose intermediate is a graph output or read twice to run node by node', () => {
    const nodes: NodeSpec[] = [
      { op: 'Conv', name: 'conv', inputs: ['x', 'w'], outputs: ['c'] },
      { op: 'BatchNormalization', name: 'bn', inputs: ['c', 'gamma', 'beta', 'mean', 'var'], outputs: ['n'] },
      { op: 'Relu', name: 'relu', inputs: ['n'], outputs: ['r'] },
      { op: 'Add', name: 'add', inputs: ['r', 'c'], outputs: ['y'] },
    ];
    const model = loadOnnx(onnxModel({
      opset: 13,
      nodes,
      inputs: [{ name: 'x', dims: [1, 2, 4, 4] }],
      outputs: [{ name: 'y' }],
      initializers: [weight('w', [2, 2, 1, 1], 1), weight('gamma', [2], 2), weight('beta', [2], 3), weight('mean', [2], 4), { name: 'var', dims: [2], floats: [1, 2] }],
    }));
    expect(fusedConv(model.layer('c'), () => noGrad(() => model.forward(randn([1, 2, 4, 4], { seed: 1 }))))).toBe(false);
  });
});
