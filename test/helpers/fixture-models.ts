/**
 * The fixture models of ../shared/fixtures (vgg_small, tiny_resnet,
 * shapes_cnn) rebuilt with tinycam's layers from models/<name>.arch.json and
 * loaded from models/<name>.safetensors, so tests can compare with the
 * PyTorch outputs stored in the case files.
 *
 * Leaf layers and Sequentials are built generically from the arch's
 * hyper-parameters; the three model classes and BasicBlock carry the forward
 * the arch's `forward` text describes. The built tree is checked against the
 * arch (every dotted name and type) before the weights are loaded strictly.
 */
import { Module } from '../../src/layers/module.js';
import { Sequential } from '../../src/layers/containers.js';
import { Conv2d } from '../../src/layers/conv.js';
import { Linear } from '../../src/layers/linear.js';
import { AdaptiveAvgPool2d, MaxPool2d } from '../../src/layers/pooling.js';
import { BatchNorm2d } from '../../src/layers/normalization.js';
import { ReLU } from '../../src/layers/activation.js';
import { Dropout } from '../../src/layers/dropout.js';
import { interpolate } from '../../src/tensor/ops/interpolate.js';
import { add } from '../../src/tensor/ops/elementwise.js';
import { flatten } from '../../src/tensor/ops/shape.js';
import type { Tensor } from '../../src/tensor/tensor.js';
import { loadArch, loadWeights } from './fixtures.js';

export type FixtureModelName = 'vgg_small' | 'tiny_resnet' | 'shapes_cnn';
export const FIXTURE_MODEL_NAMES: readonly FixtureModelName[] = ['vgg_small', 'tiny_resnet', 'shapes_cnn'];

type ArchModule = Record<string, unknown> & { type: string; children?: string[] };
export type ArchModules = Record<string, ArchModule>;

/** VggSmall, ShapesNet and RegressCnn (fixtures2): x = features(x); x = avgpool(x); x = flatten(x, 1); logits = fc(x). */
class FeaturesAvgpoolFc extends Module {
  constructor(
    private readonly name: string,
    readonly features: Module,
    readonly avgpool: Module,
    readonly fc: Module,
  ) {
    super();
  }
  override get typeName(): string {
    return this.name;
  }
  override forward(x: Tensor): Tensor {
    return this.fc.forward(flatten(this.avgpool.forward(this.features.forward(x)), 1));
  }
}

/** torchvision's BasicBlock: the same `relu` module is called twice. */
class BasicBlock extends Module {
  constructor(
    readonly conv1: Module,
    readonly bn1: Module,
    readonly relu: Module,
    readonly conv2: Module,
    readonly bn2: Module,
    readonly downsample: Module | null,
  ) {
    super();
  }
  override forward(x: Tensor): Tensor {
    let out = this.relu.forward(this.bn1.forward(this.conv1.forward(x)));
    out = this.bn2.forward(this.conv2.forward(out));
    const identity = this.downsample ? this.downsample.forward(x) : x;
    return this.relu.forward(add(out, identity));
  }
}

/** x = relu(bn1(conv1(x))); layer1..3; avgpool; flatten(x, 1); fc (no maxpool, unlike resnet18). */
class TinyResNet extends Module {
  constructor(
    readonly conv1: Module,
    readonly bn1: Module,
    readonly relu: Module,
    readonly layer1: Module,
    readonly layer2: Module,
    readonly layer3: Module,
    readonly avgpool: Module,
    readonly fc: Module,
  ) {
    super();
  }
  override forward(x: Tensor): Tensor {
    let out = this.relu.forward(this.bn1.forward(this.conv1.forward(x)));
    out = this.layer3.forward(this.layer2.forward(this.layer1.forward(out)));
    return this.fc.forward(flatten(this.avgpool.forward(out), 1));
  }
}

const pair = (v: unknown): [number, number] => (Array.isArray(v) ? [v[0] as number, v[1] as number] : [v as number, v as number]);

