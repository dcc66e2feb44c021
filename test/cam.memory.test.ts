/**
 * What a gradient CAM keeps alive: only dA at the chosen layers is asked
 * for, so the forward pass records no graph before them (the parameters are
 * frozen for the pass) and the activations there are freed as it goes. The
 * parameters' flags are as they were afterwards, also when the call throws.
 */
import { describe, expect, it } from 'vitest';
import { gradCam, layerCam, scoreCam } from '../src/cam/index.js';
import { AdaptiveAvgPool2d, Conv2d, Flatten, Linear, ReLU, Sequential } from '../src/layers/index.js';
import { grad } from '../src/tensor/autograd.js';
import { manualSeed, randn } from '../src/tensor/random.js';
import { mul } from '../src/tensor/ops/elementwise.js';
import { mean, sum } from '../src/tensor/ops/reduce.js';
import { tensor, type Tensor } from '../src/tensor/tensor.js';

function net(): Sequential {
  manualSeed(21);
  const model = new Sequential(
    new Conv2d(3, 6, 3, { padding: 1 }), new ReLU(),
    new Conv2d(6, 8, 3, { padding: 1 }), new ReLU(),
    new Conv2d(8, 8, 3, { padding: 1 }), new ReLU(),
    new AdaptiveAvgPool2d(1), new Flatten(), new Linear(8, 4),
  );
  model.eval();
  return model;
}

/** Whether each module's output carried a graph during one call. */
function recorded(model: Sequential, call: () => unknown): boolean[] {
  const seen: boolean[] = [];
  const handles = model.children().map((m, i) => m.registerForwardHook((_m, _in, out) => void (seen[i] = out.gradFn !== null)));
  try {
    call();
  } finally {
    for (const h of handles) h.remove();
  }
  return seen;
}

describe('gradient CAMs record no graph before their layers', () => {
  it("Grad-CAM at '2': nothing recorded before it, everything after it; the map is the one from dA of the full graph", () => {
    const model = net();
    const x = randn([2, 3, 10, 10], { seed: 3 });
    const seen = recorded(model, () => gradCam(model, x, { layer: '2', target: [1, 3] }));
    expect(seen).toEqual([false, false, false, true, true, true, true, true, true]);

    // The same weights and map as Grad-CAM by hand on the full graph (parameters requiring grad throughout).
    let a: Tensor | null = null;
    const h = model.at(2).registerForwardHook((_m, _in, out) => void (a = out));
    const logits = model.forward(x);
    h.remove();
    expect(a!.gradFn).not.toBeNull(); // the full graph, from the parameters on
    const score = sum(mul(logits, tensor([[0, 1, 0, 0], [0, 0, 0, 1]])));
    const [dA] = grad(score, [a!]);
    const weights = mean(dA!, [2, 3]).data;
    const ours = gradCam(model, x, { layer: '2', target: [1, 3] }).layers[0]!.weights!.data;
    expect(ours).toEqual(weights);
  });

  it('two layers: recording starts at the first; dA at both is still computed', () => {
    const model = net();
    const x = randn([1, 3, 8, 8], { seed: 4 });
    let both: ReturnType<typeof layerCam> | undefined;
    const seen = recorded(model, () => (both = layerCam(model, x, { layer: ['2', '4'], target: 2 })));
    expect(seen).toEqual([false, false, false, true, true, true, true, true, true]);
    // Each layer's map is the one LayerCAM gives at that layer alone.
    expect(both!.layers[0]!.map.data).toEqual(layerCam(model, x, { layer: '2', target: 2 }).layers[0]!.map.data);
    expect(both!.layers[1]!.map.data).toEqual(layerCam(model, x, { layer: '4', target: 2 }).layers[0]!.map.data);
  });

  it('an input that requires grad is recorded from the start, as before', () => {
    const model = net();
    const x = randn([1, 3, 8, 8], { seed: 5 }).requireGrad();
    expect(recorded(model, () => gradCam(model, x, { layer: '2' }))[0]).toBe(true);
  });

  it("leaves the parameters' flags as they were, also when the call throws, and a frozen one frozen", () => {
    const model = net();
    const frozen = model.parameters()[0]!;
    frozen.requiresGrad = false;
    const x = randn([1, 3, 8, 8], { seed: 6 });
    gradCam(model, x, { layer: '2' });
    expect(() => gradCam(model, x, { layer: '2', target: 99 })).toThrow();
    scoreCam(model, x, { layer: '4' });
    expect(model.parameters().map((p) => p.requiresGrad)).toEqual(model.parameters().map((p) => p !== frozen));
  });
});
