import { Sequential } from '../layers/containers.js';
import { Conv2d } from '../layers/conv.js';
import { Linear } from '../layers/linear.js';
import { Module } from '../layers/module.js';
import { BatchNorm2d } from '../layers/normalization.js';
import { AdaptiveAvgPool2d, MaxPool2d } from '../layers/pooling.js';
import { ReLU } from '../layers/activation.js';
import { convBnAddRelu, convBnRelu, runSequence } from '../layers/fusion.js';
import { childrenSealed, recycleSpent } from '../layers/recycling.js';
import { flatten } from '../tensor/ops/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import { classCount, type ArchitectureOptions } from './architecture.js';

/** torchvision's ResNet (He et al. 2015), with its parameter names (layer4.1.conv2.weight …). */

const conv3x3 = (inPlanes: number, outPlanes: number, stride = 1): Conv2d =>
  new Conv2d(inPlanes, outPlanes, 3, { stride, padding: 1, bias: false });
const conv1x1 = (inPlanes: number, outPlanes: number, stride = 1): Conv2d =>
  new Conv2d(inPlanes, outPlanes, 1, { stride, bias: false });

/** Two 3x3 convolutions and a shortcut; the same `relu` module runs twice, as in torchvision. */
export class BasicBlock extends Module {
  static override readonly typeName: string = 'BasicBlock';
  static readonly expansion = 1;
  conv1: Conv2d;
  bn1: BatchNorm2d;
  relu: ReLU;
  conv2: Conv2d;
  bn2: BatchNorm2d;
  downsample: Module | null;

  constructor(inPlanes: number, planes: number, stride = 1, downsample: Module | null = null) {
    super();
    this.conv1 = conv3x3(inPlanes, planes, stride);
    this.bn1 = new BatchNorm2d(planes);
    this.relu = new ReLU();
    this.conv2 = conv3x3(planes, planes);
    this.bn2 = new BatchNorm2d(planes);
    this.downsample = downsample;
  }

  forward(x: Tensor): Tensor {
    // relu(bn1(conv1(x))), then relu(bn2(conv2(...)) + shortcut(x)): fused where nothing can tell (layers/fusion.ts).
    const sealedBefore = childrenSealed(this);
    const out = convBnRelu(this.conv1, this.bn1, this.relu, x);
    let shortcut = x;
    const result = convBnAddRelu(this.conv2, this.bn2, out, () => (shortcut = this.downsample ? this.downsample.forward(x) : x), this.relu);
    if (sealedBefore) recycleInside(this, [out, shortcut], x, result);
    return result;
  }

  override isolatedForward(): boolean {
    return this.constructor === BasicBlock && childrenSealed(this);
  }
}

/** 1x1 reduce, 3x3, 1x1 expand (x4), and a shortcut (torchvision's ResNet V1.5: stride on the 3x3). */
export class Bottleneck extends Module {
  static override readonly typeName: string = 'Bottleneck';
  static readonly expansion = 4;
  conv1: Conv2d;
  bn1: BatchNorm2d;
  conv2: Conv2d;
  bn2: BatchNorm2d;
  conv3: Conv2d;
  bn3: BatchNorm2d;
  relu: ReLU;
  downsample: Module | null;

  constructor(inPlanes: number, planes: number, stride = 1, downsample: Module | null = null) {
    super();
    const width = planes;
    this.conv1 = conv1x1(inPlanes, width);
    this.bn1 = new BatchNorm2d(width);
    this.conv2 = conv3x3(width, width, stride);
    this.bn2 = new BatchNorm2d(width);
    this.conv3 = conv1x1(width, planes * Bottleneck.expansion);
    this.bn3 = new BatchNorm2d(planes * Bottleneck.expansion);
    this.relu = new ReLU();
    this.downsample = downsample;
  }