/** fixtures2's FcnMini: out = interpolate(classifier(backbone(x)), size=(H, W), bilinear, align_corners=False). */
class FcnMini extends Module {
  constructor(
    readonly backbone: Module,
    readonly classifier: Module,
  ) {
    super();
  }
  override get typeName(): string {
    return 'FcnMini';
  }
  override forward(x: Tensor): Tensor {
    return interpolate(this.classifier.forward(this.backbone.forward(x)), { size: [x.shape[2]!, x.shape[3]!], mode: 'bilinear', alignCorners: false });
  }
}

export function buildModule(modules: ArchModules, path: string): Module {
  const spec = modules[path];
  if (!spec) throw new Error(`arch.json has no module '${path}'`);
  const child = (name: string): Module => buildModule(modules, path === '<root>' ? name : `${path}.${name}`);
  const has = (name: string): boolean => spec.children?.includes(name) ?? false;
  switch (spec.type) {
    case 'Conv2d':
      if (spec.padding_mode !== 'zeros') throw new Error(`${path}: padding_mode ${spec.padding_mode}`);
      return new Conv2d(spec.in_channels as number, spec.out_channels as number, pair(spec.kernel_size), {
        stride: pair(spec.stride),
        padding: pair(spec.padding),
        dilation: pair(spec.dilation),
        groups: spec.groups as number,
        bias: spec.bias as boolean,
      });
    case 'BatchNorm2d':
      return new BatchNorm2d(spec.num_features as number, {
        eps: spec.eps as number,
        momentum: spec.momentum as number | null,
        affine: spec.affine as boolean,
      });
    case 'ReLU':
      return new ReLU();
    case 'MaxPool2d':
      return new MaxPool2d(pair(spec.kernel_size), {
        stride: pair(spec.stride),
        padding: pair(spec.padding),
        dilation: pair(spec.dilation),
        ceilMode: spec.ceil_mode as boolean,
      });
    case 'AdaptiveAvgPool2d':
      return new AdaptiveAvgPool2d(typeof spec.output_size === 'number' ? spec.output_size : pair(spec.output_size));
    case 'Linear':
      return new Linear(spec.in_features as number, spec.out_features as number, { bias: spec.bias as boolean });
    case 'Sequential':
      return new Sequential(...(spec.children ?? []).map(child));
    case 'Dropout':
      return new Dropout(spec.p as number);
    case 'VggSmall':
    case 'ShapesNet':
    case 'RegressCnn':
      return new FeaturesAvgpoolFc(spec.type, child('features'), child('avgpool'), child('fc'));
    case 'BasicBlock':
      return new BasicBlock(child('conv1'), child('bn1'), child('relu'), child('conv2'), child('bn2'), has('downsample') ? child('downsample') : null);
    case 'FcnMini':
      return new FcnMini(child('backbone'), child('classifier'));
    case 'TinyResNet':
      return new TinyResNet(
        child('conv1'), child('bn1'), child('relu'), child('layer1'), child('layer2'), child('layer3'), child('avgpool'), child('fc'),
      );
    default:
      throw new Error(`fixture-models: no builder for module type ${spec.type} (at '${path}')`);
  }
}

/** Throws unless the built tree has exactly the arch's dotted names, types and child order. */
export function checkTree(model: Module, modules: ArchModules): void {
  const built = model.namedModules().map(([name, m]) => `${name || '<root>'}:${m.typeName}`);
  const expected = Object.entries(modules).map(([name, spec]) => `${name}:${spec.type}`);
  if (built.join('\n') !== expected.join('\n')) {
    throw new Error(`fixture-models: built module tree differs from arch.json\nbuilt:    ${built.join(', ')}\nexpected: ${expected.join(', ')}`);
  }
}

/**
 * The fixture model `name` as tinycam modules, weights loaded strictly from
 * its safetensors (BatchNorm's num_batches_tracked included), in eval mode.
 * A fresh model each call: tests may change it freely.
 */
export function buildFixtureModel(name: FixtureModelName): Module {
  const arch = loadArch(name);
  const modules = arch.modules as ArchModules;
  const model = buildModule(modules, '<root>');
  checkTree(model, modules);
  model.loadStateDict(loadWeights(name), { strict: true });
  return model.eval();
}
