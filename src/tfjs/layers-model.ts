import { FlatLayersModule } from '../layers/flatLayers.js';
import { type ModelOutput } from '../layers/module.js';
import { ArgumentError, ShapeError } from '../tensor/errors.js';
import { Tensor, shapeString } from '../tensor/tensor.js';
import { TfjsUnsupportedError, type UnsupportedClass } from './errors.js';
import { Layout } from './layout.js';
import { KerasLayer, LAYER_CLASSES, MODEL_CLASSES, type KerasShape } from './keras/index.js';
import { buildModel, KerasModelLayer, unsupportedForm, type BuildContext } from './keras/model.js';
import { allLayers, type ModelDef } from './keras/topology.js';
import { WeightBank } from './keras/weight-bank.js';
import type { Weight } from './weights.js';

/** A hookable layer of a TensorFlow.js model, as `layers()` lists it. */
export interface TfjsLayerInfo {
  /** The Keras layer name ('Conv_1'); a nested layer whose name is taken is 'model/layer'. */
  name: string;
  /** The Keras class ('Conv2D'), or the op of a graph model node. */
  className: string;
  /** Output shape in the model's own layout (NHWC for a channels_last model); null where not fixed. */
  shape: (number | null)[] | null;
}

/**
 * A Keras layers model (functional or Sequential, nested models included)
 * as a tinycam Module. `forward` takes and returns tensors in the model's
 * own layout (NHWC for the usual channels_last model) and returns the first
 * output; every layer, nested ones included, is hookable by its Keras name,
 * and hooks see 4-D activations as [N, C, h, w] (see Layout). The model is
 * always run as `model.predict` runs it: dropout off, batch normalisation
 * with its moving statistics.
 */
export class TfjsLayersModel extends FlatLayersModule {
  readonly format = 'layers-model';
  /** Names of the input layers, in the order `forward` takes them. */
  readonly inputNames: readonly string[];
  /** Names of the layers that make the outputs. */
  readonly outputNames: readonly string[];
  /** Each input's shape in the model's layout (null: any size). */
  readonly inputShapes: readonly KerasShape[];
  override readonly inputLayout: 'NCHW' | 'NHWC' | undefined;
  /** The last layer whose output is a feature map larger than 1x1 (by the shapes the topology implies). */
  override readonly camLayer: string | undefined;
  readonly layout: Layout;

  readonly #root: KerasModelLayer;
  readonly #staticShapes: Map<KerasLayer, KerasShape>;

