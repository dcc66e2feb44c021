import { describe, expect, it } from 'vitest';
import { AvgPool1d, AvgPool3d, BatchNorm1d, BatchNorm3d, Conv1d, Conv3d, GlobalAvgPoolNd, MaxPool1d, MaxPool3d, Sequential } from '../src/layers/index.js';
import { ShapeError } from '../src/tensor/errors.js';
import { conv1d } from '../src/tensor/ops/conv1d.js';
import { conv3d } from '../src/tensor/ops/conv3d.js';
import { Rng } from '../src/tensor/random.js';
import { Tensor } from '../src/tensor/tensor.js';

/** The 1-D and 3-D layers: PyTorch's parameter names, shapes and init bounds, their ops, train/eval batch norm. */

function rand(shape: number[], seed: number): Tensor {
  const rng = new Rng(seed);
  return new Tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal()), shape);
}

describe('1-D and 3-D layers', () => {
  it('Conv1d / Conv3d: state dict, init bound 1/sqrt(fan_in), forward is the op, repr as PyTorch', () => {
    const c1 = new Conv1d(4, 6, 3, { stride: 2, padding: 1, groups: 2, seed: 1 });
    expect(Object.fromEntries(Object.entries(c1.stateDict()).map(([k, v]) => [k, [...v.shape]]))).toEqual({ weight: [6, 2, 3], bias: [6] });
    const bound = 1 / Math.sqrt(2 * 3);
    expect(Math.max(...Array.from(c1.weight.data, Math.abs))).toBeLessThanOrEqual(bound);
    const x = rand([2, 4, 9], 2);
    expect(Array.from(c1.forward(x).data)).toEqual(Array.from(conv1d(x, c1.weight, c1.bias, { stride: 2, padding: 1, groups: 2 }).data));
    expect(c1.toString()).toBe('Conv1d(4, 6, kernel_size=(3,), stride=(2,), padding=(1,), groups=2)');
    const c3 = new Conv3d(2, 3, [2, 3, 3], { padding: [0, 1, 1], bias: false, seed: 3 });
    expect([...c3.weight.shape]).toEqual([3, 2, 2, 3, 3]);
    const v = rand([1, 2, 4, 5, 5], 4);
    expect(Array.from(c3.forward(v).data)).toEqual(Array.from(conv3d(v, c3.weight, null, { padding: [0, 1, 1] }).data));
    expect(() => c3.forward(x)).toThrow(ShapeError);
  });

  it('BatchNorm1d / BatchNorm3d: eval uses running statistics, train the batch ones; [N, C] and [N, C, L]', () => {
    const bn = new BatchNorm1d(3);
    bn.running_mean!.data.set([0.5, -1, 2]);
    bn.running_var!.data.set([4, 1, 0.25]);
    bn.eval();
    const x = rand([4, 3], 5);
    const y = bn.forward(x);
    expect(y.get(2, 1)).toBeCloseTo((x.get(2, 1) + 1) / Math.sqrt(1 + 1e-5), 5);
    expect([...bn.forward(rand([2, 3, 7], 6)).shape]).toEqual([2, 3, 7]);
    const bn3 = new BatchNorm3d(2);
    bn3.train();
    const v = rand([2, 2, 3, 4, 5], 7);
    const out = bn3.forward(v);
    let m = 0;
    for (let n = 0; n < 2; n++) for (let i = 0; i < 60; i++) m += out.data[n * 120 + 60 + i]!;
    expect(m / 120).toBeCloseTo(0, 5);
    expect(bn3.num_batches_tracked!.data[0]).toBe(1);
    expect(() => bn3.forward(x)).toThrow(ShapeError);
    expect(Object.keys(bn3.stateDict()).sort()).toEqual(['bias', 'num_batches_tracked', 'running_mean', 'running_var', 'weight']);
  });

  it('pools and a small 3-D network with hooks', () => {
    const s = rand([1, 2, 10], 8);
    expect([...new MaxPool1d(3, { stride: 2, padding: 1 }).forward(s).shape]).toEqual([1, 2, 5]);
    expect([...new AvgPool1d(2).forward(s).shape]).toEqual([1, 2, 5]);
    const net = new Sequential(new Conv3d(1, 4, 3, { padding: 1, seed: 9 }), new BatchNorm3d(4), new MaxPool3d(2), new AvgPool3d([1, 2, 2]), new GlobalAvgPoolNd(3));
    net.eval();
    let seen = 0;
    const handle = net.getModule('1')!.registerForwardHook(() => void seen++);
    const y = net.forward(rand([2, 1, 4, 8, 8], 10));
    handle.remove();
    expect([...y.shape]).toEqual([2, 4, 1, 1, 1]);
    expect(seen).toBe(1);
  });
});
