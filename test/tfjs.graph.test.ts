/**
 * TensorFlow.js graph models (format 'graph-model'): a GraphDef written by
 * hand that uses every op tinycam/tfjs lists, run by TensorFlow.js
 * (tf.loadGraphModel) and by tinycam; and nsfwjs's MobileNetV2-mid, a real
 * converted graph. dA at a node comes from tfjs by feeding the node's value
 * as an input of GraphModel.execute and differentiating the output with
 * tf.grad. As in the layers tests, dA is compared on one image (tfjs's
 * nearest-neighbour resize gradient is wrong for batches of more than one).
 */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { gradCam } from '../src/cam/index.js';
import { decodeImage, preprocess } from '../src/image/index.js';
import { mean, sum } from '../src/tensor/ops/reduce.js';
import { mul } from '../src/tensor/ops/elementwise.js';
import { concat } from '../src/tensor/ops/shape.js';
import { softmax } from '../src/tensor/ops/softmax.js';
import { rand } from '../src/tensor/random.js';
import type { Tensor } from '../src/tensor/tensor.js';
import { loadTfjsModel, TFJS_SCALING, toChannelsLast, TfjsError, TfjsGraphModel, TfjsUnsupportedError } from '../src/tfjs/index.js';
import { concatenated, nsfwModel } from './helpers/nsfwjs.js';
import { fromTf, onTfjsWasm, onTfjsWasmElseCpu, tf, toTf } from './helpers/tfjs.js';
import { asStored, expectClose, tinycamActivationAndGradient } from './helpers/tfjs-compare.js';
import { attr, GraphBuilder, tfjsGraphModel } from './helpers/tfjs-graph.js';
import { Layout } from '../src/tfjs/layout.js';

const same = { padding: attr.s('SAME'), data_format: attr.s('NHWC') };
const valid = { padding: attr.s('VALID'), data_format: attr.s('NHWC') };
const strides = (s: number) => ({ strides: attr.ints([1, s, s, 1]), dilations: attr.ints([1, 1, 1, 1]) });
const fused = (ops: string[], numArgs: number, extra: Record<string, unknown> = {}) => ({ fused_ops: attr.strings(ops), num_args: attr.i(numArgs), epsilon: attr.f(0), ...extra });

