import type { Tensor } from '../../tensor/tensor.js';
import { TfjsError } from '../errors.js';
import type { Weight } from '../weights.js';
import type { KerasShape } from './layer.js';

function shapeText(shape: readonly (number | null)[]): string {
  return `[${shape.map((d) => d ?? '?').join(', ')}]`;
}

/**
 * The manifest's weights, found by layer: Keras and TensorFlow.js name a
 * layer's weight 'layer/kernel', sometimes under scopes ('model/layer/kernel',
 * 'layer/layer/kernel'). A weight whose shape disagrees with what the
 * topology implies is a TfjsError naming both.
 */
export class WeightBank {
  readonly #weights: ReadonlyMap<string, Weight>;
  readonly #byLeaf = new Map<string, string[]>();

  constructor(weights: ReadonlyMap<string, Weight>) {
    this.#weights = weights;
    for (const name of weights.keys()) {
      const parts = name.split('/');
      const leaf = parts.slice(-2).join('/');
      if (!this.#byLeaf.has(leaf)) this.#byLeaf.set(leaf, []);
      this.#byLeaf.get(leaf)!.push(name);
    }
  }

  /** The manifest name of `layer`'s weight, preferring the one under `scope` (nested model names). */
  find(layer: string, weight: string, scope: readonly string[]): string | undefined {
    const leaf = `${layer}/${weight}`;
    const candidates = this.#byLeaf.get(leaf) ?? [];
    if (candidates.length <= 1) return candidates[0];
    const scoped = [...scope, layer, weight].join('/');
    return candidates.find((c) => c === scoped) ?? candidates.find((c) => c === leaf) ?? candidates.find((c) => c.endsWith(`/${scoped}`));
  }

  has(layer: string, weight: string, scope: readonly string[]): boolean {
    return this.find(layer, weight, scope) !== undefined;
  }

  /** The weight, checked against `shape` (null: any size). */
  take(layer: string, className: string, weight: string, shape: KerasShape, scope: readonly string[]): Tensor {
    const name = this.find(layer, weight, scope);
    const found = name === undefined ? undefined : this.#weights.get(name);
    if (!found) {
      const ofLayer = [...this.#weights.keys()].filter((k) => k.split('/').slice(-2, -1)[0] === layer);
      throw new TfjsError(
        `loadTfjsModel: layer '${layer}' (${className}) needs weight '${layer}/${weight}' of shape ${shapeText(shape)}; the manifest has none` +
          (ofLayer.length ? ` (it has ${ofLayer.map((k) => `'${k}'`).join(', ')})` : ` (it lists ${this.#weights.size} weights, none of this layer)`),
        'E_TFJS_WEIGHTS',
      );
    }
    const got = found.tensor.shape;
    const fits = got.length === shape.length && shape.every((d, i) => d === null || d === got[i]);
    if (!fits) {
      throw new TfjsError(
        `loadTfjsModel: weight '${name}' has shape ${shapeText(got)} in the manifest, but layer '${layer}' (${className}) as the topology describes it needs ${shapeText(shape)}`,
        'E_TFJS_WEIGHTS',
      );
    }
    return found.tensor;
  }
}
