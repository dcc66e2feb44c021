import { GraphRunner, type GraphNode, type GraphStep } from '../../layers/graph.js';
import type { Tensor } from '../../tensor/tensor.js';
import { TfjsError } from '../errors.js';
import { Config } from '../json.js';
import type { Layout } from '../layout.js';
import type { FinalActivation } from './activations.js';
import { activationForm, inputShapeOf, KerasIdentity } from './core.js';
import { LAYER_CLASSES } from './index.js';
import { gatherConvChains, kerasConvChains } from './fusion.js';
import { KerasLayer, type KerasShape, type LayerContext } from './layer.js';
import type { LayerDef, ModelDef, TensorRef } from './topology.js';
import type { WeightBank } from './weight-bank.js';

/**
 * A Keras model (the whole model, or one nested in another as a layer) on
 * the shared graph runner: each call of a layer is a node reading and
 * writing tensors named 'layer:call:index', in an order where every input
 * exists before it is read. Built from the definitions in one pass that also
 * infers every tensor's shape, so weights are checked against the topology
 * before anything runs.
 */

const tensorName = (layer: string, call: number, index: number): string => `${layer}:${call}:${index}`;
const refName = (ref: TensorRef): string => tensorName(ref.layer, ref.call, ref.tensor);

/** One call of a layer: its module run on the call's inputs. */
class LayerCall implements GraphNode<null> {
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly description: string;
  readonly module: KerasLayer;

  constructor(module: KerasLayer, inputs: string[], outputs: string[]) {
    this.module = module;
    this.inputs = inputs;
    this.outputs = outputs;
    this.description = `layer '${module.layerName}' (${module.className})`;
  }

  execute(inputs: (Tensor | undefined)[]): { outputs: Tensor[]; types: null[] } {
    const first = this.module.forward(...(inputs as Tensor[]));
    const outputs = this.module instanceof KerasModelLayer ? [first, ...this.module.lastOutputs.slice(1)] : [first];
    return { outputs, types: [] };
  }
}

/** A model as a layer: its layers run by a GraphRunner; `forward` returns its first output. */
export class KerasModelLayer extends KerasLayer {
  /** Runner names of the model's inputs (fed) and outputs. */
  readonly #feeds: string[];
  readonly #outputs: string[];
  readonly #runner: GraphRunner<null>;
  /** The layer and output index that produce each model output (for the logits before a final softmax). */
  readonly #producers: { module: KerasLayer; index: number }[];
  /** The direct layers, in the order they are first called. */
  readonly layers: readonly KerasLayer[];
  /** Every output of the last call, stored layout. */
  lastOutputs: Tensor[] = [];

  constructor(
    context: LayerContext,
    parts: { feeds: string[]; outputs: string[]; steps: GraphStep<null>[]; producers: { module: KerasLayer; index: number }[]; layers: KerasLayer[] },
  ) {
    super(context);
    this.#feeds = parts.feeds;
    this.#outputs = parts.outputs;
    this.#producers = parts.producers;
    this.layers = parts.layers;
    const steps = gatherConvChains(parts.steps, parts.outputs);
    this.#runner = new GraphRunner<null>({
      weights: new Map(),
      constants: [],
      steps,
      defaultType: null,
      missingOutput: (message) => new TfjsError(message),
      fusions: kerasConvChains(steps, parts.outputs),
    });
  }

  get inputCount(): number {
    return this.#feeds.length;
  }

  /** Run on stored inputs; every output, stored. */
  run(inputs: readonly Tensor[]): Tensor[] {
    // Only the outputs are read after the run, which lets conv chains run fused (fusion.ts). No
    // intermediate goes back to the buffer pool: a layer call is not a sealed Module (graphRecycling.ts).
    const env = this.#runner.run(this.#feeds.map((name, i) => [name, { tensor: inputs[i]!, type: null }]), { keep: this.#outputs });
    return this.#outputs.map((name) => env.get(name)!.tensor);
  }

  forward(...inputs: Tensor[]): Tensor {
    this.lastOutputs = this.run(inputs);
    return this.done(this.lastOutputs[0]!);
  }

  /** The logits before output `index`'s final softmax (stored layout, last run), when it ends in one. */
  logitsOf(index: number): { logits: Tensor; activation: FinalActivation } | null {
    const producer = this.#producers[index];
    if (!producer) return null;
    const { module } = producer;
    if (module instanceof KerasModelLayer) return module.logitsOf(producer.index);
    const activation = module.finalActivation;
    return activation && module.logits ? { logits: module.logits, activation } : null;
  }
}

