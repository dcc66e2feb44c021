import { clip, elu, leakyRelu, prelu, relu, relu6, type ReluBackwardRule } from '../../tensor/ops/activations.js';
import { add, maximum, minimum, mul, sub } from '../../tensor/ops/elementwise.js';
import { reshape } from '../../tensor/ops/shape.js';
import { Tensor, type Parameter } from '../../tensor/tensor.js';
import { RELU_MODULE, type ReluModule } from '../../layers/reluModule.js';
import { array, integer } from '../json.js';
import { KerasLayer, type LayerClass, type LayerContext } from './layer.js';
import { parameter } from './spatial.js';

/**
 * ReLU (Keras's max_value, threshold, negative_slope), LeakyReLU, PReLU,
 * ELU, ThresholdedReLU.
 *
 * Keras's ReLU is x for threshold <= x < max_value, max_value above it and
 * negative_slope * (x - threshold) below the threshold. TensorFlow.js 4.22
 * reads only max_value (it ignores threshold and negative_slope); tinycam
 * follows Keras, which is what the saved numbers mean. A plain ReLU (no
 * max_value, threshold or slope) uses the backward rule guided backprop and
 * deconvnet set, as the layers API's ReLU does (a ReLU with max_value is a
 * ReLU6 for them, and keeps the standard rule, as pytorch-grad-cam). Every
 * Keras ReLU layer is a ReluModule; those with max_value, threshold or slope
 * ignore the rule. Activation('relu') and a layer's `activation: 'relu'` are
 * not ReLU modules (pytorch-grad-cam changes only nn.ReLU modules).
 */
export class KerasReLU extends KerasLayer implements ReluModule {
  readonly maxValue: number | null;
  readonly threshold: number;
  readonly negativeSlope: number;
  backwardRule: ReluBackwardRule = 'standard';

  get [RELU_MODULE](): true {
    return true;
  }

  constructor(context: LayerContext) {
    super(context);
    const { config } = context;
    this.maxValue = config.has('max_value') ? config.number('max_value') : null;
    this.threshold = config.number('threshold', 0);
    this.negativeSlope = config.number('negative_slope', 0);
  }

  forward(x: Tensor): Tensor {
    const { maxValue, threshold, negativeSlope } = this;
    if (threshold === 0 && negativeSlope === 0) {
      if (maxValue === null) return this.done(relu(x, { backwardRule: this.backwardRule }));
      return this.done(maxValue === 6 ? relu6(x) : clip(x, 0, maxValue));
    }
    // x - t through a leaky ReLU, plus t where x >= t (a constant mask): x above t, slope * (x - t) below.
    const mask = new Float32Array(x.size);
    for (let i = 0; i < x.size; i++) mask[i] = x.data[i]! >= threshold ? threshold : 0;
    const y = add(leakyRelu(sub(x, threshold), negativeSlope), new Tensor(mask, x.shape));
    return this.done(maxValue === null ? y : minimum(y, maxValue));
  }
}

export class KerasLeakyReLU extends KerasLayer {
  readonly alpha: number;

  constructor(context: LayerContext) {
    super(context);
    // Keras 2 and TensorFlow.js: alpha (default 0.3); Keras 3: negative_slope.
    this.alpha = context.config.has('alpha') ? context.config.number('alpha') : context.config.number('negative_slope', 0.3);
  }

  forward(x: Tensor): Tensor {
    return this.done(leakyRelu(x, this.alpha));
  }
}

/** PReLU: x above 0, alpha * x below; alpha has the input's shape with shared_axes of size 1. */
export class KerasPReLU extends KerasLayer {
  alpha: Parameter;
  /** Whether alpha varies only along the stored channel axis 1 (then the prelu op runs). */
  readonly perChannel: boolean;

  constructor(context: LayerContext) {
    super(context);
    const input = context.inputShapes[0] ?? [];
    const sharedRaw = context.config.get('shared_axes');
    const shared = new Set<number>(
      sharedRaw === undefined || sharedRaw === null
        ? []
        : typeof sharedRaw === 'number'
          ? [sharedRaw]
          : array(sharedRaw, context.config.at('shared_axes')).map((a, i) => integer(a, `${context.config.at('shared_axes')}[${i}]`, 1)),
    );
    const shape = input.slice(1).map((d, i) => (shared.has(i + 1) ? 1 : d));
    const alpha = context.weight('alpha', shape);
    // alpha as a batch of one in stored layout
    const full = [1, ...alpha.shape];
    const stored = context.layout.storedShape(full);
    const permuted = context.layout.permuted(full.length) ? parameterPermuted(alpha, full) : parameter(alpha, full);
    this.alpha = parameter(permuted, stored);
    this.perChannel = stored.length >= 2 && stored.every((d, i) => i === 1 || d === 1);
  }

  forward(x: Tensor): Tensor {
    if (this.perChannel) return this.done(prelu(x, reshape(this.alpha, [this.alpha.size])));
    return this.done(add(maximum(x, 0), mul(this.alpha, minimum(x, 0))));
  }
}

function parameterPermuted(alpha: Tensor, full: number[]): Tensor {
  // [1, H, W, C] -> [1, C, H, W]
  const [, h, w, c] = full as [number, number, number, number];
  const out = new Float32Array(alpha.size);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let k = 0; k < c; k++) out[(k * h + y) * w + x] = alpha.data[(y * w + x) * c + k]!;
  return new Tensor(out, [1, c, h, w]);
}

export class KerasELU extends KerasLayer {
  readonly alpha: number;

  constructor(context: LayerContext) {
    super(context);
    this.alpha = context.config.number('alpha', 1);
  }

  forward(x: Tensor): Tensor {
    return this.done(elu(x, this.alpha));
  }
}

/** ThresholdedReLU: x where x > theta, else 0. */
export class KerasThresholdedReLU extends KerasLayer {
  readonly theta: number;

  constructor(context: LayerContext) {
    super(context);
    this.theta = context.config.number('theta', 1);
  }

  forward(x: Tensor): Tensor {
    const mask = new Float32Array(x.size);
    for (let i = 0; i < x.size; i++) mask[i] = x.data[i]! > this.theta ? 1 : 0;
    return this.done(mul(x, new Tensor(mask, x.shape)));
  }
}

function same(make: (context: LayerContext) => KerasLayer): LayerClass {
  return { build: (context) => ({ module: make(context), outputShape: context.inputShapes[0] ?? [] }) };
}

export const advancedActivationClasses: Record<string, LayerClass> = {
  ReLU: same((c) => new KerasReLU(c)),
  LeakyReLU: same((c) => new KerasLeakyReLU(c)),
  PReLU: same((c) => new KerasPReLU(c)),
  ELU: same((c) => new KerasELU(c)),
  ThresholdedReLU: same((c) => new KerasThresholdedReLU(c)),
};
