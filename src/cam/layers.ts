import { noGrad } from '../tensor/autograd.js';
import { ArgumentError, LayerNotFoundError, ShapeError } from '../tensor/errors.js';
import { Tensor } from '../tensor/tensor.js';
import { withForwardHooks } from '../layers/hooks.js';
import type { Module } from '../layers/module.js';
import { editDistance } from '../layers/names.js';
import type { LayerSpec, ReshapeTransform } from './types.js';

/** A layer to hook, with the name it is reported under. */
export interface NamedLayer {
  name: string;
  module: Module;
}

/** The model's module names, closest to `name` first (ties keep the model's order). */
export function closestLayerNames(model: Module, name: string): string[] {
  const names = model.namedModules().map(([n]) => n).filter((n) => n !== '');
  return names
    .map((n, order) => ({ n, order, d: editDistance(name, n) }))
    .sort((x, y) => x.d - y.d || x.order - y.order)
    .map((x) => x.n);
}

/**
 * Whether a layer spec is a module, by its surface rather than `instanceof
 * Module`: a reference to the Module class would make every bundle that calls
 * a CAM method carry the whole class (state dicts, printing, hooks), though
 * the model passed in brings its own. Found in the model or not, it is then
 * told apart from other values only for the error it gets.
 */
function isModuleLike(spec: unknown): spec is Module {
  const m = spec as Partial<Module> | null;
  return typeof m === 'object' && m !== null && typeof m.namedModules === 'function' && typeof m.forward === 'function';
}

/** Resolve the user's layer specs to modules of `model`, or throw LayerNotFoundError. */
export function resolveLayers(model: Module, specs: LayerSpec | readonly LayerSpec[], fn: string): NamedLayer[] {
  const list: readonly LayerSpec[] = Array.isArray(specs) ? specs : [specs as LayerSpec];
  if (list.length === 0) throw new ArgumentError(`${fn}: 'layer' is an empty list; give a module path such as 'layer4', a Module, or a non-empty array of them`);
  const named = model.namedModules();
  return list.map((spec) => {
    if (typeof spec === 'string') {
      const module = model.getModule(spec);
      if (!module) {
        const candidates = closestLayerNames(model, spec);
        throw new LayerNotFoundError(
          spec,
          candidates,
          `${fn}: no layer named '${spec}'. ` +
            (candidates.length
              ? `Layers that exist, closest first: ${candidates.slice(0, 10).map((c) => `'${c}'`).join(', ')}` +
                (candidates.length > 10 ? ` (and ${candidates.length - 10} more)` : '')
              : 'The model has no child modules.'),
        );
      }
      return { name: spec, module };
    }
    if (isModuleLike(spec)) {
      const found = named.find(([, m]) => m === spec);
      if (!found) {
        throw new LayerNotFoundError(
          spec.typeName,
          named.map(([n]) => n).filter((n) => n !== ''),
          `${fn}: the ${spec.typeName} module given as 'layer' is not part of the model; pass one of its modules or a module path`,
        );
      }
      return { name: found[0], module: spec };
    }
    throw new ArgumentError(`${fn}: 'layer' must be a module path (string), a Module, or an array of them; got ${typeof spec}`);
  });
}

/** Whether a module output (seen through `reshape`) is [N, C, ...spatial] like the input, with more than one position. */
function isMapLayer(output: Tensor, input: Tensor, reshape: ReshapeTransform | undefined): boolean {
  let view = output;
  if (reshape) {
    try {
      view = reshape(output);
    } catch {
      return false; // not a layer this transform applies to
    }
  }
  if (!(view instanceof Tensor) || view.ndim !== input.ndim) return false;
  return view.shape.slice(2).reduce((a, b) => a * b, 1) > 1;
}

/**
 * The default layer: the model's own `camLayer` when it names one (every
 * tinycam/models architecture does), else torch-cam's rule: in one forward
 * pass without gradients, the last module (in the order their forward calls
 * finish) whose output is [N, C, ...spatial] with more than one position
 * (after `reshape`, when one is given). A container finishes after its
 * children, so for a ResNet this is 'layer4', for a VGG 'features'.
 */
export function locateDefaultLayer(model: Module, input: Tensor, fn: string, reshape?: ReshapeTransform): NamedLayer {
  // An architecture that names its CAM layer (tinycam/models' `camLayer`) knows best.
  const named = model.camLayer;
  if (typeof named === 'string') {
    const module = model.getModule(named);
    if (module) return { name: named, module };
  }
  const candidates: NamedLayer[] = [];
  const watch = (name: string, module: Module, _inputs: readonly Tensor[], output: Tensor): void => {
    // The model itself ('') is not a layer: its output is what is explained (a segmentation map would qualify).
    if (name !== '' && isMapLayer(output, input, reshape)) candidates.push({ name, module });
  };
  withForwardHooks(model.namedModules(), watch, () => noGrad(() => model.forward(input)));
  const last = candidates[candidates.length - 1];
  if (!last) {
    throw new ShapeError(
      `${fn}: no module of the model outputs [N, C, ...spatial] with more than one position${reshape ? ' after the reshape' : ''}, so no layer can be chosen by default; pass 'layer' (a module path or Module)` +
        (input.ndim === 4 && !reshape ? ", and for a vision transformer also 'reshape: vitReshape()'" : ''),
    );
  }
  return last;
}
