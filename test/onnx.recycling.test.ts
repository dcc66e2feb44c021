import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { setBackend, type BackendName } from '../src/tensor/backend.js';
import { grad, noGrad } from '../src/tensor/autograd.js';
import { sum } from '../src/tensor/ops/reduce.js';
import { randn } from '../src/tensor/random.js';
import { Tensor } from '../src/tensor/tensor.js';
import { bufferPoolStats } from '../src/tensor/buffer-pool.js';
import { GraphRunner } from '../src/layers/graph.js';
import { Module } from '../src/layers/module.js';
import { loadOnnx, type GraphModule } from '../src/onnx/index.js';
import { gradCam } from '../src/cam/methods/gradCam.js';
import { onnxModel, randomWeight as weight, type NodeSpec, type TensorSpec } from './onnx.builder.js';
import { describeReference, referencePath } from './helpers/shared.js';
import { expectSameBits, freshPoolPerTest, poisonPool, recordedInputGradient, scribbleOverPool, withoutPool } from './helpers/buffer-pool.js';

/**
 * Intermediate tensors of an ONNX run handed back to the buffer pool once
 * their last reader has run (src/layers/graphRecycling.ts) must be
 * invisible: the reference is the same graph with the pool off (every buffer
 * fresh), and anything the caller asked for, a hook saw, a view shares or a
 * gradient graph holds must keep its values.
 */

freshPoolPerTest();





const copy = (t: Tensor): Float32Array => new Float32Array(t.data);


// Shapes of the small graphs: input [N, 3, 8, 8], 8 channels inside.
const C = 8;
const HW = 8;
const N = 2;
const ACTIVATION = N * C * HW * HW;

/** Conv -> Relu -> Conv -> BatchNormalization -> Relu -> Add(+ first Relu) -> MaxPool -> GlobalAveragePool -> Flatten -> Gemm -> Softmax. */
function residualGraph(): GraphModule {
  const nodes: NodeSpec[] = [
    { op: 'Conv', name: '/stem/conv/Conv', inputs: ['x', 'w1', 'b1'], outputs: ['c1'], attrs: { pads: { ints: [1, 1, 1, 1] } } },
    { op: 'Relu', name: '/stem/relu/Relu', inputs: ['c1'], outputs: ['r1'] },
    { op: 'Conv', name: '/block/conv/Conv', inputs: ['r1', 'w2'], outputs: ['c2'], attrs: { pads: { ints: [1, 1, 1, 1] } } },
    { op: 'BatchNormalization', name: '/block/bn/BatchNormalization', inputs: ['c2', 'gamma', 'beta', 'mean', 'var'], outputs: ['n2'] },
    { op: 'Relu', name: '/block/relu/Relu', inputs: ['n2'], outputs: ['r2'] },
    { op: 'Add', name: '/block/Add', inputs: ['r2', 'r1'], outputs: ['s'] },
    { op: 'MaxPool', name: '/pool/MaxPool', inputs: ['s'], outputs: ['p'], attrs: { kernel_shape: { ints: [2, 2] }, strides: { ints: [2, 2] } } },
    { op: 'GlobalAveragePool', name: '/gap/GlobalAveragePool', inputs: ['p'], outputs: ['g'] },
    { op: 'Flatten', name: '/Flatten', inputs: ['g'], outputs: ['f'] },
    { op: 'Gemm', name: '/fc/Gemm', inputs: ['f', 'wfc', 'bfc'], outputs: ['logits'], attrs: { transB: { i: 1 } } },
    { op: 'Softmax', name: '/Softmax', inputs: ['logits'], outputs: ['y'], attrs: { axis: { i: 1 } } },
  ];
  return loadOnnx(onnxModel({
    opset: 13,
    nodes,
    inputs: [{ name: 'x', dims: ['N', 3, HW, HW] }],
    outputs: [{ name: 'y', dims: ['N', 5] }],
    initializers: [
      weight('w1', [C, 3, 3, 3], 1), weight('b1', [C], 2), weight('w2', [C, C, 3, 3], 3, 0.2),
      weight('gamma', [C], 4), weight('beta', [C], 5),
      weight('mean', [C], 6, 0.2), { name: 'var', dims: [C], floats: Array.from({ length: C }, (_, i) => 0.5 + i / C) },
      weight('wfc', [5, C], 7), weight('bfc', [5], 8),
    ],
  }));
}

