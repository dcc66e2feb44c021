import { GraphRunner, splitConstantNodes, type GraphStep, type GraphValue } from '../layers/graph.js';
import { convChains } from './fusion.js';
import { closestNames } from '../layers/names.js';
import { FlatLayersModule } from '../layers/flatLayers.js';
import { type ModelOutput, type StateDict } from '../layers/module.js';
import { noGrad } from '../tensor/autograd.js';
import { ArgumentError, ShapeError } from '../tensor/errors.js';
import { withWorkBudget } from '../tensor/limits.js';
import { Tensor, shapeString } from '../tensor/tensor.js';
import { OnnxError } from './errors.js';
import { NodeModule, OnnxLinear, ReLU, TapModule } from './layers.js';
import { attributesOf } from './attributes.js';
import { nodeLabel, scopesOfNodes } from './names.js';
import { NON_CONSTANT_OPS, ONNX_OPS } from './ops/index.js';
import type { Dim, GraphProto, NodeProto, ValueInfo } from './proto.js';
import { DataType, dataTypeName, type DecodedTensor } from './tensorData.js';

/** A Gemm that is a Linear layer: constant B, no transA, alpha = beta = 1. */
function isLinearGemm(node: NodeProto, constant: ReadonlySet<string>): boolean {
  if (node.opType !== 'Gemm' || !constant.has(node.inputs[1]!) || (node.inputs[2] && !constant.has(node.inputs[2]))) return false;
  const attrs = attributesOf(node);
  return attrs.int('transA', 0) === 0 && attrs.float('alpha', 1) === 1 && attrs.float('beta', 1) === 1;
}

/** A hookable layer of the graph, as `layers()` lists it. */
export interface LayerInfo {
  /** Module path ('layer4.1') or ONNX tensor name ('/layer4/layer4.1/relu_1/Relu_output_0'). */
  name: string;
  kind: 'module' | 'tensor';
  /** The op that produces the tensor (for a module path: its last node's op). */
  opType: string;
  /** The tensor this layer's output is. */
  tensor: string;
  /** Shape at the last run, else the one the file declares (symbolic sizes as strings), else null. */
  shape: Dim[] | null;
}

/**
 * An ONNX graph as a tinycam Module. `forward(x)` returns the first graph
 * output; `run(feeds)` takes and returns tensors by name. Every node output
 * is a hookable layer by its tensor name, and every module path that
 * PyTorch's exporter wrote into the node names is one too; `getModule`,
 * `namedModules` and `layers` list and resolve both.
 *
 * Initializers are plain tensors that do not require grad, so explaining a
 * prediction never computes weight gradients. Nodes whose inputs are all
 * constant (weights made by ConstantOfShape, shape arithmetic) are computed
 * once, at the first run, and are not hookable layers.
 *
 * The module starts in eval mode (running BatchNorm statistics, no dropout),
 * as a model exported for inference is meant to run; `train()` switches.
 */
export class GraphModule extends FlatLayersModule {
  static override readonly typeName: string = 'GraphModule';
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  readonly opset: number;
  /** Each input's declared shape (symbolic sizes such as 'batch' as strings), or null when the file gives none. */
  readonly inputShapes: Readonly<Record<string, Dim[] | null>>;
  /** Weights by initializer name (float32; integer initializers carried as float32). */
  readonly initializers: ReadonlyMap<string, Tensor>;

  readonly #inputInfo: Map<string, ValueInfo>;
  readonly #declared: Map<string, Dim[]>;
  readonly #runner: GraphRunner<number>;
  /** Graph outputs that a final Softmax / LogSoftmax produces, with the tensor it reads (the logits). */
  readonly #finalActivations: Map<string, { logits: string; activation: 'softmax' | 'logSoftmax' }>;
  /** What `layers()` reports of each entry of flatLayers (same keys, same order). */
  readonly #layerInfo: Map<string, Omit<LayerInfo, 'shape'>>;

