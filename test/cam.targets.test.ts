/**
 * Outputs of any shape and the target helpers (pytorch-grad-cam's
 * model_targets.py semantics), checked against hand-computed scores and
 * gradients on tiny models whose answers are known in closed form.
 */
import { describe, expect, it } from 'vitest';
import {
  binaryTarget,
  boxTarget,
  classifierTarget,
  gradCam,
  hiResCam,
  rawTarget,
  restTarget,
  saliency,
  scoreCam,
  segmentationTarget,
  similarityTarget,
  softmaxTarget,
  targetScorer,
  TargetError,
} from '../src/cam/index.js';
import { Module, type ModelOutput } from '../src/layers/module.js';
import { ArgumentError } from '../src/tensor/errors.js';
import { mul } from '../src/tensor/ops/elementwise.js';
import { mean, sum } from '../src/tensor/ops/reduce.js';
import { reshape } from '../src/tensor/ops/shape.js';
import { softmax } from '../src/tensor/ops/softmax.js';
import { randn } from '../src/tensor/random.js';
import { Parameter, Tensor, tensor } from '../src/tensor/tensor.js';

/** Multiplies each input channel by a per-(channel, output) weight: y[n,k,h,w] = sum_c W[k,c] x[n,c,h,w]. Named 'mix'. */
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
    // [N, 1, C, HW] * [1, K, C, 1] summed over C
    const xs = reshape(x, [n, 1, c, h * w]);
    const ws = reshape(this.weight, [1, k, c, 1]);
    return reshape(sum(mul(xs, ws), 2), [n, k, h, w]);
  }
}

/** A per-pixel classifier: x [N,2,3,3] -> mix ('mix') -> [N,3,3,3] scores per pixel. */
class Segmenter extends Module {
  mix = new Mix(2, 3, 11);
  override forward(x: Tensor): Tensor {
    return this.mix.forward(x);
  }
}

/** x [N,2,2,2] -> mix ('mix', [N,4,2,2]) -> spatial mean -> [N,4] (a GAP classifier with 4 classes, or a 4-D embedding). */
class Pooled extends Module {
  mix = new Mix(2, 4, 3);
  override forward(x: Tensor): Tensor {
    return mean(this.mix.forward(x), [2, 3]);
  }
}

const x2 = randn([2, 2, 2, 2], { seed: 5 });

/** dScore/dA where A = mix output and score = f(GAP(A)): by the chain rule, df/dz_k / (h*w) at every position. */
function pooledGradCamWeights(dScoreDz: number[][]): number[][] {
  return dScoreDz.map((row) => row.map((v) => v / 4));
}