const input = (seed: number): Tensor => randn([N, 3, HW, HW], { seed });

describe.each(['js', 'wasm'] as BackendName[])('an ONNX graph with the pool on the %s kernels', (backend) => {
  const use = async (): Promise<void> => {
    expect(await setBackend(backend)).toBe(true);
  };

  it('gives the same outputs and logits as with the pool off, call after call, and feeds the pool', async () => {
    await use();
    const model = residualGraph();
    const x = input(10);
    const reference = withoutPool(() => noGrad(() => model.forwardOutputs(x)));
    const keptBefore = bufferPoolStats().kept;
    poisonPool([ACTIVATION, N * C * (HW / 2) ** 2], 3);
    for (let call = 0; call < 3; call++) {
      const [out] = noGrad(() => model.forwardOutputs(x));
      expectSameBits(out!.value.data, reference[0]!.value.data);
      expectSameBits(out!.logits!.data, reference[0]!.logits!.data);
    }
    // c1 (read by Relu), c2, n2, r2 (read by Add), s, p: six buffers a call; r1 is read twice and goes after the Add.
    expect(bufferPoolStats().kept - keptBefore).toBeGreaterThanOrEqual(3 * 6);
    expect(bufferPoolStats().reused).toBeGreaterThan(0);
  });

  it("Grad-CAM's maps at a module path are the same with the pool as without", async () => {
    await use();
    const model = residualGraph();
    const x = input(11);
    // 'pool' (the MaxPool's module path): the frozen pass up to it recycles the Add's inputs and output
    // (the convolutions' own intermediates are never made: src/onnx/fusion.ts).
    const reference = withoutPool(() => gradCam(model, x, { layer: 'pool' }));
    const keptBefore = bufferPoolStats().kept;
    const pooled = gradCam(model, x, { layer: 'pool' });
    const again = gradCam(model, x, { layer: 'pool' });
    expect(bufferPoolStats().kept).toBeGreaterThan(keptBefore); // the frozen pass up to the layer
    expectSameBits(pooled.maps.data, reference.maps.data);
    expectSameBits(again.maps.data, reference.maps.data);
    expect(pooled.maps.data.some((v) => v > 0)).toBe(true);
  });
});

describe.each(['js', 'wasm'] as BackendName[])('ONNX ops that take their output from the pool, on the %s kernels', (backend) => {
  /** One node over x [N, C, 8, 8] (and a second input y of the same shape, where the op takes two). */
  function oneNode(op: string, opset: number, extraInputs: string[], initializers: TensorSpec[] = []): GraphModule {
    return loadOnnx(onnxModel({
      opset,
      nodes: [{ op, name: `/${op}`, inputs: ['x', ...extraInputs], outputs: ['z'] }],
      inputs: [{ name: 'x', dims: [N, C, HW, HW] }, ...(extraInputs.includes('y') ? [{ name: 'y', dims: [N, C, HW, HW] }] : [])],
      outputs: [{ name: 'z' }],
      initializers,
    }));
  }
  const bnParams = ['gamma', 'beta', 'mean', 'var'];
  const bnWeights = [weight('gamma', [C], 60), weight('beta', [C], 61), weight('mean', [C], 62), { name: 'var', dims: [C], floats: Array.from({ length: C }, (_, i) => 0.25 + i / C) }];

  it.each([
    ['Relu', 13, [], []],
    ['Add', 13, ['y'], []],
    ['Sum', 9, ['y'], []],
    ['BatchNormalization', 13, bnParams, bnWeights],
    ['BatchNormalization', 6, bnParams, bnWeights], // the old form, as the model zoo writes it
  ] as [string, number, string[], TensorSpec[]][])('%s (opset %i) overwrites every element of a recycled (NaN) buffer', async (op, opset, extra, inits) => {
    expect(await setBackend(backend)).toBe(true);
    const model = oneNode(op, opset, extra, inits);
    const feeds = { x: randn([N, C, HW, HW], { seed: 63 }), ...(extra.includes('y') ? { y: randn([N, C, HW, HW], { seed: 64 }) } : {}) };
    const reference = withoutPool(() => noGrad(() => model.run(feeds)));
    poisonPool([ACTIVATION], 1);
    const pooled = noGrad(() => model.run(feeds));
    expect(bufferPoolStats().heldBytes).toBe(0); // it took the poisoned buffer
    expectSameBits(pooled.z!.data, reference.z!.data);
    // A run that records a gradient takes one too (the buffer is its output's alone) and records the backward rule.
    poisonPool([ACTIVATION], 1);
    const x = feeds.x.requireGrad();
    const z = model.run({ ...feeds, x }).z!;
    expect(z.requiresGrad).toBe(true);
    expect(bufferPoolStats().heldBytes).toBe(0);
    expectSameBits(z.data, reference.z!.data);
  });
});

