import { TfjsError } from '../errors.js';
import { array, integer, isObject, object, string, type JsonObject } from '../json.js';
import { MODEL_CLASSES } from './index.js';

/**
 * The model_config of a layers model as plain definitions: each layer with
 * its calls (the tensors each call reads) and the model's input and output
 * tensors. Sequential models become functional ones (an InputLayer, then each
 * layer called on the previous one). Tensor references are normalised to
 * call indices: TensorFlow.js (and tf.keras) count a nested model's own
 * construction as its node 0, so references to a nested model start at 1;
 * files that refer to node 0 of a nested model (older Keras) count from 0.
 */

export interface TensorRef {
  layer: string;
  /** Which call of the layer (0 for an InputLayer's output). */
  call: number;
  tensor: number;
}

export interface LayerDef {
  name: string;
  className: string;
  config: JsonObject;
  /** For each call, the tensors it reads. */
  calls: TensorRef[][];
  where: string;
  /** A nested model's definition. */
  model?: ModelDef;
}

export interface ModelDef {
  name: string;
  className: string;
  layers: LayerDef[];
  inputs: TensorRef[];
  outputs: TensorRef[];
  where: string;
}

interface RawRef {
  layer: string;
  node: number;
  tensor: number;
  where: string;
}

function readRef(value: unknown, where: string): RawRef {
  // Keras 3: {class_name: '__keras_tensor__', config: {keras_history: [layer, node, tensor]}}
  if (isObject(value)) {
    const config = object(value.config, `${where}.config`);
    return readRef(config.keras_history, `${where}.config.keras_history`);
  }
  const ref = array(value, where);
  if (ref.length < 3) throw new TfjsError(`loadTfjsModel: ${where} must be [layer name, node index, tensor index]; got ${JSON.stringify(value)}`);
  return { layer: string(ref[0], `${where}[0]`), node: integer(ref[1], `${where}[1]`, 0), tensor: integer(ref[2], `${where}[2]`, 0), where };
}

/** A list of refs, or one ref standing alone (Keras 3 writes a single input or output so). */
function readRefList(value: unknown, where: string): RawRef[] {
  const list = array(value, where);
  if (list.length > 0 && typeof list[0] === 'string') return [readRef(list, where)];
  return list.map((r, i) => readRef(r, `${where}[${i}]`));
}

/** The tensors one inbound node reads: Keras 2 / TensorFlow.js lists, or Keras 3 {args, kwargs}. */
function readCall(value: unknown, where: string): RawRef[] {
  if (isObject(value)) {
    const refs: RawRef[] = [];
    const visit = (v: unknown, at: string): void => {
      if (Array.isArray(v)) v.forEach((item, i) => visit(item, `${at}[${i}]`));
      else if (isObject(v) && v.class_name === '__keras_tensor__') refs.push(readRef(v, at));
    };
    visit(value.args, `${where}.args`);
    return refs;
  }
  return array(value, where).map((r, i) => readRef(r, `${where}[${i}]`));
}

function configOf(layer: JsonObject, where: string): JsonObject {
  return object(layer.config, `${where}.config`);
}

/** A model definition from {class_name, config}. */
export function readModel(raw: unknown, where: string): ModelDef {
  const model = object(raw, where);
  const className = string(model.class_name, `${where}.class_name`);
  if (!MODEL_CLASSES.has(className)) {
    throw new TfjsError(`loadTfjsModel: ${where}.class_name is '${className}'; a layers model is one of ${[...MODEL_CLASSES].join(', ')}`);
  }
  return className === 'Sequential' ? readSequential(model, where) : readFunctional(model, className, where);
}

function nestedModel(layer: JsonObject, className: string, where: string): ModelDef | undefined {
  return MODEL_CLASSES.has(className) ? readModel({ class_name: className, config: layer.config }, where) : undefined;
}