describe('target helpers on a classifier [N, K]', () => {
  const model = new Pooled();
  const logits = model.forward(x2);
  const z = (n: number) => Array.from(logits.data.subarray(n * 4, n * 4 + 4));

  it('classifierTarget(c) is the class index: same maps, same weights', () => {
    const a = gradCam(model, x2, { layer: 'mix', target: [1, 3] });
    const b = gradCam(model, x2, { layer: 'mix', target: classifierTarget([1, 3]) });
    expect(Array.from(b.maps.data)).toEqual(Array.from(a.maps.data));
    expect(b.targets).toBeNull();
    const w = pooledGradCamWeights([[0, 1, 0, 0], [0, 0, 0, 1]]);
    expect(Array.from(a.layers[0]!.weights!.data)).toEqual(w.flat());
  });

  it('softmaxTarget(c): d p_c / d z = p_c (onehot - p)', () => {
    const r = gradCam(model, x2, { layer: 'mix', target: softmaxTarget(2) });
    const expected = [0, 1].map((n) => {
      const zs = z(n);
      const m = Math.max(...zs);
      const e = zs.map((v) => Math.exp(v - m));
      const s = e.reduce((a, b) => a + b, 0);
      const p = e.map((v) => v / s);
      return p.map((pk, k) => p[2]! * ((k === 2 ? 1 : 0) - pk));
    });
    const w = pooledGradCamWeights(expected).flat();
    r.layers[0]!.weights!.data.forEach((v, i) => expect(v).toBeCloseTo(w[i]!, 6));
  });

  it('restTarget(c) = 2 z_c - logsumexp(z), its gradient 2 onehot - softmax', () => {
    const scorer = targetScorer(model, x2, { target: restTarget(0) });
    [0, 1].forEach((n) => {
      const zs = z(n);
      const lse = Math.log(zs.reduce((a, v) => a + Math.exp(v), 0));
      expect(scorer.scores[n]).toBeCloseTo(2 * zs[0]! - lse, 5);
    });
    const r = gradCam(model, x2, { layer: 'mix', target: restTarget(0) });
    const expected = [0, 1].map((n) => {
      const p = softmax(tensor([z(n)]), 1).data;
      return Array.from(p, (pk, k) => (k === 0 ? 2 : 0) - pk);
    });
    const w = pooledGradCamWeights(expected).flat();
    r.layers[0]!.weights!.data.forEach((v, i) => expect(v).toBeCloseTo(w[i]!, 6));
  });

  it('similarityTarget: the cosine similarity of the embedding with a reference, per image', () => {
    const reference = tensor([[1, 0, -1, 2], [0, 3, 1, 1]]);
    const scorer = targetScorer(model, x2, { target: similarityTarget(reference) });
    [0, 1].forEach((n) => {
      const a = z(n);
      const b = Array.from(reference.data.subarray(n * 4, n * 4 + 4));
      const dot = a.reduce((s, v, i) => s + v * b[i]!, 0);
      const norm = (v: number[]) => Math.sqrt(v.reduce((s, t) => s + t * t, 0));
      expect(scorer.scores[n]).toBeCloseTo(dot / (norm(a) * norm(b)), 5);
    });
    expect(() => targetScorer(model, x2, { target: similarityTarget(tensor([1, 2, 3])) })).toThrow(/reference has shape \[3\]; accepted: \[4\] for every image or \[N, 4\]/);
  });

  it('binaryTarget and rawTarget need one value per image; rawTarget sums the rest', () => {
    expect(() => gradCam(model, x2, { layer: 'mix', target: binaryTarget(1) })).toThrow(TargetError);
    const scorer = targetScorer(model, x2, { target: rawTarget() });
    [0, 1].forEach((n) => expect(scorer.scores[n]).toBeCloseTo(z(n).reduce((a, b) => a + b, 0), 5));
  });

  it('bad classes are typed errors', () => {
    expect(() => classifierTarget(-1)).toThrow(ArgumentError);
    expect(() => gradCam(model, x2, { layer: 'mix', target: classifierTarget(9) })).toThrow(/class 9 is beyond the 4 classes/);
    expect(() => gradCam(model, x2, { layer: 'mix', target: classifierTarget([1]) })).toThrow(/no class given for image 1/);
  });
});

describe('a regression output [N, 1]', () => {
  class Regressor extends Module {
    mix = new Mix(2, 1, 7);
    override forward(x: Tensor): Tensor {
      return mean(this.mix.forward(x), [2, 3]);
    }
  }
  const model = new Regressor();

  it('binaryTarget(1) explains y, binaryTarget(0) explains -y; rawTarget equals binaryTarget(1)', () => {
    const up = gradCam(model, x2, { layer: 'mix', target: binaryTarget(1) });
    const down = gradCam(model, x2, { layer: 'mix', target: binaryTarget(0) });
    const raw = gradCam(model, x2, { layer: 'mix', target: rawTarget() });
    expect(Array.from(raw.layers[0]!.raw.data)).toEqual(Array.from(up.layers[0]!.raw.data));
    up.layers[0]!.raw.data.forEach((v, i) => expect(down.layers[0]!.raw.data[i]).toBeCloseTo(-v, 6));
    // dy/dA = 1/(h w) everywhere: Grad-CAM's raw map is the channel's mean-weighted activation.
    expect(Array.from(up.layers[0]!.weights!.data)).toEqual([0.25, 0.25]);
  });

  it('class indices on a one-value output are the class table of one class', () => {
    const r = gradCam(model, x2, { layer: 'mix' });
    expect(r.targets).toEqual([0, 0]);
  });
});