/** A graph that uses every listed op, x [N, 9, 10, 3] -> softmax over 4 classes (and its logits). */
function everyOpGraph() {
  const g = new GraphBuilder(7);
  const x = g.input('x', [-1, 9, 10, 3]);
  // Convolutions, fused with a bias and each activation.
  let h = g.op('c1', '_FusedConv2D', [x, g.random('w1', [3, 3, 3, 4], 0.4), g.random('b1', [4], 0.1)], { ...same, ...strides(2), ...fused(['BiasAdd', 'Relu'], 1) });
  h = g.op('c2', '_FusedConv2D', [h, g.random('w2', [3, 3, 4, 4], 0.3), g.random('b2', [4], 0.1)], { ...same, ...strides(1), ...fused(['BiasAdd', 'Elu'], 1) });
  h = g.op('c3', '_FusedConv2D', [h, g.random('w3', [1, 1, 4, 4], 0.5), g.random('b3', [4], 0.1)], { ...same, ...strides(1), ...fused(['BiasAdd', 'LeakyRelu'], 1, { leakyrelu_alpha: attr.f(0.1) }) });
  h = g.op('c4', '_FusedConv2D', [h, g.random('w4', [1, 1, 4, 4], 0.5), g.random('b4', [4], 0.1), g.random('alpha4', [4], 0.1, 0.2)], { ...same, ...strides(1), ...fused(['BiasAdd', 'Prelu'], 2) });
  h = g.op('c5', '_FusedConv2D', [h, g.random('w5', [3, 3, 4, 4], 0.3), g.random('b5', [4], 0.1)], { ...same, ...strides(1), ...fused(['BiasAdd', 'Relu6'], 1) });
  h = g.op('c6', '_FusedConv2D', [h, g.random('w6', [3, 3, 4, 4], 0.3), g.random('b6', [4], 0.1)], { ...same, ...strides(1), ...fused(['BiasAdd', 'Sigmoid'], 1) });
  const d1 = g.op('d1', 'FusedDepthwiseConv2dNative', [h, g.random('dw1', [3, 3, 4, 2], 0.4), g.random('db1', [8], 0.1)], { ...same, ...strides(1), ...fused(['BiasAdd', 'Relu6'], 1) });
  const d2 = g.op('d2', 'DepthwiseConv2dNative', [d1, g.random('dw2', [3, 3, 8, 1], 0.4)], { ...valid, ...strides(1) });
  const bn = g.op('bn', 'FusedBatchNormV3', [d2, g.random('bn_scale', [8], 0.2, 1), g.random('bn_offset', [8], 0.1), g.random('bn_mean', [8], 0.1), g.random('bn_var', [8], 0.1, 1)], { epsilon: attr.f(0.001), data_format: attr.s('NHWC'), is_training: attr.b(false) });
  const ba = g.op('ba', 'BiasAdd', [bn, g.random('bias', [8], 0.1)], { data_format: attr.s('NHWC') });
  // Activations and arithmetic.
  const r = g.op('relu', 'Relu', [ba]);
  const r6 = g.op('relu6', 'Relu6', [ba]);
  const sg = g.op('sigmoid', 'Sigmoid', [ba]);
  const th = g.op('tanh', 'Tanh', [ba]);
  const el = g.op('elu', 'Elu', [ba]);
  const se = g.op('selu', 'Selu', [ba]);
  const lr = g.op('leaky', 'LeakyRelu', [ba], { alpha: attr.f(0.3) });
  const one = g.constant('one', [], [1]);
  const a1 = g.op('a1', 'AddV2', [r, r6]);
  const a2 = g.op('a2', 'Add', [a1, sg]);
  const s1 = g.op('s1', 'Sub', [a2, th]);
  const m1 = g.op('m1', 'Mul', [s1, el]);
  const dv = g.op('dv', 'RealDiv', [m1, g.op('den', 'AddV2', [g.op('sq_se', 'Square', [se]), one])]);
  const mx = g.op('mx', 'Maximum', [dv, lr]);
  const mn = g.op('mn', 'Minimum', [mx, g.op('mn_other', 'AddV2', [se, g.constant('two', [], [2])])]);
  const norm = g.op('norm', 'Mul', [g.op('sqrt', 'Sqrt', [g.op('sq1', 'AddV2', [g.op('sq', 'Square', [mn]), one])]), g.op('rsqrt', 'Rsqrt', [g.op('sq2', 'AddV2', [g.op('sqb', 'Square', [mn]), g.constant('three', [], [3])])])]);
  const cat = g.op('cat', 'ConcatV2', [mn, norm, g.ints('axis3', [3], [])], { N: attr.i(2) });
  // Padding, pooling, resizing.
  const pad = g.op('pad', 'Pad', [cat, g.ints('pads', [0, 0, 1, 1, 1, 1, 0, 0], [4, 2])]);
  const padv2 = g.op('padv2', 'PadV2', [cat, g.ints('pads2', [0, 0, 1, 1, 1, 1, 0, 0], [4, 2]), g.constant('half', [], [0.5])]);
  // tfjs's MirrorPad gradient is wrong (its own finite differences disagree): on the input, off the path.
  const mirror = g.op('mirror', 'MirrorPad', [x, g.ints('pads3', [0, 0, 1, 1, 1, 1, 0, 0], [4, 2])], { mode: attr.s('REFLECT') });
  // Max pooling where ties are unlikely (zero padding would tie, and on a tie tfjs
  // gives the gradient to every maximum, tinycam as PyTorch to the first).
  const mp = g.op('mp', 'MaxPool', [cat], { ksize: attr.ints([1, 2, 2, 1]), ...strides(1), ...valid });
  const ap2 = g.op('ap2', 'AvgPool', [pad], { ksize: attr.ints([1, 2, 2, 1]), ...strides(1), ...valid });
  // tfjs's gradient of a SAME average pool divides by the whole window at the borders: VALID on the path
  // dA is taken through, SAME on the input (off that path).
  const ap = g.op('ap', 'AvgPool', [cat], { ksize: attr.ints([1, 3, 3, 1]), ...strides(2), ...valid });
  const apSame = g.op('ap_same', 'AvgPool', [mirror], { ksize: attr.ints([1, 3, 3, 1]), ...strides(2), ...same });
  const flat3 = g.op('flat3', 'Reshape', [apSame, g.ints('flat3_shape', [-1, 108])], { Tshape: attr.int32 });
  const rb = g.op('rb', 'ResizeBilinear', [mp, g.ints('size', [6, 6])], { align_corners: attr.b(false), half_pixel_centers: attr.b(false) });
  // tfjs's gradient of a half-pixel bilinear resize is wrong (its own finite differences disagree): off the path, on the input.
  const rbx = g.op('rbx', 'ResizeBilinear', [x, g.ints('size_x', [4, 4])], { align_corners: attr.b(false), half_pixel_centers: attr.b(true) });
  const flat4 = g.op('flat4', 'Reshape', [rbx, g.ints('flat4_shape', [-1, 48])], { Tshape: attr.int32 });
  const rb2 = g.op('rb2', 'ResizeBilinear', [padv2, g.ints('size2', [6, 6])], { align_corners: attr.b(false), half_pixel_centers: attr.b(false) });
  const rn = g.op('rn', 'ResizeNearestNeighbor', [ap, g.ints('size3', [6, 6])], { align_corners: attr.b(false), half_pixel_centers: attr.b(true) });
  const rb3 = g.op('rb3', 'ResizeBilinear', [ap2, g.ints('size4', [6, 6])], { align_corners: attr.b(true), half_pixel_centers: attr.b(false) });
  const rsum = g.op('rsum', 'AddV2', [g.op('rbs', 'AddV2', [rb, rb2]), g.op('rns', 'AddV2', [rn, rb3])]);
  const cv = g.op('cv', 'Conv2D', [rsum, g.random('w7', [3, 3, 16, 8], 0.2)], { ...same, ...strides(1) });
  // Layout and shape ops.
  const nchw = g.op('to_nchw', 'Transpose', [cv, g.ints('perm1', [0, 3, 1, 2])]);
  const back = g.op('to_nhwc', 'Transpose', [nchw, g.ints('perm2', [0, 2, 3, 1])]);
  const avg = g.op('mean', 'Mean', [back, g.ints('hw', [1, 2])], { keep_dims: attr.b(false) });
  const max = g.op('max', 'Max', [back, g.ints('hw2', [1, 2])], { keep_dims: attr.b(false) });
  const total = g.op('sum', 'Sum', [back, g.ints('hw3', [1, 2])], { keep_dims: attr.b(true) });
  const squeezed = g.op('squeeze', 'Squeeze', [total], { squeeze_dims: attr.ints([1, 2]) });
  const expanded = g.op('squeeze2', 'Squeeze', [g.op('expand', 'ExpandDims', [avg, g.ints('one_axis', [1], [])])], { squeeze_dims: attr.ints([1]) });
  const shape = g.op('shape', 'Shape', [back], { T: attr.float, out_type: attr.int32 });
  const batch = g.op('batch', 'StridedSlice', [shape, g.ints('slice_begin', [0]), g.ints('slice_end', [1]), g.ints('slice_strides', [1])], { shrink_axis_mask: attr.i(1), Index: attr.int32, T: attr.int32 });
  const target = g.op('target', 'Pack', [batch, g.ints('minus1', [-1], [])], { N: attr.i(2), axis: attr.i(0), T: attr.int32 });
  const flat = g.op('flat', 'Reshape', [back, target], { Tshape: attr.int32 });
  // tfjs has no gradient for StridedSlice: it slices the input, off the path from the nodes dA is taken at.
  const sliced = g.op('slice', 'StridedSlice', [x, g.ints('sb', [0, 1, 0, 1]), g.ints('se', [0, 9, 10, 3]), g.ints('ss', [1, 2, 3, 1])], { begin_mask: attr.i(1), end_mask: attr.i(1), Index: attr.int32 });
  const flat2 = g.op('flat2', 'Reshape', [sliced, g.ints('flat_shape', [-1, 32])], { Tshape: attr.int32 });
  const features = g.op('features', 'ConcatV2', [avg, max, squeezed, expanded, flat, flat2, flat3, flat4, g.ints('axis_last', [-1], [])], { N: attr.i(8) });
  // Dense layers.
  const fc = g.op('fc', '_FusedMatMul', [features, g.random('wf', [508, 10], 0.05), g.random('bf', [10], 0.1)], { transpose_a: attr.b(false), transpose_b: attr.b(false), ...fused(['BiasAdd', 'Relu'], 1) });
  const mm = g.op('mm', 'MatMul', [fc, g.random('wo', [4, 10], 0.3)], { transpose_a: attr.b(false), transpose_b: attr.b(true) });
  const logits = g.op('logits', 'BiasAdd', [mm, g.random('bo', [4], 0.1)], { data_format: attr.s('NHWC') });
  const probs = g.op('probs', 'Softmax', [logits]);
  g.op('Identity', 'Identity', [probs]);
  return g.build(['Identity']);
}

