import { describe, expect, it } from 'vitest';
import { GraphModule, OnnxReLU, loadOnnx } from '../src/onnx/index.js';
import { scopesOfNodes } from '../src/onnx/names.js';
import type { NodeProto } from '../src/onnx/proto.js';
import { grad, noGrad } from '../src/tensor/autograd.js';
import { sum } from '../src/tensor/ops/reduce.js';
import { ArgumentError } from '../src/tensor/errors.js';
import { Tensor, tensor, zeros } from '../src/tensor/tensor.js';
import { onnxModel } from './onnx.builder.js';

const node = (name: string): NodeProto => ({ name, opType: name.split('/').pop()!, domain: '', inputs: [], outputs: [], attributes: [] });

describe('module paths from node names', () => {
  it("follows PyTorch's exporter: full dotted paths, relative child names, call counters", () => {
    const scopes = scopesOfNodes([
      node('/layer4/layer4.1/conv1/Conv'),
      node('/layer4/layer4.1/relu/Relu'),
      node('/layer4/layer4.1/relu_1/Relu'),
      node('/features/features.18/features.18.2/Clip'),
      node('/features/features.1/conv/conv.0/conv.0.2/Clip'),
      node('/layer2/layer2.0/downsample/downsample.0/Conv'),
      node('/block_1/Conv'),
      node('/Flatten'),
      node('conv1'),
      node(''),
    ]);
    expect(scopes).toEqual([
      ['layer4', 'layer4.1', 'layer4.1.conv1'],
      ['layer4', 'layer4.1', 'layer4.1.relu'],
      ['layer4', 'layer4.1', 'layer4.1.relu'],
      ['features', 'features.18', 'features.18.2'],
      // Dotted names relative to a higher scope: 'conv.0' under features.1/conv.
      ['features', 'features.1', 'features.1.conv', 'features.1.conv.0', 'features.1.conv.0.2'],
      ['layer2', 'layer2.0', 'layer2.0.downsample', 'layer2.0.downsample.0'],
      // No 'block' beside it: '_1' is part of the name, not a call counter.
      ['block_1'],
      [],
      [],
      [],
    ]);
  });
});

/** x -> /block/conv/Conv -> /block/relu/Relu -> /block/Add(+ x) -> /head/Mul(* k) -> y */
function smallGraph(): GraphModule {
  return loadOnnx(onnxModel({
    opset: 13,
    nodes: [
      { op: 'Conv', name: '/block/conv/Conv', inputs: ['x', 'w'], outputs: ['/block/conv/Conv_output_0'] },
      { op: 'Relu', name: '/block/relu/Relu', inputs: ['/block/conv/Conv_output_0'], outputs: ['/block/relu/Relu_output_0'] },
      { op: 'Add', name: '/block/Add', inputs: ['/block/relu/Relu_output_0', 'x'], outputs: ['/block/Add_output_0'] },
      { op: 'Constant', name: '/head/Constant', inputs: [], outputs: ['k'], attrs: { value: { t: { dims: [], floats: [3] } } } },
      { op: 'Mul', name: '/head/Mul', inputs: ['/block/Add_output_0', 'k'], outputs: ['y'] },
    ],
    inputs: [{ name: 'x', dims: ['N', 1, 2, 2] }, { name: 'w', dims: [1, 1, 1, 1] }],
    outputs: [{ name: 'y', dims: ['N', 1, 2, 2] }],
    initializers: [{ name: 'w', dims: [1, 1, 1, 1], floats: [-2] }],
  }));
}