describe('nothing that could still be read goes back to the pool', () => {
  it('tensors the caller asked for keep their values through later runs (the pool is used around them)', () => {
    const model = residualGraph();
    const asked = ['c1', 'r1', 'n2', 's', 'y'];
    const first = noGrad(() => model.run({ x: input(20) }, asked));
    const copies = asked.map((name) => copy(first[name]!));
    const keptBefore = bufferPoolStats().kept;
    for (let seed = 21; seed < 24; seed++) noGrad(() => model.run({ x: input(seed) }, asked));
    expect(bufferPoolStats().kept).toBeGreaterThan(keptBefore);
    scribbleOverPool(asked.map((name) => first[name]!.size));
    asked.forEach((name, i) => expectSameBits(first[name]!.data, copies[i]!));
  });

  it('returns only the names asked, and an unknown name still gets the closest ones', () => {
    const model = residualGraph();
    const out = noGrad(() => model.run({ x: input(25) }, ['r2']));
    expect(Object.keys(out)).toEqual(['r2']);
    expect(() => noGrad(() => model.run({ x: input(25) }, ['r3']))).toThrow(/no tensor named 'r3'. Closest: 'r1', 'r2'/);
  });

  it("what a hooked node or a hooked module path saw (a CAM's layer) keeps its values through later runs", () => {
    const model = residualGraph();
    const seen: { tensor: Tensor; copy: Float32Array }[] = [];
    const keep = (t: Tensor): void => void seen.push({ tensor: t, copy: copy(t) });
    const handles = [
      model.layer('c2').registerForwardHook((_m, inputs, out) => { keep(inputs[0]!); keep(out); }), // a node: its input r1 and output c2
      model.layer('block').registerForwardHook((_m, _inputs, out) => keep(out)), // a module path: the Add's output
      model.layer('stem.relu').registerForwardHook((_m, _inputs, out) => keep(out)), // a scope over one node
    ];
    try {
      for (let seed = 30; seed < 33; seed++) noGrad(() => model.forward(input(seed)));
    } finally {
      for (const h of handles) h.remove();
    }
    expect(seen.length).toBe(12);
    scribbleOverPool(seen.map(({ tensor }) => tensor.size));
    for (const { tensor, copy: values } of seen) expectSameBits(tensor.data, values);
    expect(bufferPoolStats().kept).toBeGreaterThan(0); // the rest still went back
  });

  it('a hook that removes itself while it runs still keeps what it saw', () => {
    const model = residualGraph();
    let kept: Tensor | null = null;
    const handle = model.layer('n2').registerForwardHook((_m, _inputs, out) => {
      kept = out;
      handle.remove();
    });
    noGrad(() => model.forward(input(34)));
    const values = copy(kept!);
    for (let seed = 35; seed < 37; seed++) noGrad(() => model.forward(input(seed)));
    scribbleOverPool([values.length]);
    expectSameBits(kept!.data, values);
  });

  it('a run that records a gradient gives nothing back, and its gradients are those of a run with the pool off', () => {
    const model = residualGraph();
    const run = () => recordedInputGradient((x) => model.forward(x), () => input(40), [ACTIVATION]);
    const reference = withoutPool(run).gradient;
    poisonPool([ACTIVATION, N * C * (HW / 2) ** 2], 3);
    const { gradient, kept } = run();
    expectSameBits(gradient, reference);
    expect(kept).toBe(0);
  });

  it("a weight that requires grad keeps its node's input (the weight's gradient reads it): the same gradient as with the pool off", () => {
    const model = residualGraph();
    const w2 = model.initializers.get('w2')!;
    w2.requiresGrad = true;
    try {
      // Between the forward and the backward pass, whatever the pool holds is overwritten.
      const gradients = (): Float32Array => {
        const score = sum(model.forward(input(41)));
        scribbleOverPool([ACTIVATION]);
        return grad(score, [w2])[0]!.data;
      };
      const reference = withoutPool(gradients);
      poisonPool([ACTIVATION], 3);
      expectSameBits(gradients(), reference);
      expectSameBits(gradients(), reference);
    } finally {
      w2.requiresGrad = false;
    }
  });
});