export interface BuildContext {
  bank: WeightBank;
  layout: Layout;
  /** Every leaf layer with its static output shape, in the order calls run (for the default CAM layer). */
  order: { module: KerasLayer; shape: KerasShape }[];
  /** Each built layer's static output shapes (a shared layer's later calls reuse them). */
  outputShapes: Map<KerasLayer, KerasShape[]>;
}

function shapeText(shape: readonly (number | null)[]): string {
  return `[${shape.map((d) => d ?? 'null').join(', ')}]`;
}

/** The input shape a model declares (its InputLayer, or its first nested model's), or null. */
function declaredInputShape(model: ModelDef, index: number): KerasShape | null {
  const ref = model.inputs[index];
  const layer = model.layers.find((l) => l.name === ref?.layer);
  if (!layer) return null;
  try {
    return inputShapeOf(new Config(layer.config, layer.where));
  } catch {
    // A Sequential whose first layer is a model takes that model's input shape.
    const first = model.layers.find((l) => l.calls.some((c) => c.some((r) => r.layer === layer.name)));
    return first?.model ? declaredInputShape(first.model, 0) : null;
  }
}

/**
 * Build a model: layers in call order, shapes inferred, weights checked.
 * `callerShapes` are the shapes a nested model is called with (they stand in
 * for an InputLayer that declares none).
 */