describe('segmentation outputs [N, K, H, W]', () => {
  const model = new Segmenter();
  const x = randn([2, 2, 3, 3], { seed: 2 });

  it('segmentationTarget(c, mask) sums class c over the mask; its gradient is the mask on channel c', () => {
    const mask = tensor([[1, 0, 0], [1, 1, 0], [0, 0, 1]]);
    const out = model.forward(x);
    const scorer = targetScorer(model, x, { target: segmentationTarget(2, mask) });
    [0, 1].forEach((n) => {
      let s = 0;
      for (let p = 0; p < 9; p++) s += out.data[(n * 3 + 2) * 9 + p]! * mask.data[p]!;
      expect(scorer.scores[n]).toBeCloseTo(s, 5);
    });
    // HiResCAM at the output itself: raw = sum_k dS/dY_k * Y_k = mask * Y_2.
    const r = hiResCam(model, x, { layer: 'mix', target: segmentationTarget(2, mask) });
    [0, 1].forEach((n) => {
      for (let p = 0; p < 9; p++) expect(r.layers[0]!.raw.data[n * 9 + p]).toBeCloseTo(mask.data[p]! * out.data[(n * 3 + 2) * 9 + p]!, 6);
    });
  });

  it('one mask per image, indexed by image also in Score-CAM reruns', () => {
    const masks = tensor([[[1, 1, 1], [0, 0, 0], [0, 0, 0]], [[0, 0, 0], [0, 0, 0], [1, 1, 1]]]);
    const target = segmentationTarget(1, masks);
    const both = scoreCam(model, x, { layer: 'mix', target });
    const second = scoreCam(model, new Tensor(x.data.slice(18), [1, 2, 3, 3]), {
      layer: 'mix',
      target: segmentationTarget(1, new Tensor(masks.data.slice(9), [3, 3])),
    });
    both.layers[0]!.scores.data.slice(3).forEach((v, i) => expect(v).toBeCloseTo(second.layers[0]!.scores.data[i]!, 5));
  });

  it('class indices do not apply to a segmentation output: a typed error naming the helpers', () => {
    expect(() => gradCam(model, x, { layer: 'mix' })).toThrow(/not class scores \[N, K\].*segmentationTarget\(c, mask\)/);
    expect(() => gradCam(model, x, { layer: 'mix', target: segmentationTarget(0, tensor([1, 0])) })).toThrow(/mask has shape \[2\]; accepted: \[3, 3\]/);
  });
});

