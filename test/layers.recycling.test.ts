import { describe, expect, it } from 'vitest';
import { setBackend, type BackendName } from '../src/tensor/backend.js';
import { grad, noGrad } from '../src/tensor/autograd.js';
import { sum } from '../src/tensor/ops/reduce.js';
import { randn, rand } from '../src/tensor/random.js';
import { Tensor } from '../src/tensor/tensor.js';
import { conv2d } from '../src/tensor/ops/conv.js';
import { maxPool2d } from '../src/tensor/ops/pool.js';
import { ArgumentError } from '../src/tensor/errors.js';
import {
  bufferPoolStats, recycleBuffer, setBufferPoolLimit, takeBuffer,
} from '../src/tensor/buffer-pool.js';
import { Sequential } from '../src/layers/containers.js';
import { Conv2d } from '../src/layers/conv.js';
import { BatchNorm2d } from '../src/layers/normalization.js';
import { ReLU } from '../src/layers/activation.js';
import { MaxPool2d } from '../src/layers/pooling.js';
import type { Module } from '../src/layers/module.js';
import { resnet18, resnet50, type BasicBlock } from '../src/models/resnet.js';
import { mobilenet_v2 } from '../src/models/mobilenet.js';
import { gradCam } from '../src/cam/methods/gradCam.js';
import { POOL_LIMIT, expectSameBits, freshPoolPerTest, poisonPool, withoutPool } from './helpers/buffer-pool.js';

/**
 * Activations given back to the buffer pool between sealed modules
 * (src/layers/recycling.ts) and taken again by conv2d
 * (src/tensor/buffer-pool.ts) must be invisible: the reference is the same
 * model run with the pool off (every buffer fresh), and anything a hook or a
 * gradient graph could still hold must keep its values.
 */

freshPoolPerTest();

/** Batch norms with statistics far from the identity (a skipped or stale one shows). */
function randomiseBatchNorms(model: Module, seed: number): void {
  let k = seed;
  for (const m of model.modules()) {
    if (!(m instanceof BatchNorm2d)) continue;
    const C = m.numFeatures;
    m.running_mean!.data.set(randn([C], { seed: k++, std: 0.2 }).data);
    m.running_var!.data.set(rand([C], { seed: k++, low: 0.5, high: 2 }).data);
    m.bias!.data.set(randn([C], { seed: k++, std: 0.2 }).data);
  }
}




describe('the buffer pool', () => {
  it('hands back a buffer of the exact length asked, once, and counts it', () => {
    const a = new Float32Array(12);
    recycleBuffer(a);
    expect(bufferPoolStats()).toMatchObject({ heldBytes: 48, kept: 1 });
    expect(takeBuffer(11)).toBeNull();
    expect(takeBuffer(12)).toBe(a);
    expect(takeBuffer(12)).toBeNull();
    expect(bufferPoolStats().heldBytes).toBe(0);
  });

  it('keeps a buffer given back twice only once (two takers would share it)', () => {
    const a = new Float32Array(8);
    const before = bufferPoolStats();
    recycleBuffer(a);
    recycleBuffer(a);
    const after = bufferPoolStats();
    expect([after.heldBytes, after.kept - before.kept, after.dropped - before.dropped]).toEqual([32, 1, 1]);
    expect(takeBuffer(8)).toBe(a);
    expect(takeBuffer(8)).toBeNull();
    recycleBuffer(a); // taken, so it may come back
    expect(takeBuffer(8)).toBe(a);
  });

  it('lets go of sizes nobody asks for any more once it has refused 64 buffers for want of room, and only then', () => {
    setBufferPoolLimit(1000);
    recycleBuffer(new Float32Array(200)); // 800 bytes of an old size
    const stale = bufferPoolStats().stale;
    // A working set that does not fit but is used: every refusal follows a hit, so nothing is let go.
    for (let i = 0; i < 100; i++) {
      recycleBuffer(new Float32Array(100)); // 400 more bytes do not fit next to 800
      recycleBuffer(takeBuffer(200)!); // the held size in use
    }
    expect(bufferPoolStats()).toMatchObject({ heldBytes: 800, stale });
    // The old size no longer asked for: the 65th refusal lets it go and the new size moves in.
    for (let i = 0; i < 64; i++) {
      expect(takeBuffer(100)).toBeNull();
      recycleBuffer(new Float32Array(100));
    }
    expect(bufferPoolStats()).toMatchObject({ heldBytes: 800, stale });
    recycleBuffer(new Float32Array(100));
    expect(bufferPoolStats()).toMatchObject({ heldBytes: 400, stale: stale + 1 });
    expect(takeBuffer(200)).toBeNull();
    expect(takeBuffer(100)).not.toBeNull();
  });

  it('keeps no views into bigger buffers, no shared memory, and nothing past its limit', () => {
    const before = bufferPoolStats();
    recycleBuffer(new Float32Array(16).subarray(4, 8));
    recycleBuffer(new Float32Array(new SharedArrayBuffer(64)));
    setBufferPoolLimit(100);
    recycleBuffer(new Float32Array(20)); // 80 bytes: kept
    recycleBuffer(new Float32Array(20)); // 160 > 100: dropped
    const after = bufferPoolStats();
    expect(after.kept - before.kept).toBe(1);
    expect(after.dropped - before.dropped).toBe(3);
    expect(after.heldBytes).toBe(80);
  });

  it('lowering the limit below what it holds lets go of everything; a bad limit is refused and changes nothing', () => {
    recycleBuffer(new Float32Array(100));
    expect(() => setBufferPoolLimit(-1)).toThrow(ArgumentError);
    expect(() => setBufferPoolLimit(Number.NaN)).toThrow(/finite number >= 0/);
    expect(bufferPoolStats()).toMatchObject({ heldBytes: 400, limitBytes: POOL_LIMIT });
    expect(setBufferPoolLimit(10)).toBe(POOL_LIMIT);
    expect(bufferPoolStats().heldBytes).toBe(0);
  });
});

