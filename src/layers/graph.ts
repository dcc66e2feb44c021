import { noGrad } from '../tensor/autograd.js';
import type { Tensor } from '../tensor/tensor.js';
import type { Module } from './module.js';

/**
 * The runner that imported graphs share (ONNX graphs and their If branches,
 * TensorFlow.js layers and graph models): nodes that read and write tensors
 * by name, run in a plan in topological order. Each tensor carries a type
 * that the format gives meaning to (an ONNX element type, a TensorFlow
 * dtype). The runner knows nothing of ops: a node is anything with
 * `execute`, usually a Module whose forward runs the op, so its hooks see the
 * node's inputs and output. Taps (identity modules) that an output passes
 * through make more names hookable: a module path, a node's second output.
 *
 * Nodes whose inputs are all weights or other constants are folded: computed
 * once without gradients at the first run, and kept until `invalidate()`.
 */

/** A tensor of the graph with its type (what the format calls it). */
export interface GraphValue<Type> {
  tensor: Tensor;
  type: Type;
}

/** One node of a graph: a computation from named tensors to named tensors. */
export interface GraphNode<Type> {
  /** Input tensor names; '' marks an absent optional input. */
  readonly inputs: readonly string[];
  /** Output tensor names; '' marks an output nobody uses. */
  readonly outputs: readonly string[];
  /** The node for messages ("Conv node 'conv1'"). */
  readonly description: string;
  /** Run on the inputs (undefined where absent) with their types; outputs by position, with their types. */
  execute(inputs: (Tensor | undefined)[], types: Type[]): { outputs: readonly (Tensor | undefined)[]; types: readonly (Type | undefined)[] };
}

/** A node in the plan, with the taps its outputs pass through. */
export interface GraphStep<Type> {
  node: GraphNode<Type>;
  /** Identity modules each output passes through, in order, by output position. */
  taps?: readonly (readonly Module[] | undefined)[];
}

export interface GraphRunnerOptions<Type> {
  /** Tensors fixed between runs (weights), by name. */
  weights: ReadonlyMap<string, GraphValue<Type>>;
  /** Nodes folded once from weights and other constants, in topological order (see `splitConstantNodes`). */
  constants: readonly GraphNode<Type>[];
  /** The nodes every run executes, in topological order. */
  steps: readonly GraphStep<Type>[];
  /** Type of an input or output nobody typed. */
  defaultType: Type;
  /** The error for a node that does not produce an output it names (the format's own error class). */
  missingOutput: (message: string) => Error;
}

/**
 * Split nodes (in topological order) into those computable from the named
 * constants alone and the rest. `foldable` refuses nodes that must run every
 * time even on constant inputs (Dropout, BatchNorm in training mode).
 */
export function splitConstantNodes<N extends { readonly inputs: readonly string[]; readonly outputs: readonly string[] }>(
  nodes: readonly N[],
  constantNames: Iterable<string>,
  foldable: (node: N) => boolean = () => true,
): { constant: N[]; live: N[]; constantNames: Set<string> } {
  const names = new Set(constantNames);
  const constant: N[] = [];
  const live: N[] = [];
  for (const node of nodes) {
    if (foldable(node) && node.inputs.every((n) => n === '' || names.has(n))) {
      constant.push(node);
      for (const o of node.outputs) if (o) names.add(o);
    } else {
      live.push(node);
    }
  }
  return { constant, live, constantNames: names };
}

export class GraphRunner<Type> {
  readonly #options: GraphRunnerOptions<Type>;
  #constants: Map<string, GraphValue<Type>> | null = null;

  constructor(options: GraphRunnerOptions<Type>) {
    this.#options = options;
  }

  get steps(): readonly GraphStep<Type>[] {
    return this.#options.steps;
  }

  /** Forget the folded constants (after the weights changed); they are recomputed at the next run. */
  invalidate(): void {
    this.#constants = null;
  }

  /** A weight or folded constant by name. */
  constant(name: string): GraphValue<Type> | undefined {
    return this.#options.weights.get(name) ?? this.#constantValues().get(name);
  }

  /**
   * Run every step on `feeds`; returns every tensor of the run by name
   * (feeds, weights, constants and node outputs after their taps).
   */
  run(feeds: Iterable<[string, GraphValue<Type>]>): Map<string, GraphValue<Type>> {
    const env = new Map<string, GraphValue<Type>>(feeds);
    for (const [name, value] of this.#options.weights) env.set(name, value);
    for (const [name, value] of this.#constantValues()) env.set(name, value);
    for (const step of this.#options.steps) this.#execute(step, env, true);
    return env;
  }

  #execute(step: GraphStep<Type>, env: Map<string, GraphValue<Type>>, strict: boolean): void {
    const { node } = step;
    const inputs = node.inputs.map((n) => (n ? env.get(n)?.tensor : undefined));
    const types = node.inputs.map((n) => env.get(n)?.type ?? this.#options.defaultType);
    const result = node.execute(inputs, types);
    node.outputs.forEach((name, k) => {
      if (!name) return;
      let tensor = result.outputs[k];
      if (!tensor && !strict) return;
      if (!tensor) throw this.#options.missingOutput(`${node.description}: output ${k} ('${name}') was not produced`);
      for (const tap of step.taps?.[k] ?? []) tensor = tap.forward(tensor);
      env.set(name, { tensor, type: result.types[k] ?? this.#options.defaultType });
    });
  }

  /** Outputs of the constant nodes, computed at the first run and kept (an output a node leaves out stays unset). */
  #constantValues(): Map<string, GraphValue<Type>> {
    if (this.#constants) return this.#constants;
    const env = new Map<string, GraphValue<Type>>(this.#options.weights);
    noGrad(() => {
      for (const node of this.#options.constants) this.#execute({ node }, env, false);
    });
    for (const name of this.#options.weights.keys()) env.delete(name);
    this.#constants = env;
    return env;
  }
}
