import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { gradCam } from '../src/cam/methods/gradCam.js';
import { decodeImage, preprocess } from '../src/image/index.js';
import { noGrad } from '../src/tensor/autograd.js';
import { setBackend, type BackendName } from '../src/tensor/backend.js';
import { bufferPoolStats } from '../src/tensor/buffer-pool.js';
import { randn } from '../src/tensor/random.js';
import type { Tensor } from '../src/tensor/tensor.js';
import { loadTfjsModel, TFJS_SCALING, toChannelsLast, type TfjsGraphModel } from '../src/tfjs/index.js';
import { nsfwModel } from './helpers/nsfwjs.js';
import { attr, GraphBuilder } from './helpers/tfjs-graph.js';
import { expectSameBits, freshPoolPerTest, poisonPool, recordedInputGradient, scribbleOverPool, withoutPool } from './helpers/buffer-pool.js';

/**
 * Intermediate tensors of a TensorFlow.js graph model's run handed back to
 * the buffer pool once their last reader has run (src/tfjs/graph/freshOutputs.ts,
 * src/layers/graphRecycling.ts) must be invisible: the reference is the same
 * model with the pool off, and what the caller asked for, a hook saw or a
 * gradient graph holds must keep its values.
 */

freshPoolPerTest();

const copy = (t: Tensor): Float32Array => new Float32Array(t.data);
const BACKENDS: BackendName[] = ['js', 'wasm'];

/** Every distinct element count of the model's node outputs at the last run (what the pool is asked for). */
const activationSizes = (model: TfjsGraphModel): number[] =>
  [...new Set(model.layers().map((l) => (l.shape ?? []).reduce<number>((a, b) => a * (b ?? 0), 1)))].filter((n) => n > 1);

const N = 2;
const same = { padding: attr.s('SAME'), data_format: attr.s('NHWC'), strides: attr.ints([1, 1, 1, 1]), dilations: attr.ints([1, 1, 1, 1]) };

/**
 * x [N, 8, 8, 3] -> _FusedConv2D(+bias, Relu) c1 -> Conv2D c2 -> FusedBatchNormV3 bn -> Relu r -> AddV2(r, c1) add
 * -> MaxPool mp -> Mean mean -> MatMul -> BiasAdd logits -> Softmax -> Identity.
 */
function smallGraph(): TfjsGraphModel {
  const g = new GraphBuilder(3);
  const x = g.input('x', [-1, 8, 8, 3]);
  const c1 = g.op('c1', '_FusedConv2D', [x, g.random('w1', [3, 3, 3, 8], 0.4), g.random('b1', [8], 0.1)], {
    ...same, fused_ops: attr.strings(['BiasAdd', 'Relu']), num_args: attr.i(1), epsilon: attr.f(0),
  });
  const c2 = g.op('c2', 'Conv2D', [c1, g.random('w2', [3, 3, 8, 8], 0.2)], same);
  const bn = g.op('bn', 'FusedBatchNormV3', [c2, g.random('scale', [8], 0.2, 1), g.random('offset', [8], 0.1), g.random('mean_', [8], 0.1), g.random('var_', [8], 0.1, 1)], {
    epsilon: attr.f(0.001), data_format: attr.s('NHWC'), is_training: attr.b(false),
  });
  const r = g.op('r', 'Relu', [bn]);
  const add = g.op('add', 'AddV2', [r, c1]);
  const mp = g.op('mp', 'MaxPool', [add], { ksize: attr.ints([1, 2, 2, 1]), strides: attr.ints([1, 2, 2, 1]), padding: attr.s('VALID'), data_format: attr.s('NHWC') });
  const mean = g.op('mean', 'Mean', [mp, g.ints('hw', [1, 2])], { keep_dims: attr.b(false) });
  const mm = g.op('mm', 'MatMul', [mean, g.random('wo', [8, 5], 0.3)], { transpose_a: attr.b(false), transpose_b: attr.b(false) });
  const logits = g.op('logits', 'BiasAdd', [mm, g.random('bo', [5], 0.1)], { data_format: attr.s('NHWC') });
  g.op('Identity', 'Identity', [g.op('probs', 'Softmax', [logits])]);
  const built = g.build(['Identity']);
  return loadTfjsModel(built.modelJson, { weights: built.weights }) as TfjsGraphModel;
}

const input = (seed: number): Tensor => randn([N, 8, 8, 3], { seed });
// c1, c2, bn, r and add as stored [N, 8, 8, 8]; mp [N, 8, 4, 4].
const ACTIVATION = N * 8 * 8 * 8;

describe.each(BACKENDS)('a small graph model with the pool on the %s kernels', (backend) => {
  it('gives the same outputs and logits as with the pool off, call after call, and feeds the pool', async () => {
    expect(await setBackend(backend)).toBe(true);
    const model = smallGraph();
    const x = input(10);
    const reference = withoutPool(() => noGrad(() => model.forwardOutputs(x)));
    const keptBefore = bufferPoolStats().kept;
    const reusedBefore = bufferPoolStats().reused;
    poisonPool([ACTIVATION, ACTIVATION / 4], 3);
    for (let call = 0; call < 3; call++) {
      const [out] = noGrad(() => model.forwardOutputs(x));
      expectSameBits(out!.value.data, reference[0]!.value.data);
      expectSameBits(out!.logits!.data, reference[0]!.logits!.data);
    }
    // c1 (read by c2 and add), c2, bn, r, add: five a call (mp is read by Mean, which may return its input).
    expect(bufferPoolStats().kept - keptBefore).toBeGreaterThanOrEqual(3 * 5);
    expect(bufferPoolStats().reused - reusedBefore).toBeGreaterThan(0);
  });
});

