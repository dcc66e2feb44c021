import { ArgumentError } from '../tensor/errors.js';
import { Tensor } from '../tensor/tensor.js';
import { runSequence } from './fusion.js';
import { childrenSealed } from './recycling.js';
import { Module } from './module.js';

/** Named entries for a container, like PyTorch's OrderedDict argument. */
export type NamedModules = Record<string, Module> | Map<string, Module> | readonly (readonly [string, Module])[];

function entriesOf(named: NamedModules): [string, Module][] {
  if (named instanceof Map) return [...named];
  if (Array.isArray(named)) return (named as readonly (readonly [string, Module])[]).map(([n, m]) => [n, m]);
  return Object.entries(named as Record<string, Module>);
}

function indexIn(i: number, length: number, container: string): number {
  const j = i < 0 ? i + length : i;
  if (!Number.isInteger(j) || j < 0 || j >= length) {
    throw new ArgumentError(`${container}: index ${i} is out of range for ${length} modules (accepted: ${-length} to ${length - 1})`);
  }
  return j;
}

/**
 * torch.nn.Sequential: calls its children in order, each on the previous
 * output. `new Sequential(a, b, c)` names them '0', '1', '2';
 * `new Sequential({ conv: a, relu: b })` (or a Map, or [name, module] pairs)
 * keeps the given names.
 */
export class Sequential extends Module {
  static override readonly typeName: string = 'Sequential';
  constructor(...modules: Module[] | [NamedModules]) {
    super();
    if (modules.length === 1 && !(modules[0] instanceof Module)) {
      for (const [name, m] of entriesOf(modules[0] as NamedModules)) {
        if (!(m instanceof Module)) throw new ArgumentError(`Sequential: entry '${name}' is not a Module`);
        this.addModule(name, m);
      }
    } else {
      (modules as Module[]).forEach((m, i) => {
        if (!(m instanceof Module)) throw new ArgumentError(`Sequential: argument ${i} is not a Module`);
        this.addModule(String(i), m);
      });
    }
  }

  /** Add a module at the end, named by its position. */
  append(module: Module): this {
    this.addModule(String(this.length), module);
    return this;
  }

  get length(): number {
    return this.namedChildren().length;
  }

  /** The child at a position (negative counts from the end). */
  at(index: number): Module {
    const children = this.children();
    return children[indexIn(index, children.length, 'Sequential')]!;
  }

  [Symbol.iterator](): Iterator<Module> {
    return this.children()[Symbol.iterator]();
  }

  override forward(x: Tensor): Tensor {
    // In order; conv -> batch norm -> ReLU runs fused where nothing can tell (./fusion.ts).
    return runSequence([...this.children()], x);
  }

  override isolatedForward(): boolean {
    return this.constructor === Sequential && childrenSealed(this);
  }
}

/** torch.nn.ModuleList: holds modules under '0', '1', … so their parameters are registered; has no forward. */
export class ModuleList extends Module {
  static override readonly typeName: string = 'ModuleList';
  constructor(modules: Iterable<Module> = []) {
    super();
    this.extend(modules);
  }

  append(module: Module): this {
    if (!(module instanceof Module)) throw new ArgumentError('ModuleList.append: expected a Module');
    this.addModule(String(this.length), module);
    return this;
  }

  extend(modules: Iterable<Module>): this {
    for (const m of modules) this.append(m);
    return this;
  }

  get length(): number {
    return this.namedChildren().length;
  }

  at(index: number): Module {
    const children = this.children();
    return children[indexIn(index, children.length, 'ModuleList')]!;
  }

  [Symbol.iterator](): Iterator<Module> {
    return this.children()[Symbol.iterator]();
  }

  override forward(): Tensor {
    throw new ArgumentError('ModuleList has no forward: call its modules (iterate over it or use at(i))');
  }
}
