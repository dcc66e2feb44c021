import { ArgumentError } from '../tensor/errors.js';
import { Rng, rand } from '../tensor/random.js';
import { Parameter, sizeOf, type Shape } from '../tensor/tensor.js';

/**
 * Where a layer draws its initial weights from: `rng` (advanced), a fresh
 * generator from `seed`, or, when neither is given, the global generator of
 * src/tensor/random.ts (reseed it with `manualSeed`, like `torch.manual_seed`).
 */
export interface InitOptions {
  rng?: Rng;
  seed?: number;
}

/** One generator for all of a layer's draws, so a seed gives weight and bias from one stream. */
export function initGenerator(options: InitOptions): Rng | undefined {
  if (options.rng) return options.rng;
  if (options.seed !== undefined) return new Rng(options.seed);
  return undefined; // rand() falls back to the global generator
}

/** How many skipInit builds are running (they may nest); while any is, parameters start as zeros. */
let skipping = 0;

/**
 * Build a model without drawing its random initial weights: every conv and
 * linear parameter made while `build` runs starts as zeros, for
 * `loadStateDict` to overwrite (PyTorch's `torch.nn.utils.skip_init`).
 *
 *   const model = skipInit(() => resnet50());
 *   model.loadStateDict(loadSafetensors(bytes));
 *
 * Drawing the initial weights is most of what building a model costs: a
 * ResNet-50's 25 million uniform draws, or, in a cold process, tens of ms of
 * V8 compiling the generator's loop. A parameter the state dict does not
 * hold stays zero, so load strictly (the default) unless you mean to.
 * Batch-norm statistics keep PyTorch's ones and zeros. `build` must build
 * synchronously: a Promise is refused, since whatever it builds later
 * would not be skipped.
 */
export function skipInit<T>(build: () => T): T {
  if (typeof build !== 'function') {
    throw new ArgumentError(`skipInit: expected a function that builds the model, e.g. skipInit(() => resnet18()); got ${build === null ? 'null' : typeof build}`);
  }
  skipping++;
  let built: T;
  try {
    built = build();
  } finally {
    skipping--;
  }
  if (typeof (built as { then?: unknown } | null)?.then === 'function') {
    throw new ArgumentError('skipInit: build returned a Promise; build the model synchronously inside skipInit (await anything it needs first)');
  }
  return built;
}

/**
 * A parameter drawn from U(-bound, bound) (zeros inside skipInit). PyTorch's default for conv and
 * linear layers, kaiming_uniform_(a = sqrt(5)), works out to
 * bound = gain * sqrt(3 / fan_in) with gain = sqrt(2 / (1 + 5)), that is
 * 1 / sqrt(fan_in); their bias uses the same bound.
 */
export function uniformParameter(shape: Shape, bound: number, rng: Rng | undefined): Parameter {
  if (skipping > 0) return new Parameter(new Float32Array(sizeOf(shape)), shape);
  const t = rand(shape, { rng, low: -bound, high: bound });
  return new Parameter(t.data, shape);
}

/** 1 / sqrt(fan_in), or 0 for an empty fan-in (PyTorch's bias rule). */
export function fanInBound(fanIn: number): number {
  return fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
}

export function constantParameter(shape: Shape, value: number): Parameter {
  const p = new Parameter(new Float32Array(sizeOf(shape)), shape);
  p.data.fill(value);
  return p;
}

export function positiveInteger(value: number, what: string, layer: string): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new ArgumentError(`${layer}: ${what} must be a positive integer; got ${value}`);
  }
  return value;
}

/** PyTorch's repr of a pair: '(3, 3)'. */
export function tupleRepr(p: readonly number[]): string {
  return `(${p.join(', ')})`;
}

/** A number as Python prints it in a repr (1e-05, 0.1, 3). */
export function pyNumber(v: number): string {
  // Python switches to exponent notation below 1e-4, JavaScript below 1e-6.
  const s = v !== 0 && Math.abs(v) < 1e-4 ? v.toExponential() : String(v);
  return s.replace(/e([+-])(\d)$/, 'e$10$2');
}