describe('nothing a caller, a hook or a gradient can still read goes back to the pool', () => {
  it('tensors asked for by name keep their values through later runs, and an unknown name gets the closest ones', () => {
    const model = smallGraph();
    const asked = ['c1', 'bn', 'add', 'logits'];
    const first = noGrad(() => model.run([input(20)], asked));
    expect(Object.keys(first)).toEqual(asked);
    const copies = asked.map((name) => copy(first[name]!));
    const keptBefore = bufferPoolStats().kept;
    for (let seed = 21; seed < 24; seed++) noGrad(() => model.run([input(seed)], asked));
    expect(bufferPoolStats().kept).toBeGreaterThan(keptBefore); // c2 and r still went back
    scribbleOverPool(asked.map((name) => first[name]!.size));
    asked.forEach((name, i) => expectSameBits(first[name]!.data, copies[i]!));
    expect(() => noGrad(() => model.run([input(25)], ['c3']))).toThrow(/no tensor named 'c3:0'. Closest: 'c1:0', 'c2:0'/);
  });

  it('what a hooked node saw keeps its values through later runs', () => {
    const model = smallGraph();
    const seen: { tensor: Tensor; copy: Float32Array }[] = [];
    const handles = ['c2', 'r'].map((name) =>
      model.layer(name).registerForwardHook((_m, _inputs, out) => void seen.push({ tensor: out, copy: copy(out) })));
    const keptBefore = bufferPoolStats().kept;
    try {
      for (let seed = 30; seed < 33; seed++) noGrad(() => model.forward(input(seed)));
    } finally {
      for (const h of handles) h.remove();
    }
    expect(seen.length).toBe(6);
    expect(bufferPoolStats().kept).toBeGreaterThan(keptBefore); // add still went back
    scribbleOverPool([ACTIVATION]);
    for (const { tensor, copy: values } of seen) expectSameBits(tensor.data, values);
  });

  it('a run that records a gradient gives nothing back, and its gradient is the one with the pool off', () => {
    const model = smallGraph();
    const run = () => recordedInputGradient((x) => model.forward(x), () => input(40), [ACTIVATION]);
    const reference = withoutPool(run).gradient;
    poisonPool([ACTIVATION], 3);
    const { gradient, kept } = run();
    expectSameBits(gradient, reference);
    expect(kept).toBe(0);
  });

  it('in training mode (the layers are) nothing goes back', () => {
    const model = smallGraph();
    model.train();
    const keptBefore = bufferPoolStats().kept;
    noGrad(() => model.forward(input(41)));
    expect(bufferPoolStats().kept).toBe(keptBefore);
    model.eval();
    noGrad(() => model.forward(input(41)));
    expect(bufferPoolStats().kept).toBeGreaterThan(keptBefore);
  });
});

/** nsfwjs's MobileNetV2-mid (an npm devDependency, no ../shared needed): a real converted graph, NHWC, 224x224. */
describe.each(BACKENDS)('nsfwjs MobileNetV2-mid with the pool on the %s kernels', (backend) => {
  const photo = (file: string): Tensor =>
    toChannelsLast(preprocess(decodeImage(new Uint8Array(readFileSync(new URL(`./data/photos/${file}`, import.meta.url)))), { resize: { width: 224, height: 224 }, ...TFJS_SCALING.unit }));
  const load = (): TfjsGraphModel => {
    const { modelJson, shards } = nsfwModel('mobilenet_v2_mid');
    return loadTfjsModel(modelJson, { weights: (path) => shards.get(path)! }) as TfjsGraphModel;
  };

  it('outputs and a Grad-CAM map are those with the pool off, bit for bit, call after call, the pool poisoned or scribbled over', async () => {
    expect(await setBackend(backend)).toBe(true);
    const model = load();
    const x = photo('chelsea.png');
    const reference = withoutPool(() => noGrad(() => model.forwardOutputs(x)));
    const referenceMap = withoutPool(() => gradCam(model, x, { target: 2 }));
    const sizes = activationSizes(model);
    poisonPool(sizes, 2);
    const reusedBefore = bufferPoolStats().reused;
    for (let call = 0; call < 2; call++) {
      const [out] = noGrad(() => model.forwardOutputs(x));
      expectSameBits(out!.value.data, reference[0]!.value.data);
      expectSameBits(out!.logits!.data, reference[0]!.logits!.data);
      const cam = gradCam(model, x, { target: 2 });
      scribbleOverPool(sizes);
      expectSameBits(cam.maps.data, referenceMap.maps.data);
      expectSameBits(cam.layers[0]!.raw.data, referenceMap.layers[0]!.raw.data);
    }
    expect(referenceMap.maps.data.some((v) => v > 0)).toBe(true);
    expect(bufferPoolStats().reused - reusedBefore).toBeGreaterThan(10);
  }, 300_000);
});