/**
 * Views: Reshape, Flatten, Dropout (eval) and Identity return tensors over
 * their input's buffer. The input must not go back when its other readers
 * are done, nor the view when its readers are: the buffer lives on in the
 * other name. Each graph below gives the pool a conv-sized buffer to hand
 * the next convolution while the view is still to be read.
 */
describe('views of a tensor', () => {
  const spatial = [N, C, HW, HW];
  const conv = (name: string, x: string, w: string, y: string): NodeSpec => ({ op: 'Conv', name, inputs: [x, w], outputs: [y], attrs: { pads: { ints: [1, 1, 1, 1] } } });
  const weights = [weight('w1', [C, 3, 3, 3], 50), weight('w2', [C, C, 3, 3], 51, 0.2)];

  /** Run with the pool off, then on (poisoned, twice), asking for `outputs`: the same bits each time. */
  function expectUnchanged(model: GraphModule, outputs: string[]): void {
    const x = input(52);
    const reference = withoutPool(() => noGrad(() => model.run({ x }, outputs)));
    for (let call = 0; call < 2; call++) {
      poisonPool([ACTIVATION], 3);
      const out = noGrad(() => model.run({ x }, outputs));
      for (const name of outputs) expectSameBits(out[name]!.data, reference[name]!.data);
    }
  }

  it.each(['Reshape', 'Flatten'])('a %s of a convolution read after its other reader (a Relu) and the next convolution', (op) => {
    // c1 -> Relu -> Conv -> c2;  c1 -> view -> (after c2) Reshape back -> Add(c2, back)
    const view: NodeSpec = op === 'Reshape'
      ? { op: 'Reshape', name: '/view', inputs: ['c1', 'flat'], outputs: ['v'] }
      : { op: 'Flatten', name: '/view', inputs: ['c1'], outputs: ['v'], attrs: { axis: { i: 1 } } };
    const model = loadOnnx(onnxModel({
      opset: 13,
      nodes: [
        conv('/conv1', 'x', 'w1', 'c1'),
        view,
        { op: 'Relu', name: '/relu', inputs: ['c1'], outputs: ['r'] },
        conv('/conv2', 'r', 'w2', 'c2'),
        { op: 'Reshape', name: '/back', inputs: ['v', 'shape'], outputs: ['b'] },
        { op: 'Add', name: '/add', inputs: ['c2', 'b'], outputs: ['y'] },
      ],
      inputs: [{ name: 'x', dims: ['N', 3, HW, HW] }],
      outputs: [{ name: 'y' }],
      initializers: [...weights, { name: 'flat', dims: [2], ints: [N, -1] }, { name: 'shape', dims: [4], ints: spatial }],
    }));
    expectUnchanged(model, ['y']);
  });

  it.each(['Dropout', 'Identity'])("a %s's output read by a Relu while its input is asked for", (op) => {
    // c1 -> op -> d (c1's buffer) -> Relu -> r -> Conv -> y; the caller reads c1 after the run.
    const model = loadOnnx(onnxModel({
      opset: 13,
      nodes: [
        conv('/conv1', 'x', 'w1', 'c1'),
        { op, name: '/pass', inputs: ['c1'], outputs: ['d'] },
        { op: 'Relu', name: '/relu', inputs: ['d'], outputs: ['r'] },
        conv('/conv2', 'r', 'w2', 'y'),
      ],
      inputs: [{ name: 'x', dims: ['N', 3, HW, HW] }],
      outputs: [{ name: 'y' }],
      initializers: weights,
    }));
    expectUnchanged(model, ['c1', 'y']);
  });
});