describe.each(['js', 'wasm'] as BackendName[])('recycled buffers on the %s kernels', (backend) => {
  const use = async (): Promise<void> => {
    expect(await setBackend(backend)).toBe(true);
  };

  it.each([
    ['3x3 stride 1 (Winograd)', [2, 16, 12, 12], [16, 16, 3, 3], { padding: 1 }, false],
    ['3x3 stride 1 with a bias', [1, 8, 9, 7], [12, 8, 3, 3], { padding: 1 }, true],
    ['7x7 stride 2 (the stem)', [2, 3, 20, 20], [8, 3, 7, 7], { stride: 2, padding: 3 }, false],
    ['1x1 stride 2 (a shortcut)', [2, 8, 10, 10], [16, 8, 1, 1], { stride: 2 }, false],
    ['3x3 in 2 groups, with a bias', [1, 8, 8, 8], [8, 4, 3, 3], { padding: 1, groups: 2 }, true],
    ['3x3 depthwise stride 2 (MobileNetV2; its kernels add into the output)', [2, 12, 11, 11], [12, 1, 3, 3], { stride: 2, padding: 1, groups: 12 }, false],
    ['3x3 depthwise with a bias', [1, 12, 8, 8], [12, 1, 3, 3], { padding: 1, groups: 12 }, true],
  ] as const)('conv2d %s overwrites every element of a recycled (NaN) buffer', async (_, xs, ws, options, withBias) => {
    await use();
    const x = randn([...xs], { seed: 1 });
    const w = randn([...ws], { seed: 2, std: 0.2 });
    const b = withBias ? randn([ws[0]], { seed: 3 }) : null;
    const fresh = withoutPool(() => conv2d(x, w, b, options));
    poisonPool([fresh.size]);
    const reused = conv2d(x, w, b, options);
    expect(bufferPoolStats().heldBytes).toBe(0); // it took the poisoned buffer
    expectSameBits(reused.data, fresh.data);
  });

  it.each([
    ['3x3 stride 2 padded (ResNet)', [2, 8, 15, 15], { kernelSize: 3, stride: 2, padding: 1 }],
    ['2x2 stride 2 (VGG)', [2, 8, 16, 16], { kernelSize: 2, stride: 2 }],
  ] as const)('maxPool2d %s overwrites every element of a recycled (NaN) buffer', async (_, xs, options) => {
    await use();
    const x = randn([...xs], { seed: 4 });
    const fresh = withoutPool(() => maxPool2d(x, options));
    poisonPool([fresh.size]);
    const reused = maxPool2d(x, options);
    expect(bufferPoolStats().heldBytes).toBe(0);
    expectSameBits(reused.data, fresh.data);
  });

  it.each([
    ['ResNet-18 (BasicBlock)', () => resnet18({ numClasses: 10 }), [2, 3, 48, 48]],
    ['ResNet-50 (Bottleneck)', () => resnet50({ numClasses: 4 }), [1, 3, 32, 32]],
  ] as const)('%s under noGrad: the same logits with the pool as without, call after call, and the pool is used', async (_, build, shape) => {
    await use();
    const model = build().eval();
    randomiseBatchNorms(model, 4);
    const x = randn([...shape], { seed: 5 });
    const reference = withoutPool(() => noGrad(() => model.forward(x))).data;
    const first = noGrad(() => model.forward(x));
    expect(bufferPoolStats().kept).toBeGreaterThan(5);
    const reusedBefore = bufferPoolStats().reused;
    const second = noGrad(() => model.forward(x));
    expect(bufferPoolStats().reused - reusedBefore).toBeGreaterThan(5);
    expectSameBits(first.data, reference);
    expectSameBits(second.data, reference);
  });

  it('MobileNetV2 (inverted residuals, ReLU6, depthwise convolutions) under noGrad and in Grad-CAM likewise', async () => {
    await use();
    const model = mobilenet_v2({ numClasses: 6 }).eval();
    randomiseBatchNorms(model, 30);
    const x = randn([2, 3, 40, 40], { seed: 31 });
    const reference = withoutPool(() => noGrad(() => model.forward(x))).data;
    // The raw map (before its ReLU: random weights often leave nothing above zero).
    const referenceMap = withoutPool(() => gradCam(model, x, { layer: 'features.10' })).layers[0]!.raw.data;
    const keptBefore = bufferPoolStats().kept;
    noGrad(() => model.forward(x));
    expect(bufferPoolStats().kept - keptBefore).toBeGreaterThan(20);
    expectSameBits(noGrad(() => model.forward(x)).data, reference);
    expectSameBits(gradCam(model, x, { layer: 'features.10' }).layers[0]!.raw.data, referenceMap);
    expect(referenceMap.some((v) => v !== 0)).toBe(true);
  });

  it("Grad-CAM's maps are the same with the pool as without, and its frozen pass feeds the pool", async () => {
    await use();
    const model = resnet18({ numClasses: 10 }).eval();
    randomiseBatchNorms(model, 9);
    const x = randn([2, 3, 48, 48], { seed: 10 });
    const reference = withoutPool(() => gradCam(model, x, { layer: 'layer4' }));
    const keptBefore = bufferPoolStats().kept;
    const pooled = gradCam(model, x, { layer: 'layer4' });
    expect(bufferPoolStats().kept).toBeGreaterThan(keptBefore);
    const again = gradCam(model, x, { layer: 'layer4' });
    expectSameBits(pooled.maps.data, reference.maps.data);
    expectSameBits(again.maps.data, reference.maps.data);
    expect(pooled.maps.data.some((v) => v > 0)).toBe(true);
  });
});