describe('GraphModule', () => {
  it('lists module paths and tensor names; constants and initializers are not inputs or layers', () => {
    const model = smallGraph();
    expect(model.inputNames).toEqual(['x']);
    expect(model.outputNames).toEqual(['y']);
    expect(model.layers().map((l) => [l.name, l.kind, l.opType])).toEqual([
      ['block', 'module', 'Add'],
      ['block.conv', 'module', 'Conv'],
      ['block.relu', 'module', 'Relu'],
      ['head', 'module', 'Mul'],
      ['/block/conv/Conv_output_0', 'tensor', 'Conv'],
      ['/block/relu/Relu_output_0', 'tensor', 'Relu'],
      ['/block/Add_output_0', 'tensor', 'Add'],
      ['y', 'tensor', 'Mul'],
    ]);
    expect(model.layers().find((l) => l.name === 'y')!.shape).toEqual(['N', 1, 2, 2]);
    expect(model.layers().find((l) => l.name === 'block')!.shape).toBeNull();
    expect(model.layers(zeros([3, 1, 2, 2])).find((l) => l.name === 'block')!.shape).toEqual([3, 1, 2, 2]);
    expect(model.namedModules().map(([n]) => n)).toEqual(['', ...model.layers().map((l) => l.name)]);
    expect(model.getModule('block.relu')!.typeName).toBe('OnnxScope');
    expect(model.getModule('/block/relu/Relu_output_0')).toBeInstanceOf(OnnxReLU);
    expect(model.getModule('/block/relu/Relu_output_0')!.typeName).toBe('ReLU');
  });

  it('computes y = 3 (relu(-2x) + x)', () => {
    const model = smallGraph();
    const x = tensor([1, -1, 2, -0.5], [1, 1, 2, 2]);
    const y = noGrad(() => model.forward(x));
    expect(Array.from(y.data)).toEqual([1, -1, 2, -0.5].map((v) => 3 * (Math.max(-2 * v, 0) + v)));
  });

  it("fires hooks by module path and by tensor name; a forward hook's replacement flows downstream", () => {
    const model = smallGraph();
    const x = tensor([1, -1, 2, -0.5], [1, 1, 2, 2]);
    const seen: string[] = [];
    const h1 = model.getModule('block')!.registerForwardHook(() => void seen.push('block'));
    const h2 = model.getModule('/block/relu/Relu_output_0')!.registerForwardHook((_m, inputs, output) => {
      seen.push(`relu in=${inputs.length}`);
      expect(Array.from(inputs[0]!.data)).toEqual([-2, 2, -4, 1]);
      return zeros(output.shape);
    });
    const y = noGrad(() => model.forward(x));
    expect(Array.from(y.data)).toEqual([3, -3, 6, -1.5]);
    expect(seen).toEqual(['relu in=1', 'block']);
    h1.remove();
    h2.remove();
    expect(model.modules().every((m) => m.hookCount() === 0)).toBe(true);
  });

  it('backward hooks see d output / d layer, by module path and by tensor name', () => {
    const model = smallGraph();
    const x = tensor([1, -1, 2, -0.5], [1, 1, 2, 2]).requireGrad();
    const grads: Record<string, Tensor> = {};
    const handles = ['block.relu', '/block/conv/Conv_output_0'].map((name) =>
      model.getModule(name)!.registerBackwardHook((_m, g) => void (grads[name] = g)),
    );
    const [gx] = grad(sum(model.forward(x)), [x]);
    handles.forEach((h) => h.remove());
    expect(Array.from(grads['block.relu']!.data)).toEqual([3, 3, 3, 3]);
    // Through the ReLU: gradient only where the conv output -2x is positive.
    expect(Array.from(grads['/block/conv/Conv_output_0']!.data)).toEqual([0, 3, 0, 3]);
    // d/dx = 3 (1 + (-2) [x < 0])
    expect(Array.from(gx!.data)).toEqual([3, -3, 3, -3]);
  });

  it("uses the ReLU module's backwardRule (guided backprop)", () => {
    const model = smallGraph();
    const x = tensor([1, -1, 2, -0.5], [1, 1, 2, 2]).requireGrad();
    const relu = model.getModule('/block/relu/Relu_output_0') as OnnxReLU;
    relu.backwardRule = 'guided';
    // Gradient into the ReLU is 3 * gradOutput; with gradOutput negative at some places, guided zeroes them.
    const gradOutput = tensor([1, -1, 1, 1], [1, 1, 2, 2]);
    const [gx] = grad(model.forward(x), [x], { gradOutput });
    // x = -1 has positive relu input 2 but negative gradient: guided passes nothing through the ReLU there.
    expect(Array.from(gx!.data)).toEqual([3, -3, 3, -3]);
    relu.backwardRule = 'standard';
    const [standard] = grad(model.forward(x), [x], { gradOutput });
    expect(Array.from(standard!.data)).toEqual([3, 3, 3, -3]);
  });

  it('run() returns any node output by name and checks its arguments', () => {
    const model = smallGraph();
    const out = noGrad(() => model.run({ x: tensor([1, -1, 2, -0.5], [1, 1, 2, 2]) }, ['/block/conv/Conv_output_0', 'y']));
    expect(Array.from(out['/block/conv/Conv_output_0']!.data)).toEqual([-2, 2, -4, 1]);
    expect(() => model.run({})).toThrow(/input 'x' is missing \(expected a Tensor of shape \[N, 1, 2, 2\], float\)/);
    expect(() => model.forward()).toThrow(ArgumentError);
    expect(() => model.run({ x: zeros([1, 1, 2, 2]) }, ['nope'])).toThrow(/no tensor named 'nope'/);
  });

  it('starts in eval mode; train() and eval() reach every node module', () => {
    const model = smallGraph();
    expect(model.training).toBe(false);
    expect(model.modules().every((m) => !m.training)).toBe(true);
    model.train();
    expect(model.modules().every((m) => m.training)).toBe(true);
    model.eval();
    expect(model.modules().some((m) => m.training)).toBe(false);
  });

  it('fires the hooks of scopes ending at the same node innermost first, after the node', () => {
    const model = loadOnnx(onnxModel({
      opset: 13,
      nodes: [
        { op: 'Neg', name: '/a/a.0/conv/Neg', inputs: ['x'], outputs: ['n'] },
        { op: 'Relu', name: '/a/a.0/relu/Relu', inputs: ['n'], outputs: ['y'] },
      ],
      inputs: [{ name: 'x', dims: [2] }],
      outputs: [{ name: 'y' }],
    }));
    const order: string[] = [];
    const handles = ['a', 'a.0', 'a.0.relu', 'y', 'a.0.conv'].map((name) =>
      model.getModule(name)!.registerForwardHook(() => void order.push(name)),
    );
    noGrad(() => model.forward(tensor([1, -1])));
    handles.forEach((h) => h.remove());
    expect(order).toEqual(['a.0.conv', 'y', 'a.0.relu', 'a.0', 'a']);
  });

  it('stateDict() holds the initializers; loadStateDict swaps them and recomputes constants made from them', () => {
    // y = x * unsqueeze(w): the Unsqueeze of a weight is a constant computed once per set of weights.
    const model = loadOnnx(onnxModel({
      opset: 11,
      nodes: [
        { op: 'Unsqueeze', inputs: ['w'], outputs: ['w1'], attrs: { axes: { ints: [0] } } },
        { op: 'Mul', inputs: ['x', 'w1'], outputs: ['y'] },
      ],
      inputs: [{ name: 'x', dims: [1, 2] }],
      outputs: [{ name: 'y' }],
      initializers: [{ name: 'w', dims: [2], floats: [2, 3] }],
    }));
    expect(Object.keys(model.stateDict())).toEqual(['w']);
    const x = tensor([[1, 1]]);
    expect(Array.from(noGrad(() => model.forward(x)).data)).toEqual([2, 3]);
    model.loadStateDict({ w: tensor([5, -1]) });
    expect(Array.from(noGrad(() => model.forward(x)).data)).toEqual([5, -1]);
    expect(() => model.loadStateDict({ w: tensor([1, 2, 3]) })).toThrow(/shape mismatch for w/);
  });
});