export function buildModel(model: ModelDef, context: LayerContext | null, build: BuildContext, scope: string[], callerShapes?: KerasShape[]): { module: KerasModelLayer; outputShapes: KerasShape[] } {
  const defs = new Map(model.layers.map((l) => [l.name, l]));
  const shapes = new Map<string, KerasShape>();
  const modules = new Map<string, KerasLayer>();
  const layers: KerasLayer[] = [];
  const steps: GraphStep<null>[] = [];
  const feeds: string[] = [];

  const contextFor = (def: LayerDef, inputShapes: KerasShape[]): LayerContext => {
    const config = new Config(def.config, `${def.where}.config`);
    return {
      name: def.name,
      className: def.className,
      config,
      inputShapes,
      layout: build.layout,
      weight: (weight, shape) => build.bank.take(def.name, def.className, weight, shape, scope),
      hasWeight: (weight) => build.bank.has(def.name, weight, scope),
    };
  };

  // Inputs: each InputLayer is a node that passes the fed tensor through (so it is hookable).
  model.inputs.forEach((ref, i) => {
    const def = defs.get(ref.layer)!;
    const declared = declaredInputShape(model, i);
    const caller = callerShapes?.[i];
    const shape = declared ?? caller;
    if (!shape) throw new TfjsError(`loadTfjsModel: input '${def.name}' of model '${model.name}' (${def.where}) declares no shape (batch_input_shape)`);
    if (caller && declared && (caller.length !== declared.length || declared.some((d, k) => d !== null && caller[k] !== null && d !== caller[k]))) {
      throw new TfjsError(`loadTfjsModel: model '${model.name}' declares input '${def.name}' of shape ${shapeText(declared)} but is called on ${shapeText(caller)}`);
    }
    const module = new KerasIdentity(contextFor(def, [shape]));
    build.outputShapes.set(module, [shape]);
    modules.set(def.name, module);
    layers.push(module);
    const feed = `${def.name}:feed`;
    feeds.push(feed);
    const out = tensorName(def.name, 0, 0);
    shapes.set(out, shape);
    steps.push({ node: new LayerCall(module, [feed], [out]) });
  });

  // Calls, in an order where each reads only tensors already made.
  const pending: { def: LayerDef; call: number }[] = model.layers.flatMap((def) => def.calls.map((_, call) => ({ def, call })));
  for (const def of model.layers) {
    if (def.className === 'InputLayer' && !modules.has(def.name)) {
      throw new TfjsError(`loadTfjsModel: InputLayer '${def.name}' of model '${model.name}' is not among its input_layers`);
    }
  }
  while (pending.length) {
    const ready = pending.findIndex(({ def, call }) => def.calls[call]!.every((r) => shapes.has(refName(r))));
    if (ready < 0) {
      const { def, call } = pending[0]!;
      const missing = def.calls[call]!.filter((r) => !shapes.has(refName(r))).map((r) => `'${r.layer}' (call ${r.call}, output ${r.tensor})`);
      throw new TfjsError(
        `loadTfjsModel: layer '${def.name}' of model '${model.name}' reads ${missing.join(', ')}, which no layer produces from the model's inputs (a missing layer, an output index out of range, or a cycle)`,
      );
    }
    const { def, call } = pending.splice(ready, 1)[0]!;
    const refs = def.calls[call]!;
    const inputShapes = refs.map((r) => shapes.get(refName(r))!);
    let module = modules.get(def.name);
    let outputShapes: KerasShape[];
    if (module) {
      // A shared layer: its later calls have the shapes of its first (Keras requires compatible inputs).
      outputShapes = build.outputShapes.get(module)!;
    } else if (def.model) {
      const built = buildModel(def.model, contextFor(def, inputShapes), build, [...scope, def.name], inputShapes);
      module = built.module;
      outputShapes = built.outputShapes;
    } else {
      const built = LAYER_CLASSES[def.className]!.build(contextFor(def, inputShapes));
      module = built.module;
      outputShapes = [built.outputShape];
      build.order.push({ module, shape: built.outputShape });
      build.outputShapes.set(module, outputShapes);
    }
    if (!modules.has(def.name)) {
      modules.set(def.name, module);
      layers.push(module);
    }
    const outputs = outputShapes.map((_, k) => tensorName(def.name, call, k));
    outputShapes.forEach((shape, k) => shapes.set(outputs[k]!, shape));
    steps.push({ node: new LayerCall(module, refs.map(refName), outputs) });
  }

  const outputNames = model.outputs.map(refName);
  for (const [i, name] of outputNames.entries()) {
    if (!shapes.has(name)) throw new TfjsError(`loadTfjsModel: output ${i} of model '${model.name}' (${model.outputs[i]!.layer}) is not produced from its inputs`);
  }
  const producers = model.outputs.map((ref) => ({ module: modules.get(ref.layer)!, index: ref.tensor }));
  const own: LayerContext = context ?? {
    name: model.name,
    className: model.className,
    config: new Config({}, model.where),
    inputShapes: [],
    layout: build.layout,
    weight: () => {
      throw new TfjsError('loadTfjsModel: a model holds no weights of its own');
    },
    hasWeight: () => false,
  };
  const module = new KerasModelLayer(own, { feeds, outputs: outputNames, steps, producers, layers });
  const outputShapes = outputNames.map((n) => shapes.get(n)!);
  build.outputShapes.set(module, outputShapes);
  return { module, outputShapes };
}

/** The forms of supported classes tinycam does not run, and unknown classes, for one error listing all. */
export function unsupportedForm(def: LayerDef): string | null {
  const config = new Config(def.config, `${def.where}.config`);
  const activation = activationForm(config);
  if (activation) return activation;
  return LAYER_CLASSES[def.className]?.unsupported?.(config) ?? null;
}