  forward(x: Tensor): Tensor {
    const sealedBefore = childrenSealed(this);
    const first = convBnRelu(this.conv1, this.bn1, this.relu, x);
    const second = convBnRelu(this.conv2, this.bn2, this.relu, first);
    let shortcut = x;
    const result = convBnAddRelu(this.conv3, this.bn3, second, () => (shortcut = this.downsample ? this.downsample.forward(x) : x), this.relu);
    if (sealedBefore) recycleInside(this, [first, second, shortcut], x, result);
    return result;
  }

  override isolatedForward(): boolean {
    return this.constructor === Bottleneck && childrenSealed(this);
  }
}

/**
 * A block's own intermediates (and its downsampled shortcut) back to the
 * buffer pool once its result is made, when all its children are sealed
 * (layers/recycling.ts), before the block ran (the caller checks) and after.
 * Hooks on the block itself see only its input and result, so they do not
 * matter; the input is never given back.
 */
function recycleInside(block: Module, intermediates: readonly Tensor[], input: Tensor, result: Tensor): void {
  if (!childrenSealed(block)) return;
  for (const t of intermediates) if (t !== input) recycleSpent(t, result);
}

type Block = typeof BasicBlock | typeof Bottleneck;

export class ResNet extends Module {
  static override readonly typeName: string = 'ResNet';
  override readonly camLayer = 'layer4';
  conv1: Conv2d;
  bn1: BatchNorm2d;
  relu: ReLU;
  maxpool: MaxPool2d;
  layer1: Sequential;
  layer2: Sequential;
  layer3: Sequential;
  layer4: Sequential;
  avgpool: AdaptiveAvgPool2d;
  fc: Linear;

  constructor(block: Block, layers: readonly [number, number, number, number], options: ArchitectureOptions = {}) {
    super();
    const numClasses = classCount(options, 'ResNet');
    let inPlanes = 64;
    const makeLayer = (planes: number, blocks: number, stride: number): Sequential => {
      let downsample: Module | null = null;
      if (stride !== 1 || inPlanes !== planes * block.expansion) {
        downsample = new Sequential(conv1x1(inPlanes, planes * block.expansion, stride), new BatchNorm2d(planes * block.expansion));
      }
      const modules: Module[] = [new block(inPlanes, planes, stride, downsample)];
      inPlanes = planes * block.expansion;
      for (let i = 1; i < blocks; i++) modules.push(new block(inPlanes, planes));
      return new Sequential(...modules);
    };
    this.conv1 = new Conv2d(3, 64, 7, { stride: 2, padding: 3, bias: false });
    this.bn1 = new BatchNorm2d(64);
    this.relu = new ReLU();
    this.maxpool = new MaxPool2d(3, { stride: 2, padding: 1 });
    this.layer1 = makeLayer(64, layers[0], 1);
    this.layer2 = makeLayer(128, layers[1], 2);
    this.layer3 = makeLayer(256, layers[2], 2);
    this.layer4 = makeLayer(512, layers[3], 2);
    this.avgpool = new AdaptiveAvgPool2d([1, 1]);
    this.fc = new Linear(512 * block.expansion, numClasses);
  }

  forward(x: Tensor): Tensor {
    // The stem fused, and each stage's output back to the buffer pool once the next has consumed it, as a
    // Sequential runs its children (layers/fusion.ts).
    const out = runSequence([this.conv1, this.bn1, this.relu, this.maxpool, this.layer1, this.layer2, this.layer3, this.layer4], x);
    return this.fc.forward(flatten(this.avgpool.forward(out), 1));
  }
}

export const resnet18 = (options: ArchitectureOptions = {}): ResNet => new ResNet(BasicBlock, [2, 2, 2, 2], options);
export const resnet34 = (options: ArchitectureOptions = {}): ResNet => new ResNet(BasicBlock, [3, 4, 6, 3], options);
export const resnet50 = (options: ArchitectureOptions = {}): ResNet => new ResNet(Bottleneck, [3, 4, 6, 3], options);
export const resnet101 = (options: ArchitectureOptions = {}): ResNet => new ResNet(Bottleneck, [3, 4, 23, 3], options);
export const resnet152 = (options: ArchitectureOptions = {}): ResNet => new ResNet(Bottleneck, [3, 8, 36, 3], options);