/** tfjs's A at `node` and dA = d sum(logits[:, cls]) / d A. */
function tfjsGradient(model: tf.GraphModel, input: Tensor, node: string, logitsNode: string, cls: number): { activation: Tensor; gradient: Tensor } {
  let result: { activation: Tensor; gradient: Tensor } | null = null;
  tf.tidy(() => {
    const x = toTf(input);
    const a = model.execute({ [model.inputs[0]!.name]: x }, node) as tf.Tensor;
    const g = tf.grad((given: tf.Tensor) => {
      // The node's value fed as an input: tfjs computes nothing upstream of it.
      const out = model.execute({ [model.inputs[0]!.name]: x, [node]: given }, logitsNode) as tf.Tensor;
      const mask = new Float32Array(out.size);
      for (let n = 0; n < out.shape[0]!; n++) mask[n * out.shape[1]! + cls] = 1;
      return tf.sum(tf.mul(out, tf.tensor(mask, out.shape))) as tf.Scalar;
    })(a);
    result = { activation: fromTf(a), gradient: fromTf(g) };
  });
  return result!;
}

describe('a graph with every listed op, against TensorFlow.js', () => {
  let reference: tf.GraphModel;
  let ours: TfjsGraphModel;
  let built: ReturnType<typeof everyOpGraph>;

  beforeAll(async () => {
    built = everyOpGraph();
    reference = await tfjsGraphModel(built.modelJson, built.weights);
    ours = loadTfjsModel(built.modelJson, { weights: built.weights }) as TfjsGraphModel;
  });

  it('outputs equal model.predict on a batch of two (1e-4 relative), with the logits before the final Softmax', () => {
    const input = rand([2, 9, 10, 3], { seed: 31, low: -1, high: 1 });
    const theirs = fromTf(reference.predict(toTf(input)) as tf.Tensor);
    expectClose(ours.forward(input), theirs, 1e-4, 'probabilities');
    const [out] = ours.forwardOutputs(input);
    expect(out!.name).toBe('Identity:0');
    expect(out!.activation).toBe('softmax');
    expectClose(out!.logits!, fromTf(reference.execute({ x: toTf(input) }, 'logits') as tf.Tensor), 1e-4, 'logits');
    expectClose(softmax(out!.logits!, 1), out!.value, 1e-6, 'softmax(logits)');
  });

  it('A and dA at two nodes equal tf.grad through the graph (1e-4 relative)', () => {
    const input = rand([1, 9, 10, 3], { seed: 32, low: -1, high: 1 });
    for (const node of ['c5', 'cv']) {
      const theirs = tfjsGradient(reference, input, node, 'logits', 2);
      const mine = tinycamActivationAndGradient(ours, input, node, [2]);
      expectClose(mine.activation, asStored(theirs.activation, true), 1e-4, `A at ${node}`);
      expectClose(mine.gradient, asStored(theirs.gradient, true), 1e-4, `dA at ${node}`);
    }
  });

  it("Grad-CAM at a node equals a Grad-CAM from tfjs's A and dA; nodes are hookable by name with [N, C, h, w]", () => {
    const input = rand([1, 9, 10, 3], { seed: 33, low: -1, high: 1 });
    const result = gradCam(ours, input, { layer: 'c6', target: 1 });
    const theirs = tfjsGradient(reference, input, 'c6', 'logits', 1);
    const a = asStored(theirs.activation, true);
    expectClose(result.layers[0]!.raw, sum(mul(a, mean(asStored(theirs.gradient, true), [2, 3], true)), 1), 1e-4, 'raw map');
    expect([...result.maps.shape]).toEqual([1, 9, 10]);
    const layers = new Map(ours.layers().map((l) => [l.name, l]));
    expect(layers.get('c6')).toEqual({ name: 'c6', className: '_FusedConv2D', shape: [1, 5, 5, 4] });
    // Weights and what is computed from them alone are not layers.
    expect(layers.has('w1')).toBe(false);
    expect(ours.inputLayout).toBe('NHWC');
  });

  it('uses every op the issue lists', () => {
    const ops = new Set((built.modelJson.modelTopology as { node: { op: string }[] }).node.map((n) => n.op));
    const listed = [
      'Placeholder', 'Const', 'Identity', 'Conv2D', 'DepthwiseConv2dNative', '_FusedConv2D', 'FusedDepthwiseConv2dNative', '_FusedMatMul', 'MatMul',
      'BiasAdd', 'FusedBatchNormV3', 'Relu', 'Relu6', 'Sigmoid', 'Tanh', 'Elu', 'Selu', 'LeakyRelu', 'Add', 'AddV2', 'Sub', 'Mul', 'RealDiv',
      'Maximum', 'Minimum', 'Rsqrt', 'Sqrt', 'Square', 'Pad', 'PadV2', 'MirrorPad', 'MaxPool', 'AvgPool', 'Mean', 'Max', 'Sum', 'Reshape',
      'Squeeze', 'ExpandDims', 'ConcatV2', 'Pack', 'Shape', 'StridedSlice', 'Transpose', 'Softmax', 'ResizeBilinear', 'ResizeNearestNeighbor',
    ];
    expect(listed.filter((op) => !ops.has(op))).toEqual([]);
    const fusedActivations = new Set(
      (built.modelJson.modelTopology as { node: { attr: { fused_ops?: { list: { s: string[] } } } }[] }).node.flatMap((n) =>
        (n.attr.fused_ops?.list.s ?? []).map((s) => Buffer.from(s, 'base64').toString()),
      ),
    );
    expect([...fusedActivations].sort()).toEqual(['BiasAdd', 'Elu', 'LeakyRelu', 'Prelu', 'Relu', 'Relu6', 'Sigmoid']);
  });
});

