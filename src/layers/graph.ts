import { noGrad } from '../tensor/autograd.js';
import type { Tensor } from '../tensor/tensor.js';
import { RecyclePlan, type RunRecycler } from './graphRecycling.js';
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
 *
 * A run told which names its caller will read (`keep`) hands the other
 * intermediate outputs back to the buffer pool as soon as their last reader
 * has run, where nothing else can see them (./graphRecycling.ts), and
 * returns only the kept names, so a recycled tensor cannot be read by mistake.
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
  /** Runs of steps that may execute as one (see StepFusion), by the index of their first step. */
  fusions?: ReadonlyMap<number, StepFusion<Type>>;
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

/**
 * Steps that can run as one where nothing can tell the difference (the
 * format decides which: an ONNX Conv -> BatchNormalization -> Relu, see
 * src/onnx/fusion.ts and src/tfjs/keras/fusion.ts). Keyed by the first step's index; the fusion replaces
 * that step and the `absorbs` steps right after it. Only a run told what to
 * `keep` fuses: the intermediate outputs are then never made.
 */
export interface StepFusion<Type> {
  /** How many steps after the first one the fused run replaces. */
  readonly absorbs: number;
  /**
   * The last replaced step's first output (before its taps), or null when the
   * steps must run one by one this time (a hook, a gradient, a name the caller
   * keeps). `env` holds the run's tensors so far.
   */
  run(env: ReadonlyMap<string, GraphValue<Type>>, keep: ReadonlySet<string>): GraphValue<Type> | null;
}

/**
 * For a format's fusions: `nodes[i]`'s one output name when exactly one node
 * reads it (a node that reads it twice counts once) and it is not among
 * `graphOutputs`, else null. Which node reads it, and how, is the format's
 * to check.
 */
export function privateOutputs(
  nodes: readonly { readonly inputs: readonly string[]; readonly outputs: readonly string[] }[],
  graphOutputs: readonly string[],
): (i: number) => string | null {
  const readers = new Map<string, number>();
  for (const node of nodes) for (const name of new Set(node.inputs)) if (name) readers.set(name, (readers.get(name) ?? 0) + 1);
  const outputs = new Set(graphOutputs);
  return (i) => {
    const made = nodes[i]!.outputs.filter((n) => n !== '');
    const name = nodes[i]!.outputs[0];
    return made.length === 1 && name && !outputs.has(name) && readers.get(name) === 1 ? name : null;
  };
}

/** What a run returns and may recycle. */
export interface GraphRunOptions {
  /**
   * The names the caller reads after the run (graph outputs, logits, any
   * tensor it asked for). When given, the run returns these only (those that
   * exist), and intermediate outputs outside it may go back to the buffer
   * pool once read. Without it, every tensor of the run is returned and
   * nothing is recycled.
   */
  keep?: Iterable<string>;
}

export class GraphRunner<Type> {
  readonly #options: GraphRunnerOptions<Type>;
  #constants: Map<string, GraphValue<Type>> | null = null;
  #plan: RecyclePlan | null = null;

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

  /** Every name a run can hold besides its feeds: weights, folded constants, node outputs. */
  names(): string[] {
    const names = new Set(this.#options.weights.keys());
    const nodes = [...this.#options.constants, ...this.#options.steps.map((s) => s.node)];
    for (const node of nodes) for (const name of node.outputs) if (name) names.add(name);
    return [...names];
  }

  /**
   * Run every step on `feeds`; returns every tensor of the run by name
   * (feeds, weights, constants and node outputs after their taps), or only
   * `options.keep`'s (see GraphRunOptions).
   */
  run(feeds: Iterable<[string, GraphValue<Type>]>, options: GraphRunOptions = {}): Map<string, GraphValue<Type>> {
    const env = new Map<string, GraphValue<Type>>(feeds);
    for (const [name, value] of this.#options.weights) env.set(name, value);
    for (const [name, value] of this.#constantValues()) env.set(name, value);
    const { steps } = this.#options;
    if (!options.keep) {
      for (const step of steps) this.#execute(step, env, true);
      return env;
    }
    const keep = new Set(options.keep);
    const recycler = (this.#plan ??= new RecyclePlan(steps)).start(steps, keep);
    for (let i = 0; i < steps.length; i++) {
      const fusion = this.#options.fusions?.get(i);
      const absorbed = fusion ? this.#runFused(fusion, i, env, keep, recycler) : 0;
      if (absorbed > 0) {
        i += absorbed;
        continue;
      }
      const step = steps[i]!;
      recycler.before(i);
      const { inputs, outputs } = this.#execute(step, env, true);
      const first = step.node.outputs[0];
      recycler.after(i, inputs, outputs, first ? env.get(first)?.tensor : undefined, env);
    }
    const kept = new Map<string, GraphValue<Type>>();
    for (const name of keep) {
      const value = env.get(name);
      if (value) kept.set(name, value);
    }
    return kept;
  }

  /**
   * Steps i .. i + fusion.absorbs as one, when the fusion agrees: only the
   * last step's first output is stored (after its taps), and the recycler
   * sees each step as having made that one tensor (the intermediate names,
   * which only these steps read, never exist). Returns the steps it absorbed
   * after i, or 0 when they must run one by one.
   */
  #runFused(fusion: StepFusion<Type>, i: number, env: Map<string, GraphValue<Type>>, keep: ReadonlySet<string>, recycler: RunRecycler): number {
    const fused = fusion.run(env, keep);
    if (!fused) return 0;
    const { steps } = this.#options;
    const last = i + fusion.absorbs;
    // A fusion runs only with no hook on its steps, so they are sealed after as before.
    for (let k = i; k <= last; k++) recycler.before(k);
    const lastStep = steps[last]!;
    const name = lastStep.node.outputs[0]!;
    let tensor = fused.tensor;
    for (const tap of lastStep.taps?.[0] ?? []) tensor = tap.forward(tensor);
    env.set(name, { tensor, type: fused.type });
    const inputs = steps[i]!.node.inputs.map((n) => (n ? env.get(n)?.tensor : undefined));
    for (let k = i; k <= last; k++) recycler.after(k, k === i ? inputs : [], [fused.tensor], k === last ? tensor : fused.tensor, env);
    return fusion.absorbs;
  }

  /** Run one node and store its outputs (after their taps); returns what it read and made. */
  #execute(step: GraphStep<Type>, env: Map<string, GraphValue<Type>>, strict: boolean): { inputs: (Tensor | undefined)[]; outputs: readonly (Tensor | undefined)[] } {
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
    return { inputs, outputs: result.outputs };
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
