import { Sequential } from '../layers/containers.js';
import { Conv2d } from '../layers/conv.js';
import { Linear } from '../layers/linear.js';
import { Module } from '../layers/module.js';
import { BatchNorm2d } from '../layers/normalization.js';
import { AvgPool2d, MaxPool2d } from '../layers/pooling.js';
import { ReLU } from '../layers/activation.js';
import { relu } from '../tensor/ops/activations.js';
import { adaptiveAvgPool2d } from '../tensor/ops/pool.js';
import { concat, flatten } from '../tensor/ops/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import { classCount, type ArchitectureOptions } from './architecture.js';

/** torchvision's DenseNet (Huang et al. 2016), with its parameter names (features.denseblock1.denselayer1.norm1 …). */

/** BN-ReLU-Conv1x1-BN-ReLU-Conv3x3 on the concatenation of all earlier feature maps of the block. */
export class DenseLayer extends Module {
  static override readonly typeName: string = 'DenseLayer';
  norm1: BatchNorm2d;
  relu1: ReLU;
  conv1: Conv2d;
  norm2: BatchNorm2d;
  relu2: ReLU;
  conv2: Conv2d;

  constructor(inFeatures: number, growthRate: number, bnSize: number) {
    super();
    this.norm1 = new BatchNorm2d(inFeatures);
    this.relu1 = new ReLU();
    this.conv1 = new Conv2d(inFeatures, bnSize * growthRate, 1, { bias: false });
    this.norm2 = new BatchNorm2d(bnSize * growthRate);
    this.relu2 = new ReLU();
    this.conv2 = new Conv2d(bnSize * growthRate, growthRate, 3, { padding: 1, bias: false });
  }

  /** Takes the block's feature maps so far, as torchvision's _DenseLayer does. */
  forward(...features: Tensor[]): Tensor {
    const x = features.length === 1 ? features[0]! : concat(features, 1);
    const bottleneck = this.conv1.forward(this.relu1.forward(this.norm1.forward(x)));
    return this.conv2.forward(this.relu2.forward(this.norm2.forward(bottleneck)));
  }
}

export class DenseBlock extends Module {
  static override readonly typeName: string = 'DenseBlock';
  constructor(layers: number, inFeatures: number, bnSize: number, growthRate: number) {
    super();
    for (let i = 0; i < layers; i++) {
      this.addModule(`denselayer${i + 1}`, new DenseLayer(inFeatures + i * growthRate, growthRate, bnSize));
    }
  }

  forward(x: Tensor): Tensor {
    const features = [x];
    for (const layer of this.children()) features.push(layer.forward(...features));
    return concat(features, 1);
  }
}

/** BN-ReLU-Conv1x1-AvgPool between blocks; a Sequential with torchvision's names. */
export class Transition extends Sequential {
  static override readonly typeName: string = 'Transition';
  constructor(inFeatures: number, outFeatures: number) {
    super({
      norm: new BatchNorm2d(inFeatures),
      relu: new ReLU(),
      conv: new Conv2d(inFeatures, outFeatures, 1, { bias: false }),
      pool: new AvgPool2d(2, { stride: 2 }),
    });
  }
}

export interface DenseNetOptions extends ArchitectureOptions {
  growthRate?: number;
  blockConfig?: readonly number[];
  numInitFeatures?: number;
  bnSize?: number;
}

export class DenseNet extends Module {
  static override readonly typeName: string = 'DenseNet';
  /**
   * The last batch norm of `features`, whose output (after a functional ReLU) is pooled.
   * Note: torchvision applies that ReLU in place, so pytorch-grad-cam's hook at
   * features.norm5 ends up holding relu(norm5) as A while dA is taken before the
   * ReLU; tinycam uses the true norm5 output, so maps differ where norm5 < 0.
   */
  override readonly camLayer = 'features.norm5';
  features: Sequential;
  classifier: Linear;

  constructor(options: DenseNetOptions = {}) {
    super();
    const numClasses = classCount(options, 'densenet');
    const growthRate = options.growthRate ?? 32;
    const blockConfig = options.blockConfig ?? [6, 12, 24, 16];
    const bnSize = options.bnSize ?? 4;
    let features = options.numInitFeatures ?? 64;
    const named: [string, Module][] = [
      ['conv0', new Conv2d(3, features, 7, { stride: 2, padding: 3, bias: false })],
      ['norm0', new BatchNorm2d(features)],
      ['relu0', new ReLU()],
      ['pool0', new MaxPool2d(3, { stride: 2, padding: 1 })],
    ];
    blockConfig.forEach((layers, i) => {
      named.push([`denseblock${i + 1}`, new DenseBlock(layers, features, bnSize, growthRate)]);
      features += layers * growthRate;
      if (i !== blockConfig.length - 1) {
        named.push([`transition${i + 1}`, new Transition(features, Math.floor(features / 2))]);
        features = Math.floor(features / 2);
      }
    });
    named.push(['norm5', new BatchNorm2d(features)]);
    this.features = new Sequential(named);
    this.classifier = new Linear(features, numClasses);
  }

  forward(x: Tensor): Tensor {
    const f = relu(this.features.forward(x));
    return this.classifier.forward(flatten(adaptiveAvgPool2d(f, 1), 1));
  }
}

export const densenet121 = (options: ArchitectureOptions = {}): DenseNet =>
  new DenseNet({ ...options, growthRate: 32, blockConfig: [6, 12, 24, 16], numInitFeatures: 64 });