describe('nothing that could still be read goes back to the pool', () => {
  /** A copy of what a hook saw, to compare with what the hook kept after later calls. */
  const snapshot = (t: Tensor): Float32Array => new Float32Array(t.data);

  it('activations a hook kept (a module output, a block input, a stage output) keep their values through later forward passes', () => {
    const model = resnet18({ numClasses: 10 }).eval();
    randomiseBatchNorms(model, 11);
    const kept: { tensor: Tensor; copy: Float32Array }[] = [];
    const keep = (t: Tensor): void => void kept.push({ tensor: t, copy: snapshot(t) });
    const block = model.layer2.at(1) as BasicBlock;
    const handles = [
      block.conv1.registerForwardHook((_m, _inputs, out) => keep(out)), // inside a block
      model.layer3.at(0).registerForwardHook((_m, inputs) => keep(inputs[0]!)), // a block's input: layer2's output
      model.maxpool.registerForwardHook((_m, inputs) => keep(inputs[0]!)), // the stem's output
      model.layer1.registerForwardHook((_m, _inputs, out) => keep(out)), // a stage's output
    ];
    try {
      for (let seed = 0; seed < 3; seed++) noGrad(() => model.forward(randn([1, 3, 40, 40], { seed: 20 + seed })));
    } finally {
      for (const h of handles) h.remove();
    }
    expect(kept.length).toBe(12);
    for (const { tensor, copy } of kept) expectSameBits(tensor.data, copy);
    // The rest of the model still recycled around them.
    expect(bufferPoolStats().kept).toBeGreaterThan(0);
  });

  it('what a hook saw stays intact when the hook removed itself while it ran (watched before, unwatched after)', () => {
    const model = resnet18({ numClasses: 10 }).eval();
    randomiseBatchNorms(model, 18);
    const kept = new Map<string, { tensor: Tensor; copy: Float32Array }>();
    /** A one-shot hook: keeps the output it sees, then removes itself inside the call. */
    const once = (name: string, m: Module): void => {
      const handle = m.registerForwardHook((_m, _inputs, out) => {
        kept.set(name, { tensor: out, copy: snapshot(out) });
        handle.remove();
      });
    };
    once('conv', (model.layer2.at(1) as BasicBlock).conv1); // fused with its batch norm and ReLU in place, were it unwatched
    once('stage', model.layer2); // a stage's output, which layer3 consumes
    once('block', model.layer1.at(0)); // a block's output, which the next block consumes
    noGrad(() => model.forward(randn([1, 3, 40, 40], { seed: 19 })));
    noGrad(() => model.forward(randn([1, 3, 40, 40], { seed: 20 })));
    // The same in a Sequential: the conv's output, which the ReLU after it would overwrite in place.
    const seq = new Sequential(new Conv2d(3, 8, 3, { padding: 1 }), new ReLU(), new Conv2d(8, 4, 3)).eval();
    once('sequence conv', seq.at(0));
    noGrad(() => seq.forward(randn([1, 3, 12, 12], { seed: 21 })));
    noGrad(() => seq.forward(randn([1, 3, 12, 12], { seed: 22 })));
    expect([...kept.keys()].sort()).toEqual(['block', 'conv', 'sequence conv', 'stage']);
    for (const { tensor, copy } of kept.values()) expectSameBits(tensor.data, copy);
    // Convolution outputs, before batch norm and ReLU: a ReLU in place over them would show.
    expect(kept.get('conv')!.copy.some((v) => v < 0)).toBe(true);
    expect(kept.get('sequence conv')!.copy.some((v) => v < 0)).toBe(true);
  });

  it('a forward that records a gradient gives nothing back (the graph holds its activations)', () => {
    const model = resnet18({ numClasses: 10 }).eval();
    const before = bufferPoolStats().kept;
    model.forward(randn([1, 3, 32, 32], { seed: 12 }).requireGrad());
    expect(bufferPoolStats().kept).toBe(before);
  });

  it("gradients through ResNet-18 are the same with the pool as without (the graph keeps the convolutions' inputs)", () => {
    const model = resnet18({ numClasses: 10 }).eval();
    randomiseBatchNorms(model, 16);
    // Weight gradients read each convolution's saved input, so a recycled one would show.
    const weights = [model.layer1.at(1), model.layer2.at(1), model.layer3.at(0)].map((b) => (b as BasicBlock).conv2.weight);
    const gradients = (): Float32Array[] => {
      const x = randn([1, 3, 40, 40], { seed: 17 });
      return grad(sum(model.forward(x)), weights).map((g) => g!.data);
    };
    const reference = withoutPool(gradients);
    poisonPool([64 * 10 * 10, 64 * 10 * 10, 128 * 5 * 5, 128 * 5 * 5]); // lengths of the convolutions' outputs
    gradients().forEach((g, i) => expectSameBits(g, reference[i]!));
  });

  it("a Sequential gives back what passed between its sealed steps, never its own input or output, nor a hooked module's", () => {
    const seq = new Sequential(
      new Conv2d(3, 8, 3, { padding: 1 }), new ReLU(), // fused step
      new MaxPool2d(2),
      new Conv2d(8, 8, 3, { padding: 1 }), new BatchNorm2d(8), new ReLU(),
      new Conv2d(8, 4, 1),
    ).eval();
    randomiseBatchNorms(seq, 13);
    const x = randn([2, 3, 16, 16], { seed: 14 });
    const xCopy = snapshot(x);
    const reference = withoutPool(() => noGrad(() => seq.forward(x))).data;
    const before = bufferPoolStats().kept;
    const out = noGrad(() => seq.forward(x));
    // conv+relu -> pool, pool -> conv+bn+relu, that -> conv: three buffers back.
    expect(bufferPoolStats().kept - before).toBe(3);
    expectSameBits(out.data, reference);
    expectSameBits(x.data, xCopy);
    // A hook on the max-pool: neither its input nor its output goes back.
    let seenInput: Tensor | null = null;
    let seenOutput: Tensor | null = null;
    const h = seq.at(2).registerForwardHook((_m, inputs, output) => {
      seenInput = inputs[0]!;
      seenOutput = output;
    });
    try {
      const keptBefore = bufferPoolStats().kept;
      noGrad(() => seq.forward(x));
      expect(bufferPoolStats().kept - keptBefore).toBe(1); // only conv+bn+relu's output, consumed by the last conv
    } finally {
      h.remove();
    }
    const inputCopy = snapshot(seenInput!);
    const outputCopy = snapshot(seenOutput!);
    noGrad(() => seq.forward(randn([2, 3, 16, 16], { seed: 15 })));
    expectSameBits(seenInput!.data, inputCopy);
    expectSameBits(seenOutput!.data, outputCopy);
  });
});