describe('detector heads', () => {
  /** A model whose output is its input: the head values are set by hand. */
  class Passthrough extends Module {
    override forward(x: Tensor): Tensor {
      return mul(x, 1);
    }
  }
  const model = new Passthrough();
  const iou = (a: number[], b: number[]) => {
    const iw = Math.max(0, Math.min(a[2]!, b[2]!) - Math.max(a[0]!, b[0]!));
    const ih = Math.max(0, Math.min(a[3]!, b[3]!) - Math.max(a[1]!, b[1]!));
    const inter = iw * ih;
    return inter / ((a[2]! - a[0]!) * (a[3]! - a[1]!) + (b[2]! - b[0]!) * (b[3]! - b[1]!) - inter);
  };

  it('yolov8 [N, 4 + K, A]: sum over anchors of class c overlapping the box of IoU + score', () => {
    // 3 anchors, 2 classes: (cx, cy, w, h, s0, s1) per anchor, laid out [1, 6, 3].
    const anchors = [
      [10, 10, 8, 8, 0.9, 0.1], // box [6,6,14,14], class 0
      [11, 10, 8, 8, 0.2, 0.7], // class 1
      [40, 40, 8, 8, 0.8, 0.1], // class 0 but far away
    ];
    const data = new Float32Array(18);
    anchors.forEach((a, j) => a.forEach((v, f) => (data[f * 3 + j] = v)));
    const head = new Tensor(data, [1, 6, 3]);
    const box = [6, 6, 14, 14] as const;
    const scorer = targetScorer(model, head, { target: boxTarget(box, 0) });
    expect(scorer.scores[0]).toBeCloseTo(iou([6, 6, 14, 14], [...box]) + 0.9, 5);
    const one = targetScorer(model, head, { target: boxTarget(box, 1) });
    expect(one.scores[0]).toBeCloseTo(iou([7, 6, 15, 14], [...box]) + 0.7, 5);
  });

  it('yolov5 [N, A, 5 + K]: confidence is objectness x class score', () => {
    const head = tensor([[[10, 10, 8, 8, 0.5, 0.9, 0.1]]]);
    const scorer = targetScorer(model, head, { target: boxTarget([6, 6, 14, 14], 0, { format: 'yolov5' }) });
    expect(scorer.scores[0]).toBeCloseTo(1 + 0.45, 5);
  });

  it("torchvision (boxes, labels, scores): the best-overlapping detection counts if its label is c (FasterRCNNBoxScoreTarget)", () => {
    class Detector extends Module {
      override forward(x: Tensor): Tensor {
        return mul(x, 1);
      }
      override forwardOutputs(x: Tensor): ModelOutput[] {
        const boxes = reshape(mul(x, 1), [2, 4]);
        return [
          { name: 'boxes', value: boxes },
          { name: 'labels', value: tensor([3, 5]) },
          { name: 'scores', value: tensor([0.6, 0.9]) },
        ];
      }
    }
    const det = new Detector();
    const input = tensor([[[[0, 0, 10, 10], [20, 20, 30, 30]]]]);
    const target = boxTarget([1, 1, 10, 10], 3, { format: 'torchvision' });
    const scorer = targetScorer(det, input, { target });
    expect(scorer.scores[0]).toBeCloseTo(0.81 + 0.6, 5);
    const wrongLabel = targetScorer(det, input, { target: boxTarget([1, 1, 10, 10], 5, { format: 'torchvision' }) });
    expect(wrongLabel.scores[0]).toBe(0);
    // d score / d boxes: the IoU's gradient on the matched box only.
    const g = saliency(det, input, { target });
    expect(Array.from(g.gradients.data.slice(4))).toEqual([0, 0, 0, 0]);
    expect(g.gradients.data.slice(0, 4).some((v) => v !== 0)).toBe(true);
  });

  it('bad boxes and formats are typed errors', () => {
    expect(() => boxTarget([5, 5, 1, 1], 0)).toThrow(/x2 >= x1/);
    expect(() => boxTarget([0, 0, 1, 1], 0, { format: 'ssd' as never })).toThrow(/format 'ssd' is not known/);
    expect(() => targetScorer(model, tensor([[[1, 2, 3]]]), { target: boxTarget([0, 0, 1, 1], 0) })).toThrow(/yolov8 head is \[N, 4 \+ K, anchors\]/);
  });
});

describe('a target function of the user', () => {
  const model = new Pooled();
  it('that returns the wrong shape is a typed error saying what is accepted', () => {
    expect(() => gradCam(model, x2, { layer: 'mix', target: (o) => o })).toThrow(/returned shape \[2, 4\]; it must return a Tensor of one score per row of the output, shape \[2\]/);
    expect(() => gradCam(model, x2, { layer: 'mix', target: () => 3 as unknown as Tensor })).toThrow(TargetError);
  });
});
