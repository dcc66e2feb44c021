/**
 * Side effects and bad input: after 1,000 calls (some of which throw) the
 * model has no hooks, its flags and state are as before, results equal the
 * first call's and the heap stays bounded; bad input gets typed errors.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import {
  ablationCam,
  cam,
  deepFeatureFactorization,
  deepLift,
  deepLiftShap,
  eigenCam,
  fem,
  finerCam,
  fullGrad,
  gradCam,
  gradientShap,
  guidedBackprop,
  isCam,
  kpcaCam,
  layerCam,
  lrp,
  randomCam,
  refineCam,
  saliency,
  scoreCam,
  segEigenCam,
  shapleyCam,
  smoothGradCamPlusPlus,
  sobelCam,
  ssCam,
  TargetError,
  type MapOptions,
} from '../src/cam/index.js';
import { hasBackwardOverride } from '../src/tensor/autograd.js';
import { AdaptiveAvgPool2d, BatchNorm2d, Flatten, Linear, MaxPool2d, ReLU, Sequential } from '../src/layers/index.js';
import { Module } from '../src/layers/module.js';
import { LayerNotFoundError, ShapeError } from '../src/tensor/errors.js';
import { linear } from '../src/tensor/ops/matmul.js';
import { permute } from '../src/tensor/ops/shape.js';
import { randn } from '../src/tensor/random.js';
import { Parameter, Tensor } from '../src/tensor/tensor.js';

class PointwiseMix extends Module {
  weight: Parameter;
  constructor(inChannels: number, outChannels: number, seed: number) {
    super();
    const w = randn([outChannels, inChannels], { seed, std: 1 / Math.sqrt(inChannels) });
    this.weight = new Parameter(w.data, w.shape);
  }
  override forward(x: Tensor): Tensor {
    return permute(linear(permute(x, [0, 2, 3, 1]), this.weight), [0, 3, 1, 2]);
  }
}

/** Every method added with issue 13, each as a call on a model (small settings: these tests are about side effects). */
function everyMethod(input: Tensor): ((model: Module) => () => unknown)[] {
  const options: MapOptions = { layer: 'head.1' };
  const baselines = randn([2, ...input.shape.slice(1)], { seed: 8 });
  return [
    (m) => () => fem(m, input, options),
    (m) => () => randomCam(m, input, options),
    (m) => () => segEigenCam(m, input, options),
    (m) => () => kpcaCam(m, input, options),
    (m) => () => finerCam(m, input, options),
    (m) => () => refineCam(m, input, { layer: ['block.2', 'head.1'] }),
    (m) => () => shapleyCam(m, input, options),
    (m) => () => fullGrad(m, input),
    (m) => () => sobelCam(m, input),
    (m) => () => ssCam(m, input, { ...options, samples: 1 }),
    (m) => () => isCam(m, input, { ...options, steps: 1 }),
    (m) => () => smoothGradCamPlusPlus(m, input, { ...options, samples: 1 }),
    (m) => () => deepFeatureFactorization(m, input, { layer: 'head.1', components: 2 }),
    (m) => () => deepLift(m, input),
    (m) => () => deepLiftShap(m, input, { baselines }),
    (m) => () => gradientShap(m, input, { baselines, samples: 2 }),
    (m) => () => lrp(m, input),
  ];
}

function tinyNet(): Module {
  return new Sequential({
    block: new Sequential(new PointwiseMix(3, 6, 1), new BatchNorm2d(6), new ReLU()),
    pool: new MaxPool2d(2),
    head: new Sequential(new PointwiseMix(6, 5, 3), new ReLU()),
    gap: new AdaptiveAvgPool2d(1),
    flatten: new Flatten(),
    fc: new Linear(5, 4, { seed: 5 }),
  });
}

/** A gc function if the runtime lets us have one (V8: flip --expose-gc at run time). */
function gcFunction(): (() => void) | null {
  try {
    setFlagsFromString('--expose-gc');
    return runInNewContext('gc') as () => void;
  } catch {
    return null;
  }
}

