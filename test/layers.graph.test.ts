/**
 * The graph runner that ONNX graphs, their If branches and TensorFlow.js
 * models share: plan order, taps, constants folded once, typed values.
 */
import { describe, expect, it } from 'vitest';
import { GraphRunner, splitConstantNodes, type GraphNode } from '../src/layers/graph.js';
import { Module } from '../src/layers/module.js';
import { add, mul } from '../src/tensor/ops/elementwise.js';
import { Tensor, tensor } from '../src/tensor/tensor.js';

class Tap extends Module {
  seen: number[][] = [];
  forward(x: Tensor): Tensor {
    this.seen.push(Array.from(x.data));
    return x;
  }
}

/** A node computing f(inputs), counting its runs; its output type is 'made by <name>'. */
function node(name: string, inputs: string[], f: (xs: Tensor[]) => Tensor, runs: Map<string, number>): GraphNode<string> {
  return {
    inputs,
    outputs: [name],
    description: `node '${name}'`,
    execute: (xs, types) => {
      runs.set(name, (runs.get(name) ?? 0) + 1);
      expect(types.length).toBe(inputs.length);
      return { outputs: [f(xs as Tensor[])], types: [`made by ${name}`] };
    },
  };
}

describe('GraphRunner', () => {
  it('folds nodes that read only weights once, runs the rest every time through their taps', () => {
    const runs = new Map<string, number>();
    const nodes = [
      node('w2', ['w'], ([w]) => mul(w!, 2), runs), // constant: reads a weight only
      node('y', ['x', 'w2'], ([x, w2]) => add(x!, w2!), runs),
      node('z', ['y', 'w2'], ([y, w2]) => mul(y!, w2!), runs),
    ];
    const split = splitConstantNodes(nodes, ['w']);
    expect(split.constant.map((n) => n.outputs[0])).toEqual(['w2']);
    expect(split.live.map((n) => n.outputs[0])).toEqual(['y', 'z']);
    const tap = new Tap();
    const runner = new GraphRunner<string>({
      weights: new Map([['w', { tensor: tensor([1, 2]), type: 'weight' }]]),
      constants: split.constant,
      steps: split.live.map((n, i) => ({ node: n, ...(i === 0 ? { taps: [[tap]] } : {}) })),
      defaultType: 'untyped',
      missingOutput: (m) => new Error(m),
    });
    for (const x of [tensor([10, 20]), tensor([1, 1])]) {
      const env = runner.run([['x', { tensor: x, type: 'input' }]]);
      const y = [x.data[0]! + 2, x.data[1]! + 4];
      expect(Array.from(env.get('z')!.tensor.data)).toEqual([y[0]! * 2, y[1]! * 4]);
      expect(env.get('z')!.type).toBe('made by z');
      expect(env.get('w2')!.type).toBe('made by w2');
    }
    expect(runs.get('w2')).toBe(1);
    expect(runs.get('y')).toBe(2);
    expect(tap.seen).toEqual([[12, 24], [3, 5]]);
    expect(runner.constant('w2')?.tensor.data[1]).toBe(4);
    runner.invalidate();
    runner.run([['x', { tensor: tensor([0, 0]), type: 'input' }]]);
    expect(runs.get('w2')).toBe(2);
  });

  it("names the node when one does not make an output it promises, with the format's error", () => {
    const runner = new GraphRunner<null>({
      weights: new Map(),
      constants: [],
      steps: [{ node: { inputs: ['x'], outputs: ['a', 'b'], description: "Split node 's'", execute: (xs) => ({ outputs: [xs[0]], types: [] }) } }],
      defaultType: null,
      missingOutput: (m) => new RangeError(m),
    });
    expect(() => runner.run([['x', { tensor: tensor([1]), type: null }]])).toThrow(new RangeError("Split node 's': output 1 ('b') was not produced"));
  });
});
