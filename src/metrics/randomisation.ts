import { ArgumentError } from '../tensor/errors.js';
import { Rng } from '../tensor/random.js';
import { Tensor } from '../tensor/tensor.js';
import { Module, type StateDict } from '../layers/module.js';
import { gradCam } from '../cam/methods/gradCam.js';
import type { MapOptions, Target } from '../cam/types.js';
import type { ExplainFunction } from './arcc.js';
import { checkImages, checkMaps } from './checks.js';
import { spearmanCorrelation, ssim } from './statistics.js';

/**
 * The model parameter randomisation test (Adebayo et al. 2018, "Sanity
 * checks for saliency maps"; Quantus's MPRT): re-initialise the model's
 * layers one after another, from the output down (cascading), explain again
 * after each step, and compare with the original map. A method that
 * explains the model, not just the image, gives maps that stop resembling
 * the original as the weights go.
 *
 * Layers are the modules with parameters of their own, in the model's
 * order; a step re-initialises one layer as Quantus does (PyTorch's
 * reset_parameters): weights with 2 or more axes and their bias from
 * U(-1/sqrt(fan_in), 1/sqrt(fan_in)), 1-axis weights (normalisation layers)
 * to 1 and their bias to 0, running statistics to mean 0 and variance 1.
 * The model's own parameters are put back afterwards, even when a step throws.
 */

export interface RandomisationOptions {
  target?: Target;
  /** The method whose maps are compared (default gradCam); every map method fits. */
  method?: ExplainFunction;
  /** Further options for `method` (layer, ...). */
  methodOptions?: MapOptions & Record<string, unknown>;
  /**
   * 'top-down' (default: cascading from the output layer, Adebayo et al.'s
   * main test), 'bottom-up' (cascading from the input) or 'independent'
   * (one layer at a time, the others original).
   */
  order?: 'top-down' | 'bottom-up' | 'independent';
  /** Module paths to randomise, in the order given (default: every module with its own parameters, in the model's order). */
  layers?: readonly string[];
  /** Seed of the new weights (default 42, Quantus's). */
  seed?: number;
  /** Compare |map| instead of the map (Adebayo et al. report both). Default false. */
  abs?: boolean;
}

export interface RandomisationStep {
  /** The module randomised at this step (and, cascading, every one before it). */
  layer: string;
  /** The method's maps with the model randomised so far, [N, H, W]. */
  maps: Tensor;
  /** Spearman rank correlation with the original map, per image. */
  spearman: Float32Array;
  /** SSIM with the original map, per image. */
  ssim: Float32Array;
}

export interface RandomisationResult {
  /** Spearman rank correlation between the original map and the map of the last step (the fully randomised model when cascading), per image. */
  value: Float32Array;
  steps: RandomisationStep[];
}

/** Re-initialised values of one module's own parameters and buffers (PyTorch's reset_parameters). */
function reinitialised(prefix: string, module: Module, rng: Rng): StateDict {
  const out: StateDict = {};
  const own = module.namedOwnParameters();
  const weight = own.find(([n]) => n === 'weight')?.[1];
  const fanIn = weight && weight.ndim >= 2 ? weight.size / weight.shape[0]! : 0;
  const name = (n: string) => (prefix ? `${prefix}.${n}` : n);
  const uniform = (t: Tensor, bound: number) => new Tensor(Float32Array.from(t.data, () => (2 * rng.uniform() - 1) * bound), t.shape);
  for (const [n, p] of own) {
    if (weight && weight.ndim >= 2) out[name(n)] = uniform(p, fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0);
    else if (n === 'weight') out[name(n)] = new Tensor(new Float32Array(p.size).fill(1), p.shape);
    else if (n === 'bias') out[name(n)] = new Tensor(new Float32Array(p.size), p.shape);
    else out[name(n)] = uniform(p, p.ndim >= 2 ? 1 / Math.sqrt(p.size / p.shape[0]!) : 1);
  }
  for (const [n, b] of module.namedBuffers()) {
    if (n.includes('.')) continue;
    if (n === 'running_var') out[name(n)] = new Tensor(new Float32Array(b.size).fill(1), b.shape);
    else if (n === 'running_mean' || n === 'num_batches_tracked') out[name(n)] = new Tensor(new Float32Array(b.size), b.shape);
  }
  return out;
}

/** A copy of every parameter and buffer, to put back afterwards. */
function snapshot(model: Module): StateDict {
  const out: StateDict = {};
  for (const [k, t] of Object.entries(model.stateDict())) out[k] = new Tensor(t.data.slice(), t.shape);
  return out;
}

/**
 * modelParameterRandomisation(model, input, maps, { target, method, order }):
 * `maps` are the method's maps of the original model. Costs one explanation
 * per randomised layer.
 */
export function modelParameterRandomisation(model: Module, input: Tensor, maps: Tensor, options: RandomisationOptions = {}): RandomisationResult {
  const fn = 'modelParameterRandomisation';
  if (!(model instanceof Module)) throw new ArgumentError(`${fn}: the model must be a tinycam Module (its parameters are re-initialised)`);
  const layout = checkImages(input, fn);
  const original = checkMaps(maps, layout, fn);
  const order = options.order ?? 'top-down';
  if (order !== 'top-down' && order !== 'bottom-up' && order !== 'independent') {
    throw new ArgumentError(`${fn}: order must be 'top-down', 'bottom-up' or 'independent'; got ${String(order)}`);
  }
  const named = model.namedModules();
  let layers: [string, Module][];
  if (options.layers) {
    layers = options.layers.map((path) => {
      const module = model.getModule(path);
      if (!module) throw new ArgumentError(`${fn}: no module named '${path}' in the model`);
      if (module.namedOwnParameters().length === 0) throw new ArgumentError(`${fn}: module '${path}' (${module.typeName}) has no parameters of its own to randomise`);
      return [path, module];
    });
  } else {
    layers = named.filter(([, m]) => m.namedOwnParameters().length > 0);
    if (order === 'top-down') layers.reverse();
  }
  if (layers.length === 0) throw new ArgumentError(`${fn}: the model has no module with parameters to randomise`);
  const method = (options.method ?? gradCam) as unknown as (m: Module, x: Tensor, o: object) => { maps: Tensor };
  const methodOptions = { ...options.methodOptions, target: options.target };
  const rng = new Rng(options.seed ?? 42);
  const saved = snapshot(model);
  const { n, positions, height, width } = layout;
  const prepare = (v: Float32Array) => (options.abs ? v.map(Math.abs) : v);
  const steps: RandomisationStep[] = [];
  try {
    for (const [path, module] of layers) {
      if (order === 'independent') model.loadStateDict(saved);
      model.loadStateDict(reinitialised(path, module, rng), { strict: false });
      const randomMaps = method(model, input, methodOptions).maps;
      const values = checkMaps(randomMaps, layout, fn, 'the method\'s maps');
      const spearman = new Float32Array(n);
      const similarity = new Float32Array(n);
      for (let i = 0; i < n; i++) {
        const a = prepare(original.subarray(i * positions, (i + 1) * positions));
        const b = prepare(values.subarray(i * positions, (i + 1) * positions));
        spearman[i] = spearmanCorrelation(a, b);
        similarity[i] = ssim(a, b, height, width);
      }
      steps.push({ layer: path, maps: randomMaps, spearman, ssim: similarity });
    }
  } finally {
    model.loadStateDict(saved);
  }
  return { value: steps[steps.length - 1]!.spearman, steps };
}