  /** Built by loadTfjsModel from a checked topology and its weights. */
  constructor(definition: ModelDef, weights: ReadonlyMap<string, Weight>, layout: Layout) {
    super();
    this.layout = layout;
    const build: BuildContext = { bank: new WeightBank(weights), layout, order: [], outputShapes: new Map() };
    const { module: root } = buildModel(definition, null, build, []);
    this.#root = root;
    this.inputNames = Object.freeze(definition.inputs.map((r) => r.layer));
    this.outputNames = Object.freeze(definition.outputs.map((r) => r.layer));
    this.inputShapes = Object.freeze(root.layers.slice(0, root.inputCount).map((m) => build.outputShapes.get(m)![0]!));
    this.inputLayout = this.inputShapes[0]?.length === 4 ? (layout.channelsLast ? 'NHWC' : 'NCHW') : undefined;

    // Every layer by name, outer layers first; a nested name already taken is qualified by its model.
    this.#staticShapes = new Map(build.order.map(({ module, shape }) => [module, shape]));
    const visit = (model: KerasModelLayer, prefix: string): void => {
      for (const layer of model.layers) {
        const name = this.flatLayers.has(layer.layerName) ? `${prefix}${layer.layerName}` : layer.layerName;
        if (![...this.flatLayers.values()].includes(layer)) this.flatLayers.set(name, layer);
      }
      for (const layer of model.layers) if (layer instanceof KerasModelLayer) visit(layer, `${prefix}${layer.layerName}/`);
    };
    visit(root, '');
    for (const [module, shapes] of build.outputShapes) if (!this.#staticShapes.has(module)) this.#staticShapes.set(module, shapes[0]!);

    const spatial = (shape: KerasShape): boolean => {
      if (shape.length !== 4) return false;
      const [h, w] = layout.channelsLast ? [shape[1], shape[2]] : [shape[2], shape[3]];
      return h === null || w === null || h! * w! > 1;
    };
    const last = [...build.order].reverse().find(({ shape }) => spatial(shape));
    this.camLayer = last ? this.nameOf(last.module) : undefined;
    this.eval();
  }

  // ------------------------------------------------------------------ layers

  /** Every hookable layer with its class and its output shape in the model's layout, as the topology implies it. */
  layers(): TfjsLayerInfo[] {
    return [...this.flatLayers].map(([name, m]) => {
      const module = m as KerasLayer;
      const shape = this.#staticShapes.get(module);
      return { name, className: module.className, shape: shape ? [...shape] : null };
    });
  }

  /** The batch size the first input declares, when it is a number. */
  override maxBatchSize(): number | undefined {
    const n = this.inputShapes[0]?.[0];
    return typeof n === 'number' && n > 0 ? n : undefined;
  }

  // ----------------------------------------------------------------- running

  /** The first output for the inputs (model layout), in the order of `inputNames`. */
  forward(...inputs: Tensor[]): Tensor {
    return this.run(inputs)[0]!;
  }

  /** Every output, in the model's layout. */
  run(inputs: readonly Tensor[]): Tensor[] {
    this.#check(inputs, 'run');
    return this.#root.run(inputs.map((x) => this.layout.store(x))).map((y) => this.layout.restore(y));
  }

  /**
   * Every output by the name of the layer that makes it; an output whose
   * layer ends in a softmax (Dense(activation='softmax'), Activation('softmax'),
   * Softmax) comes with the tensor before it as `logits`, which the CAM
   * methods explain by default.
   */
  override forwardOutputs(...inputs: Tensor[]): ModelOutput[] {
    const values = this.run(inputs);
    return values.map((value, i) => {
      const name = this.outputNames[i]!;
      const final = this.#root.logitsOf(i);
      return final ? { name, value, logits: this.layout.restore(final.logits), activation: final.activation } : { name, value };
    });
  }

  #check(inputs: readonly Tensor[], fn: string): void {
    if (inputs.length !== this.inputNames.length) {
      throw new ArgumentError(
        `TfjsLayersModel.${fn}: got ${inputs.length} input tensor(s); the model takes ${this.inputNames.length} (${this.inputNames.map((n) => `'${n}'`).join(', ')})`,
      );
    }
    inputs.forEach((x, i) => {
      const declared = this.inputShapes[i]!;
      if (!(x instanceof Tensor)) throw new ArgumentError(`TfjsLayersModel.${fn}: input ${i} is not a Tensor`);
      const fits = x.ndim === declared.length && declared.every((d, k) => d === null || d === x.shape[k]);
      if (!fits) {
        const layout = this.inputLayout ? ` (${this.inputLayout}${this.inputLayout === 'NHWC' ? ': a TensorFlow.js model takes channels last, see toChannelsLast' : ''})` : '';
        throw new ShapeError(
          `TfjsLayersModel.${fn}: input '${this.inputNames[i]}' has shape ${shapeString(x.shape)} but the model declares [${declared.map((d) => d ?? '?').join(', ')}]${layout}`,
        );
      }
    });
  }
}

/** Every layer class in the model that tinycam does not run (or not in the form used), for one error. */
export function checkLayerClasses(definition: ModelDef): void {
  const unsupported = new Map<string, UnsupportedClass>();
  for (const def of allLayers(definition)) {
    const known = MODEL_CLASSES.has(def.className) || Object.hasOwn(LAYER_CLASSES, def.className);
    const detail = known && !MODEL_CLASSES.has(def.className) ? unsupportedForm(def) : null;
    if (known && !detail) continue;
    const key = `${def.className}|${detail ?? ''}`;
    if (!unsupported.has(key)) unsupported.set(key, { name: def.className, users: [], ...(detail ? { detail } : {}) });
    unsupported.get(key)!.users.push(def.name);
  }
  if (unsupported.size) {
    throw new TfjsUnsupportedError('layer class', [...unsupported.values()], [...Object.keys(LAYER_CLASSES), ...MODEL_CLASSES].sort());
  }
}

/** The model's own data format: channels_first only when every layer that says says so. */
export function layoutOf(definition: ModelDef): Layout {
  const formats = allLayers(definition).map((d) => d.config.data_format ?? d.config.dataFormat).filter((f) => typeof f === 'string');
  const channelsFirst = formats.length > 0 && formats.every((f) => f === 'channels_first' || f === 'channelsFirst');
  return new Layout(!channelsFirst);
}