  /** Built by loadOnnx, which has validated the graph and converted the initializers. */
  constructor(graph: GraphProto, opset: number, initializers: Map<string, DecodedTensor>) {
    super();
    this.opset = opset;
    this.initializers = new Map([...initializers].map(([k, v]) => [k, v.tensor]));
    const weights = new Map<string, GraphValue<number>>([...initializers].map(([k, v]) => [k, { tensor: v.tensor, type: v.dataType }]));
    // Old IR lists initializers among the inputs too: those are weights, not inputs.
    const inputs = graph.inputs.filter((v) => !initializers.has(v.name));
    this.inputNames = Object.freeze(inputs.map((v) => v.name));
    this.outputNames = Object.freeze(graph.outputs.map((v) => v.name));
    this.#inputInfo = new Map(inputs.map((v) => [v.name, v]));
    this.inputShapes = Object.freeze(Object.fromEntries(inputs.map((v) => [v.name, v.shape ? [...v.shape] : null])));
    this.#declared = new Map();
    for (const v of [...graph.valueInfo, ...graph.outputs, ...inputs]) if (v.shape) this.#declared.set(v.name, v.shape);

    // Constant nodes: every input is an initializer or another constant.
    const split = splitConstantNodes(graph.nodes, initializers.keys(), (node) => !NON_CONSTANT_OPS.has(node.opType));
    const { live, constantNames: constant } = split;
    const constantModules = split.constant.map((node) => {
      const label = nodeLabel(node);
      const runner = new NodeModule(node, label, ONNX_OPS[node.opType]!, opset);
      runner.training = false;
      return runner;
    });

    this.#layerInfo = new Map();
    const scopes = scopesOfNodes(live);
    const lastNodeOfScope = new Map<string, number>();
    scopes.forEach((paths, i) => paths.forEach((p) => lastNodeOfScope.set(p, i)));
    const scopeTapsAt = new Map<number, TapModule[]>();
    // Module paths first (in order of first appearance), then tensor names in graph order.
    const firstSeen: string[] = [];
    const listed = new Set<string>();
    for (const paths of scopes) {
      for (const p of paths) {
        if (listed.has(p)) continue;
        listed.add(p);
        firstSeen.push(p);
      }
    }
    for (const path of firstSeen) {
      const at = lastNodeOfScope.get(path)!;
      const node = live[at]!;
      const tap = new TapModule('scope', node.outputs[0]!, path);
      if (!scopeTapsAt.has(at)) scopeTapsAt.set(at, []);
      scopeTapsAt.get(at)!.push(tap);
      this.flatLayers.set(path, tap);
      this.#layerInfo.set(path, { name: path, kind: 'module', opType: node.opType, tensor: node.outputs[0]! });
    }
    const steps: GraphStep<number>[] = live.map((node, i) => {
      const label = nodeLabel(node);
      const op = ONNX_OPS[node.opType]!;
      const module = node.opType === 'Relu'
        ? new ReLU(node, label, op, opset)
        : isLinearGemm(node, constant)
          ? new OnnxLinear(node, label, op, opset)
          : new NodeModule(node, label, op, opset);
      const outputTaps = node.outputs.map((name, k) => (k > 0 && name ? new TapModule('output', name) : undefined));
      node.outputs.forEach((name, k) => {
        if (!name || this.flatLayers.has(name)) return;
        this.flatLayers.set(name, k === 0 ? module : outputTaps[k]!);
        this.#layerInfo.set(name, { name, kind: 'tensor', opType: node.opType, tensor: name });
      });
      // Scope taps run innermost (longest path) first: 'layer4.1' before 'layer4', as module hooks fire in PyTorch.
      const scopeTaps = (scopeTapsAt.get(i) ?? []).slice().sort((a, b) => b.path.length - a.path.length);
      return { node: module, taps: outputTaps.map((tap, k) => (k === 0 ? scopeTaps : tap ? [tap] : undefined)) };
    });
    this.#runner = new GraphRunner({
      weights,
      constants: constantModules,
      steps,
      defaultType: DataType.FLOAT,
      missingOutput: (message) => new OnnxError(message, 'E_ONNX_NODE'),
      fusions: convChains(steps, this.outputNames),
    });
    this.#finalActivations = new Map();
    for (const node of live) {
      const activation = node.opType === 'Softmax' ? 'softmax' : node.opType === 'LogSoftmax' ? 'logSoftmax' : undefined;
      const output = node.outputs[0];
      if (activation && output && this.outputNames.includes(output) && node.inputs[0]) {
        this.#finalActivations.set(output, { logits: node.inputs[0], activation });
      }
    }
    this.eval();
  }

  // ------------------------------------------------------------------ layers

  /**
   * Hookable layers: module paths, then node outputs by tensor name, with
   * shapes where known (from the last run, else as the file declares them).
   * Given an input (or feeds by name), runs the graph once without gradients
   * first, so every shape is known.
   */
  layers(input?: Tensor | Record<string, Tensor>): LayerInfo[] {
    if (input) noGrad(() => (input instanceof Tensor ? this.forward(input) : this.run(input)));
    return [...this.#layerInfo.values()].map((info) => {
      const { lastShape } = this.flatLayers.get(info.name) as NodeModule | TapModule;
      return { ...info, shape: lastShape ? [...lastShape] : (this.#declared.get(info.tensor) ?? null) };
    });
  }

  /** The final Softmax / LogSoftmax that makes a graph output, if one does (the CAM methods explain the tensor before it). */
  finalActivation(output: string): 'softmax' | 'logSoftmax' | undefined {
    return this.#finalActivations.get(output)?.activation;
  }

  /** The batch size the file declares for its first input, when it is a number. */
  override maxBatchSize(): number | undefined {
    // A graph exported with a fixed batch often hard-codes it further in (Reshape to [1, -1]).
    const first = this.inputShapes[this.inputNames[0] ?? '']?.[0];
    return typeof first === 'number' && first > 0 ? first : undefined;
  }

  // ------------------------------------------------------------- state dict

  /** The initializers by their ONNX names (sharing data), so loadStateDict can swap weights. */
  override stateDict(): StateDict {
    return Object.fromEntries(this.initializers);
  }

  /** Module's loadStateDict over the initializers; values computed from them are recomputed at the next run. */
  override loadStateDict(dict: StateDict, options: { strict?: boolean } = {}): { missing: string[]; unexpected: string[] } {
    const result = super.loadStateDict(dict, options);
    this.#runner.invalidate();
    return result;
  }

  // --------------------------------------------------------------- running

  /** The first graph output for the graph inputs, in the order of `inputNames`. */
  forward(...inputs: Tensor[]): Tensor {
    return this.run(this.#feedsOf(inputs, 'forward'), [this.outputNames[0]!])[this.outputNames[0]!]!;
  }

  /** Positional inputs as feeds by name, in the order of `inputNames`. */
  #feedsOf(inputs: readonly Tensor[], fn: string): Record<string, Tensor> {
    if (inputs.length !== this.inputNames.length) {
      throw new ArgumentError(
        `GraphModule.${fn}: got ${inputs.length} input tensor(s); the graph takes ${this.inputNames.length} (${this.inputNames.map((n) => `'${n}'`).join(', ')}); use run(feeds) to pass them by name`,
      );
    }
    const feeds: Record<string, Tensor> = {};
    this.inputNames.forEach((name, i) => (feeds[name] = inputs[i]!));
    return feeds;
  }

  /**
   * Every graph output by name, in the graph's order. An output that a final
   * Softmax or LogSoftmax produces (seven of the nine ONNX model-zoo
   * classifiers end so) comes with the tensor before it, so the CAM methods
   * explain the logits, not the probability.
   */
  override forwardOutputs(...inputs: Tensor[]): ModelOutput[] {
    const feeds = this.#feedsOf(inputs, 'forwardOutputs');
    const logitNames = [...this.#finalActivations.values()].map((f) => f.logits);
    const values = this.run(feeds, [...new Set([...this.outputNames, ...logitNames])]);
    return this.outputNames.map((name) => {
      const final = this.#finalActivations.get(name);
      const value = values[name]!;
      return final ? { name, value, logits: values[final.logits]!, activation: final.activation } : { name, value };
    });
  }

  /**
   * Run the graph on tensors by input name; returns the graph outputs by name
   * (or the tensors named in `outputs`, which may be any node outputs). When
   * nothing records a gradient, intermediate tensors not named in `outputs`
   * and seen by no hook go back to the buffer pool once read.
   */
  run(feeds: Record<string, Tensor>, outputs: readonly string[] = this.outputNames): Record<string, Tensor> {
    // One work budget per run and batch item (tensor/limits.ts): a graph cannot ask for minutes of work.
    const first = feeds[this.inputNames[0] ?? ''];
    const batch = first instanceof Tensor ? (first.shape[0] ?? 1) : 1;
    return withWorkBudget(batch, 'GraphModule.run', () => this.#run(feeds, outputs));
  }

  #run(feeds: Record<string, Tensor>, outputs: readonly string[]): Record<string, Tensor> {
    // Only `outputs` come back: the other intermediates may go to the buffer pool as the run goes (layers/graphRecycling.ts).
    const env = this.#runner.run(this.#feed(feeds), { keep: outputs });
    const out: Record<string, Tensor> = {};
    for (const name of outputs) {
      const value = env.get(name);
      if (!value) {
        const names = [...this.inputNames, ...this.#runner.names()];
        throw new ArgumentError(`GraphModule.run: no tensor named '${name}'. Closest: ${closestNames(name, names).slice(0, 5).map((n) => `'${n}'`).join(', ')}`);
      }
      out[name] = value.tensor;
    }
    return out;
  }

  /** The feeds, checked against the graph's inputs, as typed values. */
  #feed(feeds: Record<string, Tensor>): Map<string, GraphValue<number>> {
    const env = new Map<string, GraphValue<number>>();
    for (const name of Object.keys(feeds)) {
      if (!this.#inputInfo.has(name)) {
        throw new ArgumentError(
          `GraphModule.run: '${name}' is not an input of the graph; its inputs are ${this.inputNames.map((n) => `'${n}'`).join(', ')}`,
        );
      }
    }
    for (const name of this.inputNames) {
      const t = feeds[name];
      if (!(t instanceof Tensor)) {
        throw new ArgumentError(`GraphModule.run: input '${name}' is missing (expected a Tensor${this.#describe(name)})`);
      }
      const info = this.#inputInfo.get(name)!;
      if (info.shape) {
        const fits = info.shape.length === t.ndim && info.shape.every((d, i) => typeof d !== 'number' || d === t.shape[i]);
        if (!fits) {
          throw new ShapeError(
            `GraphModule.run: input '${name}' has shape ${shapeString(t.shape)} but the graph declares [${info.shape.map((d) => d ?? '?').join(', ')}]`,
          );
        }
      }
      env.set(name, { tensor: t, type: info.elemType || DataType.FLOAT });
    }
    return env;
  }

  #describe(name: string): string {
    const info = this.#inputInfo.get(name);
    if (!info) return '';
    const shape = info.shape ? ` of shape [${info.shape.map((d) => d ?? '?').join(', ')}]` : '';
    return `${shape}, ${dataTypeName(info.elemType || DataType.FLOAT).toLowerCase()}`;
  }
}
