import { ArgumentError } from '../tensor/errors.js';
import { Sequential } from '../layers/containers.js';
import { Conv2d } from '../layers/conv.js';
import { Dropout } from '../layers/dropout.js';
import { Linear } from '../layers/linear.js';
import { Module } from '../layers/module.js';
import { BatchNorm2d } from '../layers/normalization.js';
import { ReLU6 } from '../layers/activation.js';
import { add } from '../tensor/ops/elementwise.js';
import { adaptiveAvgPool2d } from '../tensor/ops/pool.js';
import { flatten } from '../tensor/ops/shape.js';
import { sameShape, type Tensor } from '../tensor/tensor.js';
import { kernels } from '../tensor/backend.js';
import { childrenSealed } from '../layers/recycling.js';
import { classCount, type ArchitectureOptions } from './architecture.js';

/** torchvision's MobileNetV2 (Sandler et al. 2018) with its width multiplier. */

/** torchvision's _make_divisible: round to a multiple of `divisor`, never down by more than 10 %. */
export function makeDivisible(v: number, divisor = 8): number {
  let rounded = Math.max(divisor, Math.floor((v + divisor / 2) / divisor) * divisor);
  if (rounded < 0.9 * v) rounded += divisor;
  return rounded;
}

/** Conv2d + BatchNorm2d + ReLU6 as one Sequential ('0', '1', '2'), torchvision's Conv2dNormActivation. */
export class Conv2dNormActivation extends Sequential {
  static override readonly typeName: string = 'Conv2dNormActivation';
  constructor(inChannels: number, outChannels: number, kernelSize = 3, stride = 1, groups = 1) {
    const padding = Math.floor((kernelSize - 1) / 2);
    super(
      new Conv2d(inChannels, outChannels, kernelSize, { stride, padding, groups, bias: false }),
      new BatchNorm2d(outChannels),
      new ReLU6(),
    );
  }

  override isolatedForward(): boolean {
    return this.constructor === Conv2dNormActivation && childrenSealed(this);
  }
}

/** Expand (1x1), depthwise (3x3), project (1x1, linear); a residual when shapes allow. */
export class InvertedResidual extends Module {
  static override readonly typeName: string = 'InvertedResidual';
  conv: Sequential;
  readonly useResidual: boolean;

  constructor(inChannels: number, outChannels: number, stride: number, expandRatio: number) {
    super();
    const hidden = Math.round(inChannels * expandRatio);
    this.useResidual = stride === 1 && inChannels === outChannels;
    const layers: Module[] = [];
    if (expandRatio !== 1) layers.push(new Conv2dNormActivation(inChannels, hidden, 1));
    layers.push(
      new Conv2dNormActivation(hidden, hidden, 3, stride, hidden),
      new Conv2d(hidden, outChannels, 1, { bias: false }),
      new BatchNorm2d(outChannels),
    );
    this.conv = new Sequential(...layers);
  }

  forward(x: Tensor): Tensor {
    const sealedBefore = childrenSealed(this);
    const y = this.conv.forward(x);
    if (!this.useResidual) return y;
    // x + y into y's own buffer when nothing else can see it (its modules sealed before and after they ran,
    // no gradient recorded, layers/recycling.ts); the same sum, x first, as add(x, y).
    if (sealedBefore && childrenSealed(this) && !y.requiresGrad && !x.requiresGrad && y.data.buffer !== x.data.buffer && sameShape(x.shape, y.shape)) {
      kernels().add(x.data, y.data, y.data);
      return y;
    }
    return add(x, y);
  }

  override isolatedForward(): boolean {
    return this.constructor === InvertedResidual && childrenSealed(this);
  }
}

const SETTINGS: readonly [number, number, number, number][] = [
  // expansion t, channels c, repeats n, first stride s
  [1, 16, 1, 1],
  [6, 24, 2, 2],
  [6, 32, 3, 2],
  [6, 64, 4, 2],
  [6, 96, 3, 1],
  [6, 160, 3, 2],
  [6, 320, 1, 1],
];

export interface MobileNetV2Options extends ArchitectureOptions {
  /** Scales every layer's channels (torchvision's width_mult; 1 by default). */
  widthMult?: number;
  /** Classifier dropout in training (0.2 by default). */
  dropout?: number;
}

export class MobileNetV2 extends Module {
  static override readonly typeName: string = 'MobileNetV2';
  /** The last 1x1 Conv2dNormActivation: the last feature map before pooling. */
  override readonly camLayer = 'features.18';
  features: Sequential;
  classifier: Sequential;

  constructor(options: MobileNetV2Options = {}) {
    super();
    const numClasses = classCount(options, 'mobilenet_v2');
    const width = options.widthMult ?? 1;
    if (!(width > 0)) throw new ArgumentError(`mobilenet_v2: widthMult must be positive (got ${width})`);
    let inputChannel = makeDivisible(32 * width);
    const lastChannel = makeDivisible(1280 * Math.max(1, width));
    const features: Module[] = [new Conv2dNormActivation(3, inputChannel, 3, 2)];
    for (const [t, c, n, s] of SETTINGS) {
      const outputChannel = makeDivisible(c * width);
      for (let i = 0; i < n; i++) {
        features.push(new InvertedResidual(inputChannel, outputChannel, i === 0 ? s : 1, t));
        inputChannel = outputChannel;
      }
    }
    features.push(new Conv2dNormActivation(inputChannel, lastChannel, 1));
    this.features = new Sequential(...features);
    this.classifier = new Sequential(new Dropout(options.dropout ?? 0.2), new Linear(lastChannel, numClasses));
  }

  forward(x: Tensor): Tensor {
    return this.classifier.forward(flatten(adaptiveAvgPool2d(this.features.forward(x), 1), 1));
  }
}

export const mobilenet_v2 = (options: MobileNetV2Options = {}): MobileNetV2 => new MobileNetV2(options);
