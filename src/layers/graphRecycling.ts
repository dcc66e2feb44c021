import { recycleBuffer } from '../tensor/buffer-pool.js';
import type { Tensor } from '../tensor/tensor.js';
import { Module } from './module.js';
import { sealed } from './recycling.js';

/**
 * Which intermediate tensors of a graph run go back to the buffer pool
 * (tensor/buffer-pool.ts), and when: the graph runner's counterpart of
 * ./recycling.ts, for data flow written as named nodes instead of a
 * Sequential.
 *
 * A node's first output X goes back right after the last node that reads it
 * has run, when nothing else can ever read its buffer:
 *
 * - the caller does not read X after the run (it is not in the run's `keep`);
 * - X's producer and every node that reads X were sealed when they ran
 *   (Modules with no hook and `isolatedForward()`: a fresh output no one else
 *   holds, no reference kept to their inputs; a node that is not a Module,
 *   or returns a view or its input, never is), and each one's output does
 *   not share a buffer with its inputs (checked as well, at every run);
 * - no tap that X passed through has a hook (a hooked tap is how a CAM keeps
 *   an activation), and the taps handed X on unchanged;
 * - nothing records a gradient: neither X nor any output of its producer or
 *   readers requires grad (a gradient graph may hold X), as recycleSpent.
 *
 * Weights, folded constants and feeds are never candidates (no step makes
 * them); nor are a node's second and later outputs, nor a name made by two
 * steps. A name nobody reads is left to the garbage collector.
 */

/** The part of a graph step the plan looks at (GraphStep, without its type parameter). */
export interface RecyclableStep {
  readonly node: { readonly inputs: readonly string[]; readonly outputs: readonly string[] };
  readonly taps?: readonly (readonly Module[] | undefined)[];
}

/** Who makes and who reads each step's first output, worked out once per graph. */
export class RecyclePlan {
  /** Step that makes each candidate name (its first output). */
  readonly #producer = new Map<string, number>();
  /** Steps that read each candidate name, in order, each once. */
  readonly #readers = new Map<string, number[]>();
  /** Per step: the candidate names whose last reader it is. */
  readonly #lastReadAt: string[][];

  constructor(steps: readonly RecyclableStep[]) {
    const madeTwice = new Set<string>();
    const made = new Set<string>();
    steps.forEach((step, i) => {
      step.node.outputs.forEach((name, k) => {
        if (!name) return;
        if (made.has(name)) madeTwice.add(name);
        made.add(name);
        if (k === 0) this.#producer.set(name, i);
      });
    });
    for (const name of madeTwice) this.#producer.delete(name);
    steps.forEach((step, i) => {
      for (const name of step.node.inputs) {
        if (!name || !this.#producer.has(name)) continue;
        const readers = this.#readers.get(name) ?? [];
        if (readers[readers.length - 1] !== i) readers.push(i);
        this.#readers.set(name, readers);
      }
    });
    this.#lastReadAt = steps.map(() => []);
    for (const [name, readers] of this.#readers) {
      // A name read before it is made (no valid graph does) never goes back.
      if (readers[0]! <= this.#producer.get(name)!) continue;
      this.#lastReadAt[readers[readers.length - 1]!]!.push(name);
    }
  }

  /** Bookkeeping for one run that keeps `keep` for its caller. */
  start(steps: readonly RecyclableStep[], keep: ReadonlySet<string>): RunRecycler {
    return new RunRecycler(this, steps, keep);
  }

  producer(name: string): number {
    return this.#producer.get(name)!;
  }

  readers(name: string): readonly number[] {
    return this.#readers.get(name)!;
  }

  lastReadAt(step: number): readonly string[] {
    return this.#lastReadAt[step]!;
  }
}

/** No hook on the node or on the taps of its first output, and the node a sealed Module. */
function stepSealed(step: RecyclableStep): boolean {
  const { node } = step;
  if (!(node instanceof Module) || !sealed(node)) return false;
  return (step.taps?.[0] ?? []).every((tap) => tap.hookCount() === 0);
}

/** One run's view of the plan: which steps ran sealed and without a gradient, and what may go back. */
export class RunRecycler {
  readonly #plan: RecyclePlan;
  readonly #steps: readonly RecyclableStep[];
  readonly #keep: ReadonlySet<string>;
  /** Per step: sealed before it ran (a hook may remove itself while it runs). */
  readonly #sealedBefore: boolean[];
  /** Per step: ran sealed, recorded no gradient, and its first output is a buffer of its own. */
  readonly #clean: boolean[];

  constructor(plan: RecyclePlan, steps: readonly RecyclableStep[], keep: ReadonlySet<string>) {
    this.#plan = plan;
    this.#steps = steps;
    this.#keep = keep;
    this.#sealedBefore = steps.map(() => false);
    this.#clean = steps.map(() => false);
  }

  /** Call before step `i` runs. */
  before(i: number): void {
    this.#sealedBefore[i] = stepSealed(this.#steps[i]!);
  }

  /**
   * Call after step `i` ran on `inputs`, made `outputs`, and stored `stored`
   * (its first output after the taps) in `env`; gives back what `i` was the
   * last to read, deleting those names from `env`.
   */
  after(i: number, inputs: readonly (Tensor | undefined)[], outputs: readonly (Tensor | undefined)[], stored: Tensor | undefined, env: Map<string, { tensor: Tensor }>): void {
    const first = outputs[0];
    this.#clean[i] = this.#sealedBefore[i]! && stepSealed(this.#steps[i]!)
      && first !== undefined && stored === first
      && outputs.every((t) => !t?.requiresGrad)
      && inputs.every((t) => !t || t.data.buffer !== first.data.buffer);
    for (const name of this.#plan.lastReadAt(i)) {
      if (this.#keep.has(name)) continue;
      if (!this.#clean[this.#plan.producer(name)] || !this.#plan.readers(name).every((r) => this.#clean[r])) continue;
      const spent = env.get(name)?.tensor;
      if (!spent || spent.requiresGrad) continue;
      env.delete(name);
      recycleBuffer(spent.data);
    }
  }
}
