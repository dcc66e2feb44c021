import type { Tensor } from '../tensor/tensor.js';
import type { Module } from './module.js';

/** Sees one module call: the module's name, the module, its inputs and output; may return a replacement output. */
export type NamedForwardHook = (name: string, module: Module, inputs: readonly Tensor[], output: Tensor) => Tensor | void;

/**
 * Run `run` with `hook` registered on each of `modules` ([name, module]
 * pairs, as `namedModules()` gives them), and remove every hook afterwards,
 * even when `run` throws. The one way tinycam watches a forward pass.
 */
export function withForwardHooks<T>(modules: readonly (readonly [string, Module])[], hook: NamedForwardHook, run: () => T): T {
  const handles = modules.map(([name, module]) => module.registerForwardHook((m, inputs, output) => hook(name, m, inputs, output)));
  try {
    return run();
  } finally {
    for (const h of handles) h.remove();
  }
}
