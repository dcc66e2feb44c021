import { describe, expect, it } from 'vitest';
import { Module, type StateDict } from '../src/layers/module.js';
import { Sequential, ModuleList } from '../src/layers/containers.js';
import { Conv2d } from '../src/layers/conv.js';
import { Linear, Identity } from '../src/layers/linear.js';
import { BatchNorm2d } from '../src/layers/normalization.js';
import { ReLU } from '../src/layers/activation.js';
import { MaxPool2d, AdaptiveAvgPool2d } from '../src/layers/pooling.js';
import { Dropout } from '../src/layers/dropout.js';
import { grad } from '../src/tensor/autograd.js';
import { StateDictError } from '../src/tensor/errors.js';
import { add, mul } from '../src/tensor/ops/elementwise.js';
import { Parameter, Tensor, tensor, zeros } from '../src/tensor/tensor.js';

/** y = x * w with a learnable scalar w (only elementwise ops, so these tests need no kernels). */
class Scale extends Module {
  weight: Parameter;
  constructor(w: number) {
    super();
    this.weight = new Parameter(Float32Array.of(w), [1]);
  }
  override forward(x: Tensor): Tensor {
    return mul(x, this.weight);
  }
}

/** A two-level model with torchvision-like names: stem, blocks.0.{a,b}, blocks.1.{a,b}, head. */
class Block extends Module {
  readonly a: Scale;
  readonly b: Scale;
  constructor(wa: number, wb: number) {
    super();
    this.a = new Scale(wa);
    this.b = new Scale(wb);
  }
  override forward(x: Tensor): Tensor {
    return add(this.b.forward(this.a.forward(x)), x);
  }
}

class Net extends Module {
  readonly stem = new Scale(2);
  readonly blocks = new Sequential(new Block(3, 4), new Block(5, 6));
  readonly head = new Scale(7);
  override forward(x: Tensor): Tensor {
    return this.head.forward(this.blocks.forward(this.stem.forward(x)));
  }
}

const values = (t: Tensor): number[] => Array.from(t.data);

describe('Module tree', () => {
  it('names modules and parameters with PyTorch dotted names, in registration order', () => {
    const net = new Net();
    expect(net.namedModules().map(([n]) => n)).toEqual([
      '', 'stem', 'blocks', 'blocks.0', 'blocks.0.a', 'blocks.0.b', 'blocks.1', 'blocks.1.a', 'blocks.1.b', 'head',
    ]);
    expect(net.namedParameters().map(([n]) => n)).toEqual([
      'stem.weight', 'blocks.0.a.weight', 'blocks.0.b.weight', 'blocks.1.a.weight', 'blocks.1.b.weight', 'head.weight',
    ]);
    expect(net.getModule('blocks.1.b')).toBe((net.blocks.at(1) as Block).b);
    expect(net.getModule('blocks.2')).toBeUndefined();
    expect(net.getModule('')).toBe(net);
  });

  it('gives torchvision state-dict keys for conv / batch norm / linear', () => {
    const m = new Sequential({ conv: new Conv2d(3, 4, 3, { bias: false }), bn: new BatchNorm2d(4), relu: new ReLU(), fc: new Linear(4, 2) });
    expect(Object.keys(m.stateDict())).toEqual([
      'conv.weight', 'bn.weight', 'bn.bias', 'fc.weight', 'fc.bias',
      'bn.running_mean', 'bn.running_var', 'bn.num_batches_tracked',
    ]);
    expect(m.stateDict()['bn.num_batches_tracked']!.shape).toEqual([]);
    // buffers are state but not parameters
    expect(m.parameters()).toHaveLength(5);
  });

  it('lists a module reachable twice once, as PyTorch', () => {
    const shared = new Scale(1);
    const m = new Sequential(shared, shared);
    expect(m.namedModules().map(([n]) => n)).toEqual(['', '0']);
    expect(m.parameterCount()).toBe(1);
  });

  it('Sequential keeps given names and chains forward; ModuleList registers without forward', () => {
    const s = new Sequential(new Map<string, Module>([['first', new Scale(2)], ['second', new Scale(3)]]));
    expect(s.namedChildren().map(([n]) => n)).toEqual(['first', 'second']);
    expect(values(s.forward(tensor([1, 2])))).toEqual([6, 12]);
    expect(s.at(-1)).toBe(s.getModule('second'));
    expect(() => s.at(2)).toThrow(/out of range/);
    const list = new ModuleList([new Scale(1), new Scale(2)]).append(new Scale(3));
    expect(list.length).toBe(3);
    expect(list.namedParameters().map(([n]) => n)).toEqual(['0.weight', '1.weight', '2.weight']);
    expect(() => list.forward()).toThrow(/ModuleList has no forward/);
  });

  it('train() and eval() set the flag on every module', () => {
    const net = new Net();
    expect(net.modules().every((m) => m.training)).toBe(true);
    net.eval();
    expect(net.modules().some((m) => m.training)).toBe(false);
    net.blocks.train();
    expect(net.training).toBe(false);
    expect(net.blocks.modules().every((m) => m.training)).toBe(true);
  });

  it('apply visits children before their parent; requiresGrad_ freezes; zeroGrad clears', () => {
    const net = new Net();
    const seen: string[] = [];
    const names = new Map(net.namedModules().map(([n, m]) => [m, n]));
    net.apply((m) => seen.push(names.get(m)!));
    expect(seen).toEqual(['stem', 'blocks.0.a', 'blocks.0.b', 'blocks.0', 'blocks.1.a', 'blocks.1.b', 'blocks.1', 'blocks', 'head', '']);
    net.blocks.requiresGrad_(false);
    expect(net.parameterCount({ trainableOnly: true })).toBe(2);
    net.stem.weight.grad = tensor([1]);
    net.zeroGrad();
    expect(net.stem.weight.grad).toBeNull();
  });

  it('prints like PyTorch', () => {
    const m = new Sequential(
      new Conv2d(3, 16, 3, { padding: 1, bias: false }),
      new BatchNorm2d(16),
      new ReLU(),
      new MaxPool2d(2),
      new AdaptiveAvgPool2d(1),
      new Linear(64, 10),
      new Dropout(0.2),
      new Identity(),
    );
    expect(m.toString()).toBe(
      [
        'Sequential(',
        '  (0): Conv2d(3, 16, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), bias=False)',
        '  (1): BatchNorm2d(16, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)',
        '  (2): ReLU()',
        '  (3): MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)',
        '  (4): AdaptiveAvgPool2d(output_size=1)',
        '  (5): Linear(in_features=64, out_features=10, bias=True)',
        '  (6): Dropout(p=0.2)',
        '  (7): Identity()',
        ')',
      ].join('\n'),
    );
  });
});

