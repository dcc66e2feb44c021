import { describe, expect, it } from 'vitest';
import { grad, gradCam, randn, loadSafetensors, ArgumentError, type Module, type Tensor } from '../src/index.js';
import {
  architectures, createModel, densenet121, makeDivisible, mobilenet_v2, resnet18, resnet50, squeezenet1_0, squeezenet1_1, vgg16,
} from '../src/models/index.js';
import { casesOf, expectClose, fixtureBytes, loadCase, modelInfo } from './helpers/fixtures.js';
import { describeReference } from './helpers/shared.js';
import { projectBackend } from './helpers/project.js';

function parameterCount(m: Module): number {
  return m.parameters().reduce((n, p) => n + p.size, 0);
}

/** Logits, the activation at `layer` and d logit[target] / dA, from one forward and a pruned backward. */
function probe(model: Module, input: Tensor, layer: string, target: number) {
  let activation: Tensor | undefined;
  const handle = model.getModule(layer)!.registerForwardHook((_m, _i, out) => {
    activation = out;
  });
  try {
    const logits = model.forward(input);
    const score = logits.data[target]!;
    const picked = logits; // score = sum(logits * onehot)
    const onehot = new Float32Array(logits.size);
    onehot[target] = 1;
    const [dA] = grad(picked, [activation!], { gradOutput: new (logits.constructor as typeof Tensor)(onehot, logits.shape) });
    return { logits, activation: activation!, dA: dA!, score };
  } finally {
    handle.remove();
  }
}

// Structure (names, parameter counts, layers): the same on both kernels, so the pure-TS project only.
// The numeric checks against PyTorch below run in both projects.
if (projectBackend() === 'js') describe('torchvision architectures', () => {
  // Parameter counts torchvision reports for 1000 classes.
  const known: [string, () => Module, number][] = [
    ['resnet18', () => resnet18(), 11_689_512],
    ['resnet50', () => resnet50(), 25_557_032],
    ['mobilenet_v2', () => mobilenet_v2(), 3_504_872],
    ['squeezenet1_0', () => squeezenet1_0(), 1_248_424],
    ['squeezenet1_1', () => squeezenet1_1(), 1_235_496],
    ['densenet121', () => densenet121(), 7_978_856],
  ];
  for (const [name, build, count] of known) {
    it(`${name} has torchvision's ${count} parameters`, () => {
      expect(parameterCount(build())).toBe(count);
    });
  }

  it("uses torchvision's state-dict names", () => {
    const r = Object.keys(resnet18({ numClasses: 10 }).stateDict());
    expect(r).toContain('layer4.1.conv2.weight');
    expect(r).toContain('layer2.0.downsample.1.running_var');
    expect(r).toContain('bn1.num_batches_tracked');
    expect(r.slice(0, 3)).toEqual(['conv1.weight', 'bn1.weight', 'bn1.bias']);
    const d = Object.keys(densenet121({ numClasses: 10 }).stateDict());
    expect(d).toContain('features.denseblock4.denselayer16.conv2.weight');
    expect(d).toContain('features.transition3.norm.running_mean');
    expect(d).toContain('features.norm5.weight');
    const m = Object.keys(mobilenet_v2({ numClasses: 10 }).stateDict());
    expect(m).toContain('features.18.1.running_mean');
    expect(m).toContain('features.1.conv.1.weight');
    expect(m).toContain('classifier.1.weight');
  });

  it('names a CAM layer that exists in every architecture', () => {
    for (const name of ['resnet18', 'mobilenet_v2', 'squeezenet1_1', 'densenet121']) {
      const model = createModel(name, { numClasses: 10 });
      expect(model.getModule(model.camLayer), name).toBeDefined();
    }
    expect(vgg16({ numClasses: 10 }).camLayer).toBe('features.29');
    expect(Object.keys(architectures)).toHaveLength(17);
  });

  it('CAM methods default to the architecture\'s named layer', () => {
    const model = squeezenet1_1({ numClasses: 10 });
    model.eval();
    const x = randn([1, 3, 64, 64], { seed: 5 });
    const byDefault = gradCam(model, x);
    expect(byDefault.layers.map((l) => l.name)).toEqual(['features.12']);
    expect(Array.from(byDefault.maps.data)).toEqual(Array.from(gradCam(model, x, { layer: 'features.12' }).maps.data));
  });

  it("rounds channels as torchvision's _make_divisible", () => {
    expect(makeDivisible(32 * 0.35)).toBe(16);
    expect(makeDivisible(16 * 0.35)).toBe(8);
    expect(makeDivisible(24 * 0.35)).toBe(8);
    expect(makeDivisible(96 * 0.35)).toBe(32);
    expect(makeDivisible(320 * 0.35)).toBe(112);
  });

  it('rejects unknown names and bad class counts with typed errors', () => {
    expect(() => createModel('resnet19')).toThrow(ArgumentError);
    expect(() => createModel('resnet19')).toThrow(/accepted: resnet18/);
    expect(() => resnet18({ numClasses: 0 })).toThrow(ArgumentError);
    expect(() => mobilenet_v2({ widthMult: 0 })).toThrow(/widthMult must be positive/);
  });
});

for (const [name, build] of [
  ['mobilenet_v2_035', () => mobilenet_v2({ widthMult: 0.35, numClasses: 10 })],
  ['squeezenet1_1', () => squeezenet1_1({ numClasses: 10 })],
] as const) describeReference(`fixtures/models/${name}.safetensors`, `${name} from tinycam/models equals PyTorch`, () => {
  const model = build();
  model.loadStateDict(loadSafetensors(fixtureBytes(modelInfo(name).safetensors)));
  model.eval();
  for (const c of casesOf(name)) {
    it(c.id, () => {
      const ref = loadCase(c);
      const { logits, activation, dA } = probe(model, ref['input']!, c.layer.module, c.target_class);
      expectClose(logits, ref['logits']!, 'logits', { relative: 1e-4, absolute: 1e-5 });
      expectClose(activation, ref['activation']!, 'A', { relative: 1e-4 });
      expectClose(dA, ref['grad_activation']!, 'dA', { relative: 1e-4 });
    });
  }
});
