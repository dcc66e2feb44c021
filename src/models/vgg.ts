import { Sequential } from '../layers/containers.js';
import { Conv2d } from '../layers/conv.js';
import { Dropout } from '../layers/dropout.js';
import { Linear } from '../layers/linear.js';
import { Module } from '../layers/module.js';
import { BatchNorm2d } from '../layers/normalization.js';
import { AdaptiveAvgPool2d, MaxPool2d } from '../layers/pooling.js';
import { ReLU } from '../layers/activation.js';
import { flatten } from '../tensor/ops/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import { classCount, type ArchitectureOptions } from './architecture.js';

/** torchvision's VGG (Simonyan & Zisserman 2014): configurations A, B, D, E, with or without batch norm. */

type Config = readonly (number | 'M')[];
const CONFIGS: Record<'A' | 'B' | 'D' | 'E', Config> = {
  A: [64, 'M', 128, 'M', 256, 256, 'M', 512, 512, 'M', 512, 512, 'M'],
  B: [64, 64, 'M', 128, 128, 'M', 256, 256, 'M', 512, 512, 'M', 512, 512, 'M'],
  D: [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 'M', 512, 512, 512, 'M', 512, 512, 512, 'M'],
  E: [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 256, 'M', 512, 512, 512, 512, 'M', 512, 512, 512, 512, 'M'],
};

export class VGG extends Module {
  static override readonly typeName: string = 'VGG';
  /** The last ReLU of `features`, before the final max-pool (e.g. 'features.29' for vgg16). */
  override readonly camLayer: string;
  features: Sequential;
  avgpool: AdaptiveAvgPool2d;
  classifier: Sequential;

  constructor(config: Config, batchNorm: boolean, options: ArchitectureOptions = {}) {
    super();
    const numClasses = classCount(options, 'VGG');
    const layers: Module[] = [];
    let inChannels = 3;
    for (const v of config) {
      if (v === 'M') {
        layers.push(new MaxPool2d(2, { stride: 2 }));
      } else {
        layers.push(new Conv2d(inChannels, v, 3, { padding: 1 }));
        if (batchNorm) layers.push(new BatchNorm2d(v));
        layers.push(new ReLU());
        inChannels = v;
      }
    }
    this.features = new Sequential(...layers);
    this.camLayer = `features.${layers.length - 2}`;
    this.avgpool = new AdaptiveAvgPool2d([7, 7]);
    this.classifier = new Sequential(
      new Linear(512 * 7 * 7, 4096),
      new ReLU(),
      new Dropout(0.5),
      new Linear(4096, 4096),
      new ReLU(),
      new Dropout(0.5),
      new Linear(4096, numClasses),
    );
  }

  forward(x: Tensor): Tensor {
    return this.classifier.forward(flatten(this.avgpool.forward(this.features.forward(x)), 1));
  }
}

export const vgg11 = (options: ArchitectureOptions = {}): VGG => new VGG(CONFIGS.A, false, options);
export const vgg11_bn = (options: ArchitectureOptions = {}): VGG => new VGG(CONFIGS.A, true, options);
export const vgg13 = (options: ArchitectureOptions = {}): VGG => new VGG(CONFIGS.B, false, options);
export const vgg13_bn = (options: ArchitectureOptions = {}): VGG => new VGG(CONFIGS.B, true, options);
export const vgg16 = (options: ArchitectureOptions = {}): VGG => new VGG(CONFIGS.D, false, options);
export const vgg16_bn = (options: ArchitectureOptions = {}): VGG => new VGG(CONFIGS.D, true, options);
export const vgg19 = (options: ArchitectureOptions = {}): VGG => new VGG(CONFIGS.E, false, options);
export const vgg19_bn = (options: ArchitectureOptions = {}): VGG => new VGG(CONFIGS.E, true, options);
