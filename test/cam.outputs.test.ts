/**
 * Which output is explained: models with several outputs, outputs that end
 * in a softmax (explained on their logits unless asked otherwise), class
 * tables shaped [N, K, 1, 1], and non-finite numbers traced to their source.
 */
import { describe, expect, it } from 'vitest';
import { gradCam, hiResCam, integratedGradients, NonFiniteError, saliency, smoothGrad, softmaxTarget, targetScorer } from '../src/cam/index.js';
import { Module, type ModelOutput } from '../src/layers/module.js';
import { ArgumentError } from '../src/tensor/errors.js';
import { log, mul } from '../src/tensor/ops/elementwise.js';
import { mean, sum } from '../src/tensor/ops/reduce.js';
import { reshape } from '../src/tensor/ops/shape.js';
import { logSoftmax, softmax } from '../src/tensor/ops/softmax.js';
import { randn } from '../src/tensor/random.js';
import { Parameter, Tensor } from '../src/tensor/tensor.js';
import { loadOnnx } from '../src/onnx/index.js';
import { onnxModel } from './onnx.builder.js';

/** y[n,k,h,w] = sum_c W[k,c] x[n,c,h,w]. */
class Mix extends Module {
  weight: Parameter;
  constructor(inC: number, outC: number, seed: number) {
    super();
    const w = randn([outC, inC], { seed });
    this.weight = new Parameter(w.data, w.shape);
  }
  override forward(x: Tensor): Tensor {
    const [n, c, h, w] = x.shape as [number, number, number, number];
    const k = this.weight.shape[0]!;
    return reshape(sum(mul(reshape(x, [n, 1, c, h * w]), reshape(this.weight, [1, k, c, 1])), 2), [n, k, h, w]);
  }
}

/** mix ('mix') -> GAP -> [N, 3] logits, returned as softmax probabilities with the logits as a hint, plus an 'aux' output (2 x logits). */
class SoftmaxHead extends Module {
  mix = new Mix(2, 3, 4);
  constructor(private readonly activation: 'softmax' | 'logSoftmax' = 'softmax') {
    super();
  }
  logitsOf(x: Tensor): Tensor {
    return mean(this.mix.forward(x), [2, 3]);
  }
  override forward(x: Tensor): Tensor {
    return softmax(this.logitsOf(x), 1);
  }
  override forwardOutputs(x: Tensor): ModelOutput[] {
    const logits = this.logitsOf(x);
    const value = this.activation === 'softmax' ? softmax(logits, 1) : logSoftmax(logits, 1);
    return [
      { name: 'prob', value, logits, activation: this.activation },
      { name: 'aux', value: mul(logits, 2) },
    ];
  }
}

const x = randn([2, 2, 3, 3], { seed: 8 });

describe('outputs that end in a softmax', () => {
  const model = new SoftmaxHead();
  const logits = model.logitsOf(x);

  it('are explained on their logits by default; results carry the logits', () => {
    const r = gradCam(model, x, { layer: 'mix' });
    expect(r.output).toBe('prob');
    expect(Array.from(r.logits.data)).toEqual(Array.from(logits.data));
    // d logit_c / dA = W-free: each position of channel c gets 1/(h w) for the chosen class's channel.
    const argmax = [0, 1].map((n) => [0, 1, 2].reduce((b, k) => (logits.data[n * 3 + k]! > logits.data[n * 3 + b]! ? k : b), 0));
    expect(r.targets).toEqual(argmax);
    const w = r.layers[0]!.weights!.data;
    argmax.forEach((c, n) => [0, 1, 2].forEach((k) => expect(w[n * 3 + k]).toBeCloseTo(k === c ? 1 / 9 : 0, 7)));
  });

  it('explainProbability explains the softmax output: the same as softmaxTarget on the logits', () => {
    const byOption = gradCam(model, x, { layer: 'mix', target: 1, explainProbability: true });
    const byTarget = gradCam(model, x, { layer: 'mix', target: softmaxTarget(1) });
    byOption.layers[0]!.weights!.data.forEach((v, i) => expect(v).toBeCloseTo(byTarget.layers[0]!.weights!.data[i]!, 7));
    expect(Array.from(byOption.logits.data)).toEqual(Array.from(logits.data));
  });

  it('a log-softmax output too', () => {
    const r = hiResCam(new SoftmaxHead('logSoftmax'), x, { layer: 'mix', target: 2, explainProbability: true });
    const p = softmax(logits, 1).data;
    // d log p_2 / d z_k = onehot - p: the weight of channel k at every position is that over h w.
    const g = saliency(new SoftmaxHead('logSoftmax'), x, { target: 2, explainProbability: true });
    expect(g.output).toBe('prob');
    expect(r.layers[0]!.raw.shape).toEqual([2, 3, 3]);
    const a = new SoftmaxHead('logSoftmax').mix.forward(x);
    for (let n = 0; n < 2; n++) {
      for (let pos = 0; pos < 9; pos++) {
        let expected = 0;
        for (let k = 0; k < 3; k++) expected += (((k === 2 ? 1 : 0) - p[n * 3 + k]!) / 9) * a.data[(n * 3 + k) * 9 + pos]!;
        expect(r.layers[0]!.raw.data[n * 9 + pos]).toBeCloseTo(expected, 6);
      }
    }
  });

  it('output picks another output by name or index; unknown outputs list those that exist', () => {
    const byName = gradCam(model, x, { layer: 'mix', output: 'aux', target: 0 });
    const byIndex = gradCam(model, x, { layer: 'mix', output: 1, target: 0 });
    expect(byName.output).toBe('aux');
    expect(Array.from(byIndex.maps.data)).toEqual(Array.from(byName.maps.data));
    // aux = 2 logits: weights twice the logit's.
    expect(byName.layers[0]!.weights!.data[0]).toBeCloseTo(2 / 9, 7);
    expect(() => gradCam(model, x, { layer: 'mix', output: 'nope' })).toThrow(/'output' 'nope' is not an output of the model; accepted: a name or an index among 0: 'prob' \[2, 3\], 1: 'aux' \[2, 3\]/);
    expect(() => gradCam(model, x, { layer: 'mix', output: 1, explainProbability: true })).toThrow(/output 'aux' does not end in a softmax/);
  });

  it('path methods fix the target on the clean input and keep the output choice', () => {
    const ig = integratedGradients(model, x, { target: 1, output: 'aux', steps: 4 });
    expect(ig.output).toBe('aux');
    const sg = smoothGrad(model, x, { explainProbability: true, samples: 2 });
    expect(sg.targets).toEqual(targetScorer(model, x).classes);
  });
});