describe('the runner on its own', () => {
  /** A sealed node: a Module with a stock forward that returns a fresh tensor. */
  class Fresh extends Module {
    constructor(readonly inputs: string[], readonly outputs: string[], readonly fn: (xs: Tensor[]) => Tensor) {
      super();
    }
    get description(): string {
      return `node ${this.outputs[0]}`;
    }
    override isolatedForward(): boolean {
      return true;
    }
    forward(...xs: Tensor[]): Tensor {
      return this.fn(xs);
    }
    execute(xs: (Tensor | undefined)[]): { outputs: Tensor[]; types: null[] } {
      return { outputs: [this.forward(...xs.filter((t): t is Tensor => !!t))], types: [] };
    }
  }
  const plus = (xs: Tensor[]): Tensor => new Tensor(xs[0]!.data.map((v, i) => v + (xs[1]?.data[i] ?? 1)), xs[0]!.shape);

  const runnerOf = (nodes: { inputs: readonly string[]; outputs: readonly string[]; description: string; execute: Fresh['execute'] }[]): GraphRunner<null> =>
    new GraphRunner<null>({ weights: new Map(), constants: [], steps: nodes.map((node) => ({ node })), defaultType: null, missingOutput: (m) => new Error(m) });
  const feed = (): [string, { tensor: Tensor; type: null }][] => [['x', { tensor: new Tensor(Float32Array.from([1, 2, 3]), [3]), type: null }]];

  it('gives a tensor read twice back only after its second reader, and never a feed', () => {
    // a = x + 1; b = a + 1; c = b + a; y = c + 1: a and b go back after c, c after y.
    const runner = runnerOf([new Fresh(['x'], ['a'], plus), new Fresh(['a'], ['b'], plus), new Fresh(['b', 'a'], ['c'], plus), new Fresh(['c'], ['y'], plus)]);
    const before = bufferPoolStats().kept;
    const feeds = feed();
    const env = runner.run(feeds, { keep: ['y'] });
    expect([...env.keys()]).toEqual(['y']);
    expect(Array.from(env.get('y')!.tensor.data)).toEqual([6, 8, 10]);
    expect(bufferPoolStats().kept - before).toBe(3);
    expect(Array.from(feeds[0]![1].tensor.data)).toEqual([1, 2, 3]);
    // Without `keep`: every tensor of the run, nothing recycled.
    const all = runner.run(feed());
    expect([...all.keys()].sort()).toEqual(['a', 'b', 'c', 'x', 'y']);
    expect(bufferPoolStats().kept - before).toBe(3);
  });

  it('recycles nothing made or read by a node that is not sealed (not a Module, or hooked)', () => {
    const first = new Fresh(['x'], ['a'], plus);
    const second = new Fresh(['a'], ['y'], plus);
    const kept = (): number => {
      const before = bufferPoolStats().kept;
      runnerOf([first, second]).run(feed(), { keep: ['y'] });
      return bufferPoolStats().kept - before;
    };
    expect(kept()).toBe(1); // a
    for (const m of [first, second]) {
      const h = m.registerForwardHook(() => undefined);
      expect(kept()).toBe(0);
      h.remove();
    }
    const plain = { inputs: ['a'], outputs: ['y'], description: 'plain', execute: (xs: (Tensor | undefined)[]) => ({ outputs: [plus([xs[0]!])], types: [] as null[] }) };
    const before = bufferPoolStats().kept;
    runnerOf([first, plain]).run(feed(), { keep: ['y'] });
    expect(bufferPoolStats().kept).toBe(before);
  });
});

describeReference('onnx-model-zoo-light', 'model-zoo graphs with the pool as without', () => {
  const ROOT = referencePath('onnx-model-zoo-light');
  /** arange(n)/n in the input's shape, as the zoo's reference input. */
  const zooInput = (model: GraphModule): Tensor => {
    const shape = model.inputShapes[model.inputNames[0]!]!.map(Number);
    const n = shape.reduce((a, b) => a * b, 1);
    return new Tensor(Float32Array.from({ length: n }, (_, i) => i / n), shape);
  };

  // SqueezeNet: Concat, Dropout, a Softmax over [1, 1000, 1, 1]; ResNet-50: Sum, old BatchNormalization, Reshape.
  it.each([
    ['squeezenet', 'js'], ['squeezenet', 'wasm'], ['resnet50', 'wasm'],
  ] as [string, BackendName][])('%s on the %s kernels: the same output bits, call after call', async (name, backend) => {
    expect(await setBackend(backend)).toBe(true);
    const model = loadOnnx(new Uint8Array(readFileSync(join(ROOT, `light_${name}.onnx`))));
    const x = zooInput(model);
    const reference = withoutPool(() => noGrad(() => model.forward(x))).data;
    const keptBefore = bufferPoolStats().kept;
    for (let call = 0; call < 2; call++) expectSameBits(noGrad(() => model.forward(x)).data, reference);
    expect(bufferPoolStats().kept - keptBefore).toBeGreaterThan(20);
    expect(bufferPoolStats().reused).toBeGreaterThan(0);
  });
});