describe('Module hooks', () => {
  it('forward hooks see inputs and output, run in registration order, children before parents', () => {
    const net = new Net();
    const log: string[] = [];
    const x = tensor([1]);
    net.registerForwardHook((m, inputs, output) => {
      expect(m).toBe(net);
      expect(inputs[0]).toBe(x);
      log.push(`net ${values(output)}`);
    });
    net.stem.registerForwardHook((_m, inputs, output) => void log.push(`stem first ${values(inputs[0]!)} -> ${values(output)}`));
    net.stem.registerForwardHook(() => void log.push('stem second'));
    // stem: 2; block0: 2*3*4 + 2 = 26; block1: 26*5*6 + 26 = 806; head: 806*7 = 5642
    net.forward(x);
    expect(log).toEqual(['stem first 1 -> 2', 'stem second', 'net 5642']);
  });

  it('forward pre-hooks run before forward, in order, and may replace the inputs', () => {
    const s = new Scale(2);
    const log: string[] = [];
    s.registerForwardPreHook((_m, inputs) => void log.push(`pre1 ${values(inputs[0]!)}`));
    s.registerForwardPreHook((_m, inputs) => [mul(inputs[0]!, 10)]);
    s.registerForwardHook((_m, inputs, output) => void log.push(`post ${values(inputs[0]!)} -> ${values(output)}`));
    s.forward(tensor([1]));
    expect(log).toEqual(['pre1 1', 'post 10 -> 20']);
    expect(s.hookCount()).toBe(3);
  });

  it('a forward hook that returns a tensor replaces the output', () => {
    const net = new Net();
    net.stem.registerForwardHook(() => tensor([10]));
    // block0: 10*12 + 10 = 130; block1: 130*31 = 4030; head: 28210
    expect(values(net.forward(tensor([1])))).toEqual([28210]);
  });

  it('backward hooks see d score / d output and may replace it', () => {
    const net = new Net();
    const x = tensor([1, 2], [2], { requiresGrad: true });
    const seen: number[][] = [];
    net.blocks.registerBackwardHook((m, g) => {
      expect(m).toBe(net.blocks);
      seen.push(values(g));
    });
    const out = net.forward(x);
    // score = sum(out * r) with r = [1, -1]: d score / d blocks-output = 7 * r
    const [gx] = grad(out, [x], { gradOutput: tensor([1, -1]) });
    expect(seen).toEqual([[7, -7]]);
    // d out / d x = 7 * 31 * 13 * 2 = 5642 per element
    expect(values(gx!)).toEqual([5642, -5642]);

    // replacing the head's output gradient [1, -1] by [1, 1] flips the second element downstream
    net.head.registerBackwardHook((_m, g) => mul(g, g));
    const [gx2] = grad(net.forward(x), [x], { gradOutput: tensor([1, -1]) });
    expect(seen[1]).toEqual([7, 7]);
    expect(values(gx2!)).toEqual([5642, 5642]);
  });

  it('a backward hook removed after forward but before backward does not run', () => {
    const s = new Scale(2);
    let calls = 0;
    const handle = s.registerBackwardHook(() => void calls++);
    const x = tensor([1], [1], { requiresGrad: true });
    const out = s.forward(x);
    handle.remove();
    expect(values(grad(out, [x])[0]!)).toEqual([2]);
    expect(calls).toBe(0);
  });

  it('a backward hook returning the wrong shape is an error naming the module', () => {
    const s = new Scale(2);
    s.registerBackwardHook(() => zeros([3]));
    const x = tensor([1, 2], [2], { requiresGrad: true });
    expect(() => grad(s.forward(x), [x], { gradOutput: tensor([1, 1]) })).toThrow(/backward hook on Scale returned shape \[3\]/);
  });

  it('remove() detaches a hook and is idempotent; hookCount counts this module only', () => {
    const net = new Net();
    let calls = 0;
    const h1 = net.stem.registerForwardHook(() => void calls++);
    const h2 = net.stem.registerBackwardHook(() => undefined);
    net.head.registerForwardHook(() => undefined);
    expect(net.stem.hookCount()).toBe(2);
    net.forward(tensor([1]));
    h1.remove();
    h1.remove();
    h2.remove();
    expect(net.stem.hookCount()).toBe(0);
    expect(net.head.hookCount()).toBe(1);
    net.forward(tensor([1]));
    expect(calls).toBe(1);
  });

  it('a module called twice runs its hooks on each call', () => {
    const relu = new Scale(1);
    const seq = new Sequential(relu, new Scale(2), relu);
    let calls = 0;
    relu.registerForwardHook(() => void calls++);
    seq.forward(tensor([1]));
    expect(calls).toBe(2);
  });
});

