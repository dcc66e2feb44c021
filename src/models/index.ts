/**
 * `tinycam/models`: torchvision's architectures by name, with torchvision's
 * parameter names, so `resnet50().loadStateDict(loadSafetensors(bytes))`
 * loads a state_dict saved in Python without renaming. Each model names the
 * layer CAM methods should look at (`model.camLayer`).
 */
import { ArgumentError } from '../tensor/errors.js';
import type { Architecture, ArchitectureOptions } from './architecture.js';
import { densenet121 } from './densenet.js';
import { mobilenet_v2, type MobileNetV2Options } from './mobilenet.js';
import { resnet101, resnet152, resnet18, resnet34, resnet50 } from './resnet.js';
import { squeezenet1_0, squeezenet1_1 } from './squeezenet.js';
import { vgg11, vgg11_bn, vgg13, vgg13_bn, vgg16, vgg16_bn, vgg19, vgg19_bn } from './vgg.js';

export * from './architecture.js';
export * from './resnet.js';
export * from './vgg.js';
export * from './mobilenet.js';
export * from './squeezenet.js';
export * from './densenet.js';

/** Every architecture by its torchvision name. */
export const architectures: Readonly<Record<string, (options?: ArchitectureOptions & MobileNetV2Options) => Architecture>> = {
  resnet18, resnet34, resnet50, resnet101, resnet152,
  vgg11, vgg11_bn, vgg13, vgg13_bn, vgg16, vgg16_bn, vgg19, vgg19_bn,
  mobilenet_v2, squeezenet1_0, squeezenet1_1, densenet121,
};

/** Build an architecture by torchvision name, e.g. `createModel('resnet50', { numClasses: 10 })`. */
export function createModel(name: string, options: ArchitectureOptions & MobileNetV2Options = {}): Architecture {
  // An own property: '__proto__', 'constructor' and 'toString' are not architectures.
  const build = Object.hasOwn(architectures, name) ? architectures[name] : undefined;
  if (!build) {
    throw new ArgumentError(`createModel: unknown architecture '${name}'; accepted: ${Object.keys(architectures).join(', ')}`);
  }
  return build(options);
}