function snapshot(model: Module) {
  return {
    hooks: model.modules().map((m) => m.hookCount()),
    flags: model.modules().map((m) => m.training),
    relu: model.modules().map((m) => (m as { backwardRule?: string }).backwardRule),
    override: hasBackwardOverride(),
    state: Object.fromEntries(Object.entries(model.stateDict()).map(([k, t]) => [k, Array.from(t.data)])),
  };
}

describe('1,000 calls leave the model as it was', () => {
  it('no hooks, flags and state unchanged, same results, bounded heap', () => {
    const model = tinyNet();
    model.train(); // training mode with one module in eval: both must survive
    model.getModule('head')!.eval();
    const before = snapshot(model);
    const input = randn([2, 3, 8, 8], { seed: 3 });
    const first = gradCam(model, input, { layer: 'head.1', target: [1, 2] });
    const firstGuided = guidedBackprop(model, input, { target: [1, 2] });
    const gc = gcFunction();
    let heapAfterWarmup = 0;
    let thrown = 0;
    for (let call = 0; call < 1000; call++) {
      if (call === 100) {
        gc?.();
        heapAfterWarmup = process.memoryUsage().heapUsed;
      }
      try {
        if (call % 10 === 3) gradCam(model, input, { layer: 'head.1', target: [1, 99] }); // throws after the forward pass
        else if (call % 10 === 7) guidedBackprop(model, input, { target: [0] }); // wrong target count: throws
        else if (call % 10 === 5) {
          const again = guidedBackprop(model, input, { target: [1, 2] });
          expect(Array.from(again.gradients.data)).toEqual(Array.from(firstGuided.gradients.data));
        } else {
          const again = gradCam(model, input, { layer: 'head.1', target: [1, 2] });
          expect(Array.from(again.maps.data)).toEqual(Array.from(first.maps.data));
        }
      } catch (e) {
        expect(e).toBeInstanceOf(TargetError);
        thrown++;
      }
    }
    expect(thrown).toBe(200);
    expect(snapshot(model)).toEqual(before);
    gc?.();
    const growth = process.memoryUsage().heapUsed - heapAfterWarmup;
    // A leaked graph per call (activations of 2 images, ~3 KB each) would add megabytes.
    expect(growth, `heap grew by ${(growth / 1e6).toFixed(2)} MB over 900 calls (gc ${gc ? 'exposed' : 'not exposed'})`).toBeLessThan(gc ? 2e6 : 2e7);
  });

  it('hooks, flags and ReLU rules are restored when the model itself throws mid-forward', () => {
    const model = tinyNet();
    model.train();
    const before = snapshot(model);
    let calls = 0;
    const handle = model.getModule('fc')!.registerForwardHook(() => {
      calls++;
      throw new Error('boom');
    });
    const input = randn([1, 3, 8, 8], { seed: 1 });
    expect(() => gradCam(model, input, { layer: 'head.1' })).toThrow('boom');
    expect(() => guidedBackprop(model, input)).toThrow('boom');
    expect(() => scoreCam(model, input, { layer: 'head.1' })).toThrow('boom');
    const others = everyMethod(input);
    for (const run of others) expect(run(model)).toThrow('boom');
    handle.remove();
    expect(calls).toBe(3 + others.length);
    expect(snapshot(model)).toEqual(before);
  });

  it('backward rules and hooks are restored when a backward pass throws (DeepLIFT, LRP, ShapleyCAM, FullGrad)', () => {
    const model = tinyNet();
    const before = snapshot(model);
    const input = randn([2, 3, 8, 8], { seed: 4 });
    const handle = model.getModule('head')!.registerBackwardHook(() => {
      throw new Error('bang');
    });
    for (const run of [
      () => deepLift(model, input),
      () => deepLiftShap(model, input, { baselines: randn([2, 3, 8, 8], { seed: 5 }) }),
      () => lrp(model, input),
      () => shapleyCam(model, input, { layer: 'block.2' }),
      () => fullGrad(model, input),
      () => gradientShap(model, input, { baselines: randn([2, 3, 8, 8], { seed: 5 }) }),
    ]) {
      expect(run).toThrow('bang');
      expect(hasBackwardOverride()).toBe(false);
    }
    handle.remove();
    expect(snapshot(model)).toEqual(before);
  });

  it('every method leaves hooks and flags as they were', () => {
    const model = tinyNet();
    model.train();
    const before = snapshot(model);
    const input = randn([2, 3, 8, 8], { seed: 2 });
    for (const method of [gradCam, layerCam, cam, eigenCam, scoreCam, ablationCam]) method(model, input, { layer: 'head.1' });
    saliency(model, input);
    guidedBackprop(model, input);
    for (const run of everyMethod(input)) run(model)();
    expect(snapshot(model)).toEqual(before);
  });
});

