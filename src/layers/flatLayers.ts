import { LayerNotFoundError } from '../tensor/errors.js';
import { Module } from './module.js';
import { closestNames } from './names.js';

/**
 * A model whose hookable layers are one flat list of names rather than a tree
 * of properties: an imported graph (ONNX, a TensorFlow.js graph model) or a
 * Keras model, whose names ('layer4.1', 'conv2d_3/Conv2D') may hold dots and
 * slashes that Module's dotted-path lookup would misread.
 *
 * Subclasses fill `flatLayers` while they build; this class answers every
 * name question from it, the same way for all of them.
 */
export abstract class FlatLayersModule extends Module {
  /** The layers by their names, in the order `namedModules` lists them. */
  protected readonly flatLayers = new Map<string, Module>();

  /** Whether `name` is a layer here ('' is the model itself). */
  hasLayer(name: string): boolean {
    return name === '' || this.flatLayers.has(name);
  }

  /** The layer by name ('' is the model itself), or undefined (Module's contract, which the CAM code relies on to report LayerNotFoundError with the closest names). */
  override getModule(name: string): Module | undefined {
    if (name === '') return this;
    return this.flatLayers.get(name);
  }

  /** As getModule, but an unknown name throws LayerNotFoundError listing the closest names first. */
  layer(name: string): Module {
    const module = this.getModule(name);
    if (!module) throw new LayerNotFoundError(name, closestNames(name, [...this.flatLayers.keys()]));
    return module;
  }

  /** The name a layer is listed under (its first, when listed twice). */
  nameOf(module: Module): string | undefined {
    for (const [name, m] of this.flatLayers) if (m === module) return name;
    return undefined;
  }

  override namedChildren(): [string, Module][] {
    return [...this.flatLayers];
  }

  /** The model itself (''), then every layer once, not descending into them: their names already say where they sit. */
  override namedModules(prefix = '', seen = new Set<Module>()): [string, Module][] {
    if (seen.has(this)) return [];
    seen.add(this);
    const out: [string, Module][] = [[prefix, this]];
    for (const [name, module] of this.flatLayers) {
      if (seen.has(module)) continue;
      seen.add(module);
      out.push([prefix ? `${prefix}.${name}` : name, module]);
    }
    return out;
  }
}