describe('graph-model forms tfjs cannot be the reference for', () => {
  it('_FusedConv2D with FusedBatchNorm equals Conv2D then FusedBatchNormV3', () => {
    const make = (fusedForm: boolean) => {
      const g = new GraphBuilder(3);
      const x = g.input('x', [-1, 6, 6, 2]);
      const w = g.random('w', [3, 3, 2, 3], 0.5);
      const stats = [g.random('scale', [3], 0.2, 1), g.random('offset', [3], 0.1), g.random('mean', [3], 0.1), g.random('var', [3], 0.1, 1)];
      if (fusedForm) g.op('y', '_FusedConv2D', [x, w, ...stats], { ...same, ...strides(1), ...fused(['FusedBatchNorm', 'Relu'], 4, { epsilon: attr.f(0.01) }) });
      else g.op('y', 'Relu', [g.op('bn', 'FusedBatchNormV3', [g.op('conv', 'Conv2D', [x, w], { ...same, ...strides(1) }), ...stats], { epsilon: attr.f(0.01) })]);
      const { modelJson, weights } = g.build();
      return loadTfjsModel(modelJson, { weights }) as TfjsGraphModel;
    };
    const input = rand([2, 6, 6, 2], { seed: 4 });
    expectClose(make(true).forward(input), make(false).forward(input), 1e-6, 'fused batch norm');
  });
});