describe('bad input gets typed errors that say what is accepted', () => {
  const model = tinyNet().eval();
  const input = randn([2, 3, 8, 8], { seed: 5 });
  it('an unknown layer lists the names that exist, closest first', () => {
    try {
      gradCam(model, input, { layer: 'head.2' });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(LayerNotFoundError);
      const err = e as LayerNotFoundError;
      expect(err.candidates.slice(0, 3).sort()).toEqual(['head', 'head.0', 'head.1']);
      expect(err.candidates).toHaveLength(model.namedModules().length - 1);
      expect(err.message).toMatch(/gradCam: no layer named 'head.2'. Layers that exist, closest first: 'head/);
    }
  });
  it('a Module that is not part of the model', () => {
    expect(() => gradCam(model, input, { layer: new ReLU() })).toThrow(LayerNotFoundError);
  });
  it('a target out of range, or not an integer', () => {
    expect(() => gradCam(model, input, { layer: 'head.1', target: 4 })).toThrow(/target 4 \(image 0\) is not a class index of this model; accepted: integers 0 to 3/);
    expect(() => gradCam(model, input, { layer: 'head.1', target: [0, 1.5] })).toThrow(TargetError);
    expect(() => saliency(model, input, { target: -1 })).toThrow(TargetError);
  });
  it('a target list whose length differs from the batch', () => {
    expect(() => gradCam(model, input, { layer: 'head.1', target: [0, 1, 2] })).toThrow(/lists 3 class indices but the batch has 2 image\(s\)/);
  });
  it('a layer whose output is not [N, C, ...spatial]', () => {
    const e = (() => {
      try {
        gradCam(model, input, { layer: 'fc' });
      } catch (err) {
        return err;
      }
    })();
    expect(e).toBeInstanceOf(ShapeError);
    expect((e as Error).message).toMatch(/layer 'fc' \(Linear\) outputs shape \[2, 4\]; this method needs a layer whose output is \[N, C, \.\.\.spatial\] with 2 spatial axes like the input/);
  });
  it('an input of the wrong shape', () => {
    // A single image passes for a batch of 3 signals [N, C, L]: the model's own error then says how the input was read.
    expect(() => gradCam(model, randn([3, 8, 8]), { layer: 'head.1' })).toThrow(/input \[3, 8, 8\], read as a batch of signals \[N, C, L\].*add a batch axis: \[1, 3, 8, 8\]/);
    expect(() => gradCam(model, randn([8, 8]), { layer: 'head.1' })).toThrow(/input has shape \[8, 8\]; accepted: a batch of images \[N, C, H, W\]/);
    expect(() => saliency(model, randn([3, 8, 8]))).toThrow(ShapeError);
    expect(() => gradCam(model, 'image' as unknown as Tensor)).toThrow(/input must be a Tensor/);
  });
  it('errors leave the model without hooks', () => {
    expect(model.modules().every((m) => m.hookCount() === 0)).toBe(true);
  });
});