function readSequential(model: JsonObject, where: string): ModelDef {
  const rawConfig = model.config;
  // Keras 2.2 wrote a Sequential's config as the list of its layers.
  const config = Array.isArray(rawConfig) ? { layers: rawConfig } : object(rawConfig, `${where}.config`);
  const name = typeof config.name === 'string' ? config.name : 'sequential';
  const list = array(config.layers, `${where}.config.layers`);
  if (list.length === 0) throw new TfjsError(`loadTfjsModel: ${where}.config.layers is empty; a Sequential model needs layers`);
  const layers: LayerDef[] = [];
  list.forEach((value, i) => {
    const at = `${where}.config.layers[${i}]`;
    const layer = object(value, at);
    const className = string(layer.class_name, `${at}.class_name`);
    const layerConfig = configOf(layer, at);
    const layerName = string(layerConfig.name ?? layer.name, `${at}.config.name`);
    layers.push({ name: layerName, className, config: layerConfig, calls: [], where: at, model: nestedModel(layer, className, at) });
  });
  if (layers[0]!.className !== 'InputLayer') {
    const first = layers[0]!;
    const inputConfig: Record<string, unknown> = { name: `${first.name}_input` };
    for (const key of ['batch_input_shape', 'batch_shape', 'input_shape', 'batchInputShape']) {
      if (first.config[key] !== undefined) inputConfig[key] = first.config[key];
    }
    layers.unshift({ name: `${first.name}_input`, className: 'InputLayer', config: inputConfig, calls: [], where: `${where} (input of ${first.name})` });
  }
  for (let i = 1; i < layers.length; i++) layers[i]!.calls = [[{ layer: layers[i - 1]!.name, call: 0, tensor: 0 }]];
  const last = layers[layers.length - 1]!;
  return {
    name,
    className: 'Sequential',
    layers,
    inputs: [{ layer: layers[0]!.name, call: 0, tensor: 0 }],
    outputs: [{ layer: last.name, call: 0, tensor: 0 }],
    where,
  };
}

function readFunctional(model: JsonObject, className: string, where: string): ModelDef {
  const config = object(model.config, `${where}.config`);
  const name = typeof config.name === 'string' ? config.name : 'model';
  const list = array(config.layers, `${where}.config.layers`);
  const layers: LayerDef[] = [];
  const rawCalls: RawRef[][][] = [];
  list.forEach((value, i) => {
    const at = `${where}.config.layers[${i}]`;
    const layer = object(value, at);
    const layerClass = string(layer.class_name, `${at}.class_name`);
    const layerConfig = configOf(layer, at);
    const layerName = string(layer.name ?? layerConfig.name, `${at}.name`);
    const inbound = layer.inbound_nodes === undefined ? [] : array(layer.inbound_nodes, `${at}.inbound_nodes`);
    rawCalls.push(inbound.map((node, k) => readCall(node, `${at}.inbound_nodes[${k}]`)));
    layers.push({ name: layerName, className: layerClass, config: layerConfig, calls: [], where: at, model: nestedModel(layer, layerClass, at) });
  });
  const inputs = readRefList(config.input_layers, `${where}.config.input_layers`);
  const outputs = readRefList(config.output_layers, `${where}.config.output_layers`);

  const byName = new Map(layers.map((l) => [l.name, l]));
  const allRefs = [...rawCalls.flat(2), ...inputs, ...outputs];
  // Nested models count from 1 unless the file refers to their node 0.
  const offsets = new Map<string, number>();
  for (const layer of layers) {
    if (layer.model) offsets.set(layer.name, allRefs.some((r) => r.layer === layer.name && r.node === 0) ? 0 : 1);
  }
  const normalise = (ref: RawRef): TensorRef => {
    const target = byName.get(ref.layer);
    if (!target) {
      throw new TfjsError(`loadTfjsModel: ${ref.where} refers to layer '${ref.layer}', which ${where} does not define`);
    }
    const call = ref.node - (offsets.get(ref.layer) ?? 0);
    const calls = target.className === 'InputLayer' ? 1 : rawCalls[layers.indexOf(target)]!.length;
    if (call < 0 || call >= calls) {
      throw new TfjsError(`loadTfjsModel: ${ref.where} refers to node ${ref.node} of layer '${ref.layer}', which is called ${calls} time(s)`);
    }
    return { layer: ref.layer, call, tensor: ref.tensor };
  };
  layers.forEach((layer, i) => {
    layer.calls = rawCalls[i]!.map((refs) => refs.map(normalise));
  });
  const inputRefs = inputs.map(normalise);
  for (const ref of inputRefs) {
    if (byName.get(ref.layer)!.className !== 'InputLayer') {
      throw new TfjsError(`loadTfjsModel: ${where}.config.input_layers names '${ref.layer}', a ${byName.get(ref.layer)!.className}; model inputs are InputLayers`);
    }
  }
  return { name, className, layers, inputs: inputRefs, outputs: outputs.map(normalise), where };
}

/** Every layer definition, nested models' layers included (for the supported-class check). */
export function allLayers(model: ModelDef): LayerDef[] {
  return model.layers.flatMap((l) => [l, ...(l.model ? allLayers(l.model) : [])]);
}
