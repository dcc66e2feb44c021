import { Sequential } from '../layers/containers.js';
import { Conv2d } from '../layers/conv.js';
import { Dropout } from '../layers/dropout.js';
import { Module } from '../layers/module.js';
import { AdaptiveAvgPool2d, MaxPool2d } from '../layers/pooling.js';
import { ReLU } from '../layers/activation.js';
import { concat, flatten } from '../tensor/ops/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import { classCount, type ArchitectureOptions } from './architecture.js';

/** torchvision's SqueezeNet 1.0 and 1.1 (Iandola et al. 2016). */

/** Squeeze (1x1) then two parallel expands (1x1 and 3x3) concatenated on channels. */
export class Fire extends Module {
  static override readonly typeName: string = 'Fire';
  squeeze: Conv2d;
  squeeze_activation: ReLU;
  expand1x1: Conv2d;
  expand1x1_activation: ReLU;
  expand3x3: Conv2d;
  expand3x3_activation: ReLU;

  constructor(inPlanes: number, squeezePlanes: number, expand1x1Planes: number, expand3x3Planes: number) {
    super();
    this.squeeze = new Conv2d(inPlanes, squeezePlanes, 1);
    this.squeeze_activation = new ReLU();
    this.expand1x1 = new Conv2d(squeezePlanes, expand1x1Planes, 1);
    this.expand1x1_activation = new ReLU();
    this.expand3x3 = new Conv2d(squeezePlanes, expand3x3Planes, 3, { padding: 1 });
    this.expand3x3_activation = new ReLU();
  }

  forward(x: Tensor): Tensor {
    const s = this.squeeze_activation.forward(this.squeeze.forward(x));
    return concat(
      [this.expand1x1_activation.forward(this.expand1x1.forward(s)), this.expand3x3_activation.forward(this.expand3x3.forward(s))],
      1,
    );
  }
}

export class SqueezeNet extends Module {
  static override readonly typeName: string = 'SqueezeNet';
  /** The last Fire module. */
  override readonly camLayer = 'features.12';
  features: Sequential;
  classifier: Sequential;

  constructor(version: '1_0' | '1_1', options: ArchitectureOptions = {}) {
    super();
    const numClasses = classCount(options, `squeezenet${version}`);
    const pool = (): MaxPool2d => new MaxPool2d(3, { stride: 2, ceilMode: true });
    this.features =
      version === '1_0'
        ? new Sequential(
            new Conv2d(3, 96, 7, { stride: 2 }), new ReLU(), pool(),
            new Fire(96, 16, 64, 64), new Fire(128, 16, 64, 64), new Fire(128, 32, 128, 128), pool(),
            new Fire(256, 32, 128, 128), new Fire(256, 48, 192, 192), new Fire(384, 48, 192, 192), new Fire(384, 64, 256, 256), pool(),
            new Fire(512, 64, 256, 256),
          )
        : new Sequential(
            new Conv2d(3, 64, 3, { stride: 2 }), new ReLU(), pool(),
            new Fire(64, 16, 64, 64), new Fire(128, 16, 64, 64), pool(),
            new Fire(128, 32, 128, 128), new Fire(256, 32, 128, 128), pool(),
            new Fire(256, 48, 192, 192), new Fire(384, 48, 192, 192), new Fire(384, 64, 256, 256), new Fire(512, 64, 256, 256),
          );
    this.classifier = new Sequential(new Dropout(0.5), new Conv2d(512, numClasses, 1), new ReLU(), new AdaptiveAvgPool2d([1, 1]));
  }

  forward(x: Tensor): Tensor {
    return flatten(this.classifier.forward(this.features.forward(x)), 1);
  }
}

export const squeezenet1_0 = (options: ArchitectureOptions = {}): SqueezeNet => new SqueezeNet('1_0', options);
export const squeezenet1_1 = (options: ArchitectureOptions = {}): SqueezeNet => new SqueezeNet('1_1', options);