describe('unsupported ops and bad graphs', () => {
  it('lists every unsupported op at load, and unsupported forms of supported ones', () => {
    const g = new GraphBuilder(1);
    const x = g.input('x', [-1, 4, 4, 2]);
    g.op('nms', 'NonMaxSuppressionV5', [x]);
    g.op('where', 'Where', [x]);
    g.op('mirror', 'MirrorPad', [x, g.ints('p', [0, 0, 1, 1, 1, 1, 0, 0], [4, 2])], { mode: attr.s('SYMMETRIC') });
    const { modelJson, weights } = g.build();
    let error: unknown;
    try {
      loadTfjsModel(modelJson, { weights });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(TfjsUnsupportedError);
    const e = error as TfjsUnsupportedError;
    expect(e.unsupported.map((u) => u.name).sort()).toEqual(['MirrorPad', 'NonMaxSuppressionV5', 'Where']);
    expect(e.message).toMatch(/3 unsupported ops: NonMaxSuppressionV5 \('nms'\); Where \('where'\); MirrorPad with mode SYMMETRIC/);
    expect(e.message).toMatch(/Supported: .*_FusedConv2D/);
  });

  it('a node that reads a tensor nothing makes, and a Const without a weight', () => {
    const g = new GraphBuilder(1);
    const x = g.input('x', [-1, 4]);
    g.op('y', 'Relu', [`${x}`, 'ghost']);
    const { modelJson, weights } = g.build();
    expect(() => loadTfjsModel(modelJson, { weights })).toThrow(/Relu node 'y' reads 'ghost', which no node of the graph makes/);
    const h = new GraphBuilder(1);
    h.op('z', 'Relu', [h.input('x', [-1, 4])]);
    const built = h.build();
    (built.modelJson.modelTopology as { node: unknown[] }).node.push({ name: 'orphan', op: 'Const', attr: { dtype: attr.float } });
    expect(() => loadTfjsModel(built.modelJson, { weights: built.weights })).toThrow(TfjsError);
    expect(() => loadTfjsModel(built.modelJson, { weights: built.weights })).toThrow(/Const node 'orphan' has no value in the weights manifest/);
  });
});

describe('axes out of range', () => {
  // Each graph is valid but for one axis: the run names the node and the accepted range, instead of wrapping the axis around.
  const run = (build: (g: GraphBuilder, x: string) => void): (() => unknown) => {
    const g = new GraphBuilder(1);
    build(g, g.input('x', [-1, 4, 4, 2]));
    const { modelJson, weights } = g.build();
    const model = loadTfjsModel(modelJson, { weights }) as TfjsGraphModel;
    return () => model.forward(rand([1, 4, 4, 2], { seed: 1 }));
  };

  it('ConcatV2, Pack and the reductions refuse an axis outside -rank..rank-1 with a TfjsError naming the node', () => {
    const concat = run((g, x) => g.op('c', 'ConcatV2', [x, x, g.ints('axis', [4], [])], { N: attr.i(2) }));
    expect(concat).toThrow(TfjsError);
    expect(concat).toThrow(/ConcatV2 node 'c': axis 4 is out of range for a tensor of rank 4 \(accepted: -4 to 3\)/);
    expect(run((g, x) => g.op('p', 'Pack', [x, x], { axis: attr.i(-6), N: attr.i(2) }))).toThrow(/Pack node 'p': axis -6 is out of range for a tensor of rank 5 \(accepted: -5 to 4\)/);
    expect(run((g, x) => g.op('s', 'Sum', [x, g.ints('axes', [1, -5])]))).toThrow(/Sum node 's': axis -5 is out of range for a tensor of rank 4/);
    // In range, negative axes still count from the end.
    const ok = run((g, x) => g.op('c', 'ConcatV2', [x, x, g.ints('axis', [-1], [])], { N: attr.i(2) }));
    expect((ok() as { shape: number[] }).shape).toEqual([1, 4, 4, 4]);
  });

  it("the layout's axis mapping (Keras layers' axis option) refuses one too, and maps NHWC axes to the stored NCHW ones", () => {
    const layout = new Layout(true);
    expect(() => layout.axis(4, 4)).toThrow(TfjsError);
    expect(() => layout.axis(-5, 4)).toThrow(/axis -5 is out of range for a tensor of rank 4 \(accepted: -4 to 3\)/);
    expect([0, 1, 2, 3, -1].map((a) => layout.axis(a, 4))).toEqual([0, 2, 3, 1, 1]);
  });
});

describe('nsfwjs MobileNetV2-mid (graph model, uint8 weights in 2 shards)', () => {
  let reference: tf.GraphModel;
  let ours: TfjsGraphModel;
  const photo = (file: string) =>
    toChannelsLast(preprocess(decodeImage(new Uint8Array(readFileSync(new URL(`./data/photos/${file}`, import.meta.url)))), { resize: { width: 224, height: 224 }, ...TFJS_SCALING.unit }));
  const CONV_1 = 'StatefulPartitionedCall/sequential/keras_layer/StatefulPartitionedCall/StatefulPartitionedCall/StatefulPartitionedCall/predict/MobilenetV2/Conv_1/Relu6';
  const PROJECT_16 = 'StatefulPartitionedCall/sequential/keras_layer/StatefulPartitionedCall/StatefulPartitionedCall/StatefulPartitionedCall/predict/MobilenetV2/expanded_conv_16/project/BatchNorm/FusedBatchNormV3';
  const LOGITS = 'StatefulPartitionedCall/sequential/dense/BiasAdd';

  beforeAll(async () => {
    const { modelJson, shards } = nsfwModel('mobilenet_v2_mid');
    ours = loadTfjsModel(modelJson, { weights: (path) => shards.get(path)! }) as TfjsGraphModel;
    reference = await tfjsGraphModel(modelJson as unknown as Record<string, unknown>, concatenated(shards));
  });

  it('outputs equal model.predict on two photos (1e-4 relative)', async () => {
    const input = concat([photo('chelsea.png'), photo('rocket.jpg')], 0);
    const theirs = await onTfjsWasm(() => fromTf(reference.predict(toTf(input)) as tf.Tensor));
    expectClose(ours.forward(input), theirs, 1e-4, 'probabilities');
  }, 300_000);

  it('A and dA at two nodes equal tf.grad, and Grad-CAM at Conv_1 equals one from them', async () => {
    const input = photo('chelsea.png');
    for (const node of [CONV_1, PROJECT_16]) {
      const theirs = await onTfjsWasmElseCpu(() => tfjsGradient(reference, input, node, LOGITS, 2));
      const mine = tinycamActivationAndGradient(ours, input, node, [2]);
      expectClose(mine.activation, asStored(theirs.activation, true), 1e-4, `A at ${node}`);
      expectClose(mine.gradient, asStored(theirs.gradient, true), 1e-4, `dA at ${node}`);
      if (node === CONV_1) {
        const result = gradCam(ours, input, { target: 2 });
        // The default layer: the last feature map larger than 1x1.
        expect(result.layers[0]!.name).toBe(CONV_1);
        const a = asStored(theirs.activation, true);
        expectClose(result.layers[0]!.raw, sum(mul(a, mean(asStored(theirs.gradient, true), [2, 3], true)), 1), 1e-4, 'raw map');
      }
    }
  }, 300_000);
});