describe('an ONNX graph that ends in Softmax', () => {
  const graph = () =>
    loadOnnx(onnxModel({
      opset: 13,
      nodes: [
        { op: 'GlobalAveragePool', name: '/pool', inputs: ['x'], outputs: ['pooled'] },
        { op: 'Flatten', name: '/flat', inputs: ['pooled'], outputs: ['flat'] },
        { op: 'MatMul', name: '/fc/MatMul', inputs: ['flat', 'w'], outputs: ['logits'] },
        { op: 'Softmax', name: '/prob', inputs: ['logits'], outputs: ['prob'], attrs: { axis: { i: 1 } } },
      ],
      inputs: [{ name: 'x', dims: ['N', 2, 3, 3] }],
      outputs: [{ name: 'prob', dims: ['N', 3] }],
      initializers: [{ name: 'w', dims: [2, 3], floats: [1, -2, 0.5, 3, 1, -1] }],
    }));

  it('is explained on the logits; saliency of logit c is W[:, c] / (h w) at every pixel', () => {
    const model = graph();
    const g = saliency(model, x, { target: 1 });
    for (let n = 0; n < 2; n++) for (let c = 0; c < 2; c++) for (let p = 0; p < 9; p++) {
      expect(g.gradients.data[(n * 2 + c) * 9 + p]).toBeCloseTo([-2, 1][c]! / 9, 6);
    }
    const logits = model.forwardOutputs(x)[0]!.logits!;
    expect(Array.from(g.logits.data)).toEqual(Array.from(logits.data));
  });
});

describe('class tables shaped [N, K, 1, 1] (a 1x1-convolution head)', () => {
  class ConvHead extends Module {
    mix = new Mix(2, 3, 6);
    override forward(x: Tensor): Tensor {
      return mean(this.mix.forward(x), [2, 3], true); // [N, 3, 1, 1]
    }
  }
  it('take class indices and the argmax default, like [N, K]', () => {
    const model = new ConvHead();
    const r = gradCam(model, x, { layer: 'mix', target: [2, 0] });
    expect(r.targets).toEqual([2, 0]);
    expect(r.logits.shape).toEqual([2, 3, 1, 1]);
    expect(r.layers[0]!.weights!.data[2]).toBeCloseTo(1 / 9, 7);
    expect(gradCam(model, x, { layer: 'mix' }).targets!.length).toBe(2);
  });
});

describe('non-finite numbers are traced to where they first appear', () => {
  it('in the input', () => {
    const bad = x.data.slice();
    bad[5] = NaN;
    const e = catchError(() => gradCam(new SoftmaxHead(), new Tensor(bad, x.shape), { layer: 'mix' }));
    expect(e).toBeInstanceOf(NonFiniteError);
    expect((e as NonFiniteError).where).toBe('input');
    expect((e as Error).message).toMatch(/the input holds NaN \(first at flat index 5\)/);
    expect(() => integratedGradients(new SoftmaxHead(), x, { baseline: Infinity, steps: 2 })).toThrow(/baseline must be a finite number/);
    const nanBaseline = new Tensor(new Float32Array(x.size).fill(NaN), x.shape);
    expect(() => integratedGradients(new SoftmaxHead(), x, { baseline: nanBaseline, steps: 2 })).toThrow(NonFiniteError);
  });
  it('in a weight, by its state-dict name', () => {
    const model = new SoftmaxHead();
    model.mix.weight.data[4] = Infinity;
    const e = catchError(() => gradCam(model, x, { layer: 'mix' }));
    expect((e as NonFiniteError).where).toBe('mix.weight');
    expect((e as Error).message).toMatch(/weight 'mix.weight' holds Infinity/);
  });
  it('in a layer that makes one from finite numbers', () => {
    class LogOfNegative extends Module {
      mix = new Mix(2, 3, 4);
      override forward(t: Tensor): Tensor {
        return mean(log(this.mix.forward(t)), [2, 3]);
      }
    }
    const e = catchError(() => gradCam(new LogOfNegative(), x, { layer: 'mix' }));
    expect((e as Error).message).toMatch(/layer '\(the model itself\)' is the first to output NaN|layer 'mix'/);
    expect(e).toBeInstanceOf(NonFiniteError);
  });
  it('never leaves NaN in maps; bad option values are typed errors', () => {
    const model = new SoftmaxHead();
    expect(() => gradCam(model, x, { layer: 'mix', normalize: 'bogus' as never })).toThrow(ArgumentError);
    expect(() => gradCam(model, x, { layer: 'mix', fuse: 'median' as never })).toThrow(/'fuse' must be 'mean' or 'max'/);
    expect(() => smoothGrad(model, x, { noiseLevel: Infinity })).toThrow(/noiseLevel must be a finite number/);
  });
});

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected an error');
}
