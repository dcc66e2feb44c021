import { describe, expect, it } from 'vitest';
import { loadOnnx } from '../src/onnx/index.js';
import { noGrad } from '../src/tensor/autograd.js';
import { Tensor, tensor } from '../src/tensor/tensor.js';
import { onnxModel, singleOp } from './onnx.builder.js';

/**
 * Hand-built graphs for what the PyTorch exports in test/data/onnx/ops9 do
 * not pin down: NonMaxSuppression's box formats, thresholds and limits,
 * integer Mod, and that integer and boolean tensors carry no gradient.
 */
describe('NonMaxSuppression, integer ops and gradient-free tensors', () => {
  const nms = (center: number, inits: { name: string; dims: number[]; floats?: number[]; ints?: number[] }[]) =>
    loadOnnx(onnxModel({
      opset: 11,
      nodes: [{ op: 'NonMaxSuppression', inputs: ['boxes', 'scores', ...inits.map((t) => t.name)], outputs: ['y'], name: 'nms', attrs: { center_point_box: { i: center } } }],
      inputs: [{ name: 'boxes', dims: [1, 4, 4] }, { name: 'scores', dims: [1, 2, 4] }],
      outputs: [{ name: 'y' }],
      initializers: inits,
    }));
  // Boxes 0 and 1 overlap with IoU 0.6; box 2 is apart; box 3 is box 0 with its corners swapped.
  const corners = tensor([[[0, 0, 10, 10], [0, 2.5, 10, 12.5], [20, 20, 30, 30], [10, 10, 0, 0]]]);
  const scores = tensor([[[0.9, 0.8, 0.3, 0.1], [0.2, 0.7, 0.6, 0.95]]]);
  const limits = [
    { name: 'max', dims: [], ints: [3] },
    { name: 'iou', dims: [], floats: [0.5] },
    { name: 'score', dims: [], floats: [0.25] },
  ];

  it('keeps the best box of each overlapping group per class, above the score threshold, up to the limit', () => {
    const y = noGrad(() => nms(0, limits).run({ boxes: corners, scores })).y!;
    // class 0: 0 kept, 1 suppressed (IoU 0.6 > 0.5), 2 kept, 3 (0.1) under the threshold;
    // class 1: 3 kept, 1 suppressed (box 3 is box 0, IoU 0.6), 2 kept; 0 (0.2) under the threshold.
    expect([...y.shape]).toEqual([4, 3]);
    expect(Array.from(y.data)).toEqual([0, 0, 0, 0, 0, 2, 0, 1, 3, 0, 1, 2]);
    expect(y.requiresGrad).toBe(false);
    const one = noGrad(() => nms(0, [{ name: 'max', dims: [], ints: [1] }, limits[1]!]).run({ boxes: corners, scores })).y!;
    expect(Array.from(one.data)).toEqual([0, 0, 0, 0, 1, 3]);
    const none = noGrad(() => nms(0, []).run({ boxes: corners, scores })).y!;
    expect([...none.shape]).toEqual([0, 3]);
  });

  it('reads [x_center, y_center, width, height] with center_point_box = 1', () => {
    const centred = tensor([[[5, 5, 10, 10], [7.5, 5, 10, 10], [25, 25, 10, 10], [5, 5, 10, 10]]]);
    const y = noGrad(() => nms(1, limits).run({ boxes: centred, scores })).y!;
    expect(Array.from(y.data)).toEqual([0, 0, 0, 0, 0, 2, 0, 1, 3, 0, 1, 2]);
  });

  it('integer Mod takes the divisor\'s sign (fmod 0) or the dividend\'s (fmod 1); comparisons and casts carry no gradient', () => {
    const a = tensor([7, -7, 7, -7]);
    const b = tensor([3, 3, -3, -3]);
    const INT64 = 7;
    const mod = (fmod: number) => loadOnnx(singleOp('Mod', 13, [{ name: 'a', elemType: INT64 }, { name: 'b', elemType: INT64 }], { fmod: { i: fmod } }));
    expect(Array.from(noGrad(() => mod(0).forward(a, b)).data)).toEqual([1, 2, -2, -1]);
    expect(Array.from(noGrad(() => mod(1).forward(a, b)).data)).toEqual([1, -1, 1, -1]);
    const graph = loadOnnx(onnxModel({
      opset: 13,
      nodes: [
        { op: 'Greater', inputs: ['x', 'zero'], outputs: ['g'] },
        { op: 'Not', inputs: ['g'], outputs: ['n'] },
        { op: 'Cast', inputs: ['x'], outputs: ['i'], attrs: { to: { i: INT64 } } },
        { op: 'Cast', inputs: ['n'], outputs: ['f'], attrs: { to: { i: 1 } } },
        { op: 'Mul', inputs: ['x', 'f'], outputs: ['y'] },
      ],
      inputs: [{ name: 'x', dims: [4] }],
      outputs: [{ name: 'y' }, { name: 'g' }, { name: 'i' }],
      initializers: [{ name: 'zero', dims: [], floats: [0] }],
    }));
    const x = new Tensor(Float32Array.of(-1.5, 2.5, 0, 3), [4], true);
    const out = graph.run({ x });
    expect(Array.from(out.y!.data)).toEqual([-1.5, 0, 0, 0]);
    expect(out.y!.requiresGrad).toBe(true);
    expect(out.g!.requiresGrad).toBe(false);
    expect(out.i!.requiresGrad).toBe(false);
    expect(Array.from(out.i!.data)).toEqual([-1, 2, 0, 3]);
  });
});