describe('GraphModule.forwardOutputs', () => {
  const classifier = (op: 'Softmax' | 'LogSoftmax') =>
    loadOnnx(onnxModel({
      opset: 13,
      nodes: [
        { op: 'MatMul', name: '/fc/MatMul', inputs: ['x', 'w'], outputs: ['logits'] },
        { op, name: '/prob', inputs: ['logits'], outputs: ['prob'], attrs: { axis: { i: 1 } } },
        { op: 'Mul', name: '/twice', inputs: ['logits', 'two'], outputs: ['doubled'] },
      ],
      inputs: [{ name: 'x', dims: ['N', 3] }],
      outputs: [{ name: 'prob', dims: ['N', 2] }, { name: 'doubled', dims: ['N', 2] }],
      initializers: [
        { name: 'w', dims: [3, 2], floats: [1, -1, 2, 0.5, -3, 4] },
        { name: 'two', dims: [], floats: [2] },
      ],
    }));

  it('gives every graph output by name, and the logits before a final Softmax or LogSoftmax', () => {
    const x = tensor([[1, 2, 3], [-1, 0.5, 2]]);
    // logits = x @ w, by hand
    const expected = [1 + 4 - 9, -1 + 1 + 12, -1 + 1 - 6, 1 + 0.25 + 8];
    for (const op of ['Softmax', 'LogSoftmax'] as const) {
      const [prob, doubled] = classifier(op).forwardOutputs(x);
      expect(prob!.name).toBe('prob');
      expect(prob!.activation).toBe(op === 'Softmax' ? 'softmax' : 'logSoftmax');
      expect([...prob!.logits!.data]).toEqual(expected);
      for (let row = 0; row < 2; row++) {
        const [a, b] = [expected[2 * row]!, expected[2 * row + 1]!];
        const p0 = 1 / (1 + Math.exp(b - a));
        const want = op === 'Softmax' ? p0 : Math.log(p0);
        expect(prob!.value.data[2 * row]).toBeCloseTo(want, 5);
      }
      expect(doubled!.name).toBe('doubled');
      expect(doubled!.logits).toBeUndefined();
      expect([...doubled!.value.data]).toEqual(expected.map((v) => 2 * v));
    }
  });

  it('is a one-output list for an ordinary module', () => {
    const model = smallGraph();
    const x = tensor([[[[1, -1], [2, 0.5]]]]);
    const outputs = model.forwardOutputs(x);
    expect(outputs.map((o) => o.name)).toEqual(['y']);
    expect([...outputs[0]!.value.data]).toEqual([...model.forward(x).data]);
  });
});
