import { afterEach, describe, expect, it } from 'vitest';
import { setBackend, type BackendName } from '../src/tensor/backend.js';
import { grad, noGrad } from '../src/tensor/autograd.js';
import { randn, rand } from '../src/tensor/random.js';
import type { Tensor } from '../src/tensor/tensor.js';
import { sum } from '../src/tensor/ops/reduce.js';
import { Sequential } from '../src/layers/containers.js';
import { Conv2d } from '../src/layers/conv.js';
import { BatchNorm2d } from '../src/layers/normalization.js';
import { ReLU } from '../src/layers/activation.js';
import type { Module } from '../src/layers/module.js';
import { AdaptiveAvgPool2d } from '../src/layers/pooling.js';
import { Flatten, Linear } from '../src/layers/linear.js';
import { BasicBlock, Bottleneck } from '../src/models/resnet.js';
import { mobilenet_v2 } from '../src/models/mobilenet.js';
import { gradCam } from '../src/cam/methods/gradCam.js';

/**
 * conv -> batch norm -> ReLU fused (src/layers/fusion.ts) must be invisible:
 * the reference is the same model with a do-nothing forward hook on every
 * module, which turns every fusion off (a watched module always runs as
 * written).
 */

afterEach(async () => {
  await setBackend('js');
});

/** Batch norms with statistics and affine parameters far from the identity, so that a skipped one shows. */
function randomiseBatchNorms(model: Module, seed: number): void {
  let k = seed;
  for (const m of model.modules()) {
    if (!(m instanceof BatchNorm2d)) continue;
    const C = m.numFeatures;
    m.running_mean!.data.set(randn([C], { seed: k++ }).data);
    m.running_var!.data.set(rand([C], { seed: k++, low: 0.5, high: 2 }).data);
    m.weight!.data.set(rand([C], { seed: k++, low: 0.5, high: 1.5 }).data);
    m.bias!.data.set(randn([C], { seed: k++, std: 0.5 }).data);
  }
}

/** Runs `fn` with a do-nothing forward hook on every module of `model` (so nothing fuses), then removes them. */
function unfused<T>(model: Module, fn: () => T): T {
  const handles = [...model.modules()].map((m) => m.registerForwardHook(() => undefined));
  try {
    return fn();
  } finally {
    for (const h of handles) h.remove();
  }
}

const shortcut = (cin: number, cout: number, stride: number): Sequential =>
  new Sequential(new Conv2d(cin, cout, 1, { stride, bias: false }), new BatchNorm2d(cout));

/** A stem (conv, batch norm, ReLU), two residual blocks (the second with a strided shortcut), a head. */
const tinyResNet = (block: typeof BasicBlock | typeof Bottleneck): Sequential => {
  const blocks = block === BasicBlock
    ? [new BasicBlock(8, 8), new BasicBlock(8, 16, 2, shortcut(8, 16, 2))]
    : [new Bottleneck(8, 4, 1, shortcut(8, 16, 1)), new Bottleneck(16, 4, 2, shortcut(16, 16, 2))];
  const model = new Sequential(
    new Conv2d(3, 8, 3, { padding: 1, bias: false }), new BatchNorm2d(8), new ReLU(),
    ...blocks,
    new AdaptiveAvgPool2d(1), new Flatten(), new Linear(16, 5),
  );
  randomiseBatchNorms(model, 1);
  return model.eval();
};