describe('stateDict and loadStateDict', () => {
  const fresh = (): Net => new Net();
  const dictOf = (net: Net): StateDict => Object.fromEntries(Object.entries(net.stateDict()).map(([k, t]) => [k, t.clone()]));

  it('round-trips values into another model', () => {
    const a = fresh();
    const dict = dictOf(a);
    dict['head.weight'] = tensor([-1]);
    const b = fresh();
    expect(b.loadStateDict(dict)).toEqual({ missing: [], unexpected: [] });
    expect(values(b.head.weight)).toEqual([-1]);
    // copied, not shared
    dict['head.weight']!.data[0] = 5;
    expect(values(b.head.weight)).toEqual([-1]);
  });

  it('reports missing, unexpected and mismatched keys together in one StateDictError and changes nothing', () => {
    const net = fresh();
    const before = net.parameters().map((p) => p.data[0]);
    const dict = dictOf(net);
    for (const t of Object.values(dict)) t.data.fill(0);
    delete dict['blocks.0.a.weight'];
    dict['blocks.9.weight'] = tensor([1]);
    dict['head.weight'] = tensor([1, 2]);
    let error: unknown;
    try {
      net.loadStateDict(dict);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(StateDictError);
    const e = error as StateDictError;
    expect(e.missing).toEqual(['blocks.0.a.weight']);
    expect(e.unexpected).toEqual(['blocks.9.weight']);
    expect(e.mismatched).toEqual([{ key: 'head.weight', expected: [1], got: [2] }]);
    expect(e.message).toMatch(/head\.weight.*missing keys: blocks\.0\.a\.weight.*unexpected keys: blocks\.9\.weight/);
    expect(net.parameters().map((p) => p.data[0])).toEqual(before);
  });

  it('non-strict loading skips missing and unexpected keys but still rejects shape mismatches', () => {
    const net = fresh();
    const result = net.loadStateDict({ 'stem.weight': tensor([9]), extra: tensor([1]) }, { strict: false });
    expect(values(net.stem.weight)).toEqual([9]);
    expect(result.unexpected).toEqual(['extra']);
    expect(result.missing).toHaveLength(5);
    expect(() => net.loadStateDict({ 'stem.weight': tensor([1, 2]) }, { strict: false })).toThrow(StateDictError);
  });

  it("does not mistake prototype names such as 'constructor' for keys", () => {
    const net = fresh();
    expect(() => net.loadStateDict({} as StateDict)).toThrow(/missing keys/);
  });

  it('loads num_batches_tracked from a scalar [] or [1] and the running statistics', () => {
    const bn = new BatchNorm2d(2);
    bn.loadStateDict({
      weight: tensor([1, 2]),
      bias: tensor([3, 4]),
      running_mean: tensor([5, 6]),
      running_var: tensor([7, 8]),
      num_batches_tracked: tensor(42, []),
    });
    expect(bn.num_batches_tracked!.item()).toBe(42);
    expect(values(bn.running_var!)).toEqual([7, 8]);
    bn.loadStateDict({ ...bn.stateDict(), num_batches_tracked: tensor([43]) });
    expect(bn.num_batches_tracked!.item()).toBe(43);
  });

  it('BatchNorm without running statistics has no buffers in its state dict', () => {
    expect(Object.keys(new BatchNorm2d(3, { trackRunningStats: false, affine: false }).stateDict())).toEqual([]);
  });
});