describe.each(['js', 'wasm'] as BackendName[])('conv -> batch norm -> ReLU fused, on the %s kernels', (backend) => {
  const use = async (): Promise<void> => {
    expect(await setBackend(backend)).toBe(true);
  };

  it.each([
    ['BasicBlock', BasicBlock],
    ['Bottleneck', Bottleneck],
  ] as const)('a ResNet of %s blocks gives the unfused outputs bit for bit, under noGrad', async (_, block) => {
    await use();
    const model = tinyResNet(block);
    const x = randn([2, 3, 16, 16], { seed: 2 });
    const fused = noGrad(() => model.forward(x)).data;
    const reference = unfused(model, () => noGrad(() => model.forward(x))).data;
    expect(fused).toEqual(reference);
    // The batch norms are not the identity: leaving them out would change the result.
    expect(Math.max(...reference.map(Math.abs))).toBeGreaterThan(0);
  });

  it("Grad-CAM's maps, logits and gradients are the unfused ones (its frozen pass before the layer fuses)", async () => {
    await use();
    const model = tinyResNet(BasicBlock);
    const x = randn([2, 3, 16, 16], { seed: 3 });
    const fused = gradCam(model, x, { layer: '4' });
    const reference = unfused(model, () => gradCam(model, x, { layer: '4' }));
    expect(fused.maps.data).toEqual(reference.maps.data);
    expect(fused.maps.data.some((v) => v > 0)).toBe(true);
  });

  it('MobileNetV2 (conv -> batch norm -> ReLU6 fused, residual sums in place) gives the unfused outputs and Grad-CAM maps bit for bit', async () => {
    await use();
    const model = mobilenet_v2({ numClasses: 5 }).eval();
    randomiseBatchNorms(model, 40);
    const x = randn([2, 3, 32, 32], { seed: 41 });
    const fused = noGrad(() => model.forward(x)).data;
    expect(fused).toEqual(unfused(model, () => noGrad(() => model.forward(x))).data);
    // The raw map (before its ReLU: random weights often leave nothing above zero) and the channel weights.
    const cam = gradCam(model, x, { layer: 'features.10' });
    const reference = unfused(model, () => gradCam(model, x, { layer: 'features.10' }));
    expect(cam.layers[0]!.raw.data).toEqual(reference.layers[0]!.raw.data);
    expect(cam.layers[0]!.weights!.data).toEqual(reference.layers[0]!.weights!.data);
    expect(cam.maps.data).toEqual(reference.maps.data);
    expect(reference.layers[0]!.raw.data.some((v) => v !== 0)).toBe(true);
  });

  it('a Sequential of conv, batch norm and ReLU runs (VGG-style) equals its modules called one by one', async () => {
    await use();
    const seq = new Sequential(
      new Conv2d(3, 8, 3, { padding: 1 }), new BatchNorm2d(8), new ReLU(), // conv, batch norm, ReLU
      new Conv2d(8, 8, 3), new BatchNorm2d(8), // conv, batch norm
      new BatchNorm2d(8), new ReLU(), // batch norm, ReLU
      new Conv2d(8, 8, 3), new ReLU(), // conv, ReLU (VGG without batch norm)
    );
    randomiseBatchNorms(seq, 5);
    seq.eval();
    const x = randn([2, 3, 12, 12], { seed: 4 });
    let byHand = x;
    for (const m of seq.children()) byHand = m.forward(byHand);
    expect(noGrad(() => seq.forward(x)).data).toEqual(byHand.data);
  });
});

describe('conv -> batch norm -> ReLU is left unfused where something could tell', () => {
  it('a hook on the batch norm sees its own output, not the ReLU of it, and every hook still runs in order', () => {
    const model = tinyResNet(BasicBlock);
    const block = model.at(4) as BasicBlock;
    const seen: string[] = [];
    let bnOut: Tensor | null = null;
    const h1 = block.bn1.registerForwardHook((_m, _i, out) => {
      seen.push('bn1');
      bnOut = out;
    });
    const h2 = block.relu.registerForwardHook(() => void seen.push('relu'));
    try {
      noGrad(() => model.forward(randn([1, 3, 16, 16], { seed: 6 })));
    } finally {
      h1.remove();
      h2.remove();
    }
    expect(seen).toEqual(['bn1', 'relu', 'relu']); // relu runs twice in a BasicBlock, as in torchvision
    expect(bnOut!.data.some((v) => v < 0)).toBe(true); // before the ReLU
  });

  it('gradients through the block (input gradient, parameter gradients) are the unfused ones', () => {
    const model = tinyResNet(Bottleneck);
    const x = randn([1, 3, 16, 16], { seed: 7 }).requireGrad();
    const params = [...model.parameters()].slice(0, 6);
    const run = (): Float32Array[] => grad(sum(model.forward(x)), [x, ...params]).map((g) => g!.data);
    const fused = run();
    const reference = unfused(model, run);
    fused.forEach((g, i) => expect(g).toEqual(reference[i]));
  });

  it('in training mode batch norm uses and updates the batch statistics as before', () => {
    const a = tinyResNet(BasicBlock).train();
    const b = tinyResNet(BasicBlock).train();
    b.loadStateDict(a.stateDict());
    const x = randn([2, 3, 16, 16], { seed: 8 });
    const fused = noGrad(() => a.forward(x)).data;
    const reference = unfused(b, () => noGrad(() => b.forward(x))).data;
    expect(fused).toEqual(reference);
    const statistics = (m: Sequential): number[] => [...m.modules()].flatMap((k) => (k instanceof BatchNorm2d ? [...k.running_mean!.data] : []));
    expect(statistics(a)).toEqual(statistics(b));
  });
});
