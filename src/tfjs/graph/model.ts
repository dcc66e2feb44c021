import { GraphRunner, splitConstantNodes, type GraphNode, type GraphValue } from '../../layers/graph.js';
import { closestNames } from '../../layers/names.js';
import { FlatLayersModule } from '../../layers/flatLayers.js';
import { Module, type ModelOutput } from '../../layers/module.js';
import { ArgumentError, ShapeError } from '../../tensor/errors.js';
import { permute } from '../../tensor/ops/shape.js';
import { Tensor, shapeString } from '../../tensor/tensor.js';
import { TfjsError, TfjsUnsupportedError, type UnsupportedClass } from '../errors.js';
import { array, isObject, object, string, type JsonObject } from '../json.js';
import { Layout } from '../layout.js';
import type { TfjsLayerInfo } from '../layers-model.js';
import type { Weight } from '../weights.js';
import { Attrs } from './attrs.js';
import { GRAPH_OPS, SOURCE_OPS, supportedOps, unsupportedOpForm } from './ops/index.js';
import { returnsFreshOutput } from './freshOutputs.js';
import type { NodeDef, TfDtype, TfType, TfValue } from './types.js';

/**
 * A TensorFlow.js graph model (format 'graph-model': a GraphDef as
 * tensorflowjs_converter writes it) on the shared graph runner. Every node
 * that depends on an input is a hookable layer by its node name; nodes that
 * depend on weights only are folded once. As in layers models, 4-D
 * activations of an NHWC graph are held [N, C, H, W] (hooks see that), and
 * inputs and outputs keep the graph's own layout.
 */

const DTYPES: Record<string, TfDtype> = { DT_FLOAT: 'float32', DT_INT32: 'int32', DT_BOOL: 'bool', DT_INT64: 'int32' };

/** 'node' and 'node:k' -> the runner's tensor name 'node:k'. */
function tensorName(ref: string): string {
  return /:\d+$/.test(ref) ? ref : `${ref}:0`;
}

const nodeOf = (ref: string): string => ref.replace(/:\d+$/, '');

/** The hookable module of one node: its output (stored layout) passes through it. */
export class GraphLayer extends Module {
  readonly nodeName: string;
  readonly op: string;
  /** The output's shape in the graph's layout at the last run. */
  lastShape: readonly number[] | null = null;

  constructor(nodeName: string, op: string) {
    super();
    this.nodeName = nodeName;
    this.op = op;
  }

  override get typeName(): string {
    return this.op;
  }

  forward(x: Tensor): Tensor {
    return x;
  }
}

/**
 * A node in the runner: its op, and (for a live node) its layer, which a 4-D
 * activation reaches channels-first. A Module (never exposed, so never
 * hooked itself) only so that the runner can ask whether it is sealed: its
 * layer is its child, and a hook on the layer unseals it.
 */
class GraphOpNode extends Module implements GraphNode<TfType> {
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly description: string;
  readonly def: NodeDef;
  readonly layer: GraphLayer | null;
  readonly #layout: Layout;
  readonly #run: (inputs: TfValue[]) => TfValue[];

  constructor(def: NodeDef, inputs: string[], layout: Layout, layer: GraphLayer | null, run: (inputs: TfValue[]) => TfValue[]) {
    super();
    this.def = def;
    this.inputs = inputs;
    this.outputs = [`${def.name}:0`];
    this.description = `${def.op} node '${def.name}'`;
    this.layer = layer;
    this.#layout = layout;
    this.#run = run;
  }

  /**
   * True for a live node whose op returns a buffer of its own and keeps no
   * reference to its inputs (./freshOutputs.ts), with one output, its layer
   * a stock GraphLayer (an identity) with no hook and in eval mode (the
   * model's train() reaches the layer, not this node), and of this exact
   * class. The graph runner may then recycle what passes through it
   * (layers/graphRecycling.ts).
   */
  override isolatedForward(): boolean {
    const layer = this.layer;
    if (this.constructor !== GraphOpNode || !layer || layer.constructor !== GraphLayer) return false;
    return layer.hookCount() === 0 && !layer.training && this.outputs.length === 1 && returnsFreshOutput(this.def.op);
  }

  /** The node's first output on float32 inputs in the graph's layout (the runner calls `execute`). */
  forward(...inputs: Tensor[]): Tensor {
    return this.execute(inputs, inputs.map(() => ({ dtype: 'float32', permuted: false }))).outputs[0]!;
  }

  execute(inputs: (Tensor | undefined)[], types: TfType[]): { outputs: (Tensor | undefined)[]; types: TfType[] } {
    const values = inputs.map((tensor, i) => ({ tensor: tensor!, type: types[i]! }));
    const results = this.#run(values);
    const first = results[0];
    if (first && this.layer) {
      // Hooks see a 4-D activation channels-first, as in layers models.
      if (!first.type.permuted && first.type.dtype === 'float32' && this.#layout.permuted(first.tensor.ndim)) {
        results[0] = { tensor: permute(first.tensor, [0, 3, 1, 2]), type: { ...first.type, permuted: true } };
      }
      const out = results[0]!;
      results[0] = { tensor: this.layer.forward(out.tensor), type: out.type };
      this.layer.lastShape = out.type.permuted ? this.#layout.modelShape(out.tensor.shape) : out.tensor.shape;
    }
    return { outputs: results.map((r) => r.tensor), types: results.map((r) => r.type) };
  }
}

interface Signature {
  inputs: string[];
  outputs: string[];
}

function readNodes(topology: JsonObject): NodeDef[] {
  const names = new Set<string>();
  return array(topology.node, 'modelTopology.node').map((value, i) => {
    const where = `modelTopology.node[${i}]`;
    const node = object(value, where);
    const name = string(node.name, `${where}.name`);
    const op = string(node.op, `${where}.op`);
    if (names.has(name)) throw new TfjsError(`loadTfjsModel: two nodes are named '${name}' (the second is ${where})`);
    names.add(name);
    const inputs = node.input === undefined ? [] : array(node.input, `${where}.input`).map((s, k) => string(s, `${where}.input[${k}]`));
    return { name, op, inputs: inputs.filter((s) => !s.startsWith('^')), attrs: new Attrs(node.attr, `${op} node '${name}'`) };
  });
}

/** The signature's input and output tensor names, when model.json has one. */
function readSignature(root: JsonObject): Signature | null {
  const meta = isObject(root.userDefinedMetadata) ? root.userDefinedMetadata : null;
  const topology = isObject(root.modelTopology) ? root.modelTopology : null;
  const signature = (meta && isObject(meta.signature) ? meta.signature : null) ?? (topology && isObject(topology.signature) ? topology.signature : null);
  if (!signature) return null;
  const names = (v: unknown) => (isObject(v) ? Object.values(v).map((e) => (isObject(e) && typeof e.name === 'string' ? e.name : '')).filter(Boolean) : []);
  const inputs = names(signature.inputs);
  const outputs = names(signature.outputs);
  return inputs.length && outputs.length ? { inputs, outputs } : null;
}

/** Declared placeholder shape (null for -1 / unknown). */
function placeholderShape(raw: unknown): (number | null)[] | null {
  const attr = isObject(raw) ? raw : {};
  const shape = isObject(attr.shape) && isObject(attr.shape.shape) ? attr.shape.shape : null;
  if (!shape || !Array.isArray(shape.dim)) return null;
  return shape.dim.map((d) => {
    const size = isObject(d) ? Number(d.size) : NaN;
    return Number.isInteger(size) && size >= 0 ? size : null;
  });
}

/** The graph's nodes, every op checked: what loadTfjsModel does before it reads any weight. */
export function checkGraph(root: JsonObject): NodeDef[] {
  const nodes = readNodes(object(root.modelTopology, 'modelTopology'));
  checkOps(nodes);
  return nodes;
}

/** Every op tinycam does not run (or not in the form used), listed at once. */
function checkOps(nodes: readonly NodeDef[]): void {
  const unsupported = new Map<string, UnsupportedClass>();
  for (const node of nodes) {
    const known = SOURCE_OPS.has(node.op) || Object.hasOwn(GRAPH_OPS, node.op);
    const detail = known ? unsupportedOpForm(node) : null;
    if (known && !detail) continue;
    const key = `${node.op}|${detail ?? ''}`;
    if (!unsupported.has(key)) unsupported.set(key, { name: node.op, users: [], ...(detail ? { detail } : {}) });
    unsupported.get(key)!.users.push(node.name);
  }
  if (unsupported.size) throw new TfjsUnsupportedError('op', [...unsupported.values()], supportedOps());
}

/** Nodes in an order where each input is made before it is read (GraphDef does not promise one). */
function topological(nodes: readonly NodeDef[]): NodeDef[] {
  const byName = new Map(nodes.map((n) => [n.name, n]));
  for (const node of nodes) {
    for (const ref of node.inputs) {
      if (!byName.has(nodeOf(ref))) throw new TfjsError(`loadTfjsModel: ${node.op} node '${node.name}' reads '${ref}', which no node of the graph makes`);
    }
  }
  const order: NodeDef[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (node: NodeDef): void => {
    const s = state.get(node.name);
    if (s === 'done') return;
    if (s === 'visiting') throw new TfjsError(`loadTfjsModel: the graph has a cycle through node '${node.name}'`);
    state.set(node.name, 'visiting');
    for (const ref of node.inputs) visit(byName.get(nodeOf(ref))!);
    state.set(node.name, 'done');
    order.push(node);
  };
  for (const node of nodes) visit(node);
  return order;
}

export class TfjsGraphModel extends FlatLayersModule {
  readonly format = 'graph-model';
  /** Input tensor names ('input:0'), in the order `forward` takes them. */
  readonly inputNames: readonly string[];
  /** Output tensor names ('Identity:0'). */
  readonly outputNames: readonly string[];
  /** Each input's declared shape in the graph's layout (null: any size). */
  readonly inputShapes: readonly ((number | null)[] | null)[];
  override readonly inputLayout: 'NCHW' | 'NHWC' | undefined;
  readonly layout: Layout;

  readonly #runner: GraphRunner<TfType>;
  /** Graph outputs a final Softmax makes (through Identity nodes), with the tensor it reads. */
  readonly #finalSoftmax: Map<string, string>;

  /** Built by loadTfjsModel from model.json and its weights. */
  constructor(root: JsonObject, weights: ReadonlyMap<string, Weight>) {
    super();
    const topology = object(root.modelTopology, 'modelTopology');
    const rawNodes = array(topology.node, 'modelTopology.node');
    const nodes = checkGraph(root);
    const ordered = topological(nodes);
    const formats = nodes.map((n) => n.attrs.string('data_format', '')).filter(Boolean);
    this.layout = new Layout(!(formats.length > 0 && formats.every((f) => f === 'NCHW')));
    const layout = this.layout;

    // Inputs and outputs: the signature's, else every Placeholder and every node nothing reads.
    const signature = readSignature(root);
    const placeholders = ordered.filter((n) => n.op === 'Placeholder');
    const read = new Set(nodes.flatMap((n) => n.inputs.map(tensorName)));
    this.inputNames = Object.freeze(signature ? signature.inputs.map(tensorName) : placeholders.map((n) => `${n.name}:0`));
    this.outputNames = Object.freeze(
      signature ? signature.outputs.map(tensorName) : ordered.filter((n) => !SOURCE_OPS.has(n.op) && !read.has(`${n.name}:0`)).map((n) => `${n.name}:0`),
    );
    const byName = new Map(nodes.map((n) => [n.name, n]));
    for (const name of [...this.inputNames, ...this.outputNames]) {
      if (!byName.has(nodeOf(name))) throw new TfjsError(`loadTfjsModel: the signature names '${name}', which no node of the graph makes`);
    }
    for (const name of this.inputNames) {
      if (byName.get(nodeOf(name))!.op !== 'Placeholder') throw new TfjsError(`loadTfjsModel: the signature's input '${name}' is a ${byName.get(nodeOf(name))!.op}, not a Placeholder`);
    }
    const rawByName = new Map(rawNodes.map((r) => [isObject(r) ? r.name : undefined, r]));
    this.inputShapes = Object.freeze(this.inputNames.map((n) => placeholderShape((rawByName.get(nodeOf(n)) as JsonObject | undefined)?.attr)));
    this.inputLayout = this.inputShapes[0]?.length === 4 ? (layout.channelsLast ? 'NHWC' : 'NCHW') : undefined;

    // Weights: every Const's value comes from the manifest by node name.
    const weightValues = new Map<string, GraphValue<TfType>>();
    for (const node of ordered.filter((n) => n.op === 'Const')) {
      const w = weights.get(node.name);
      if (!w) {
        throw new TfjsError(`loadTfjsModel: Const node '${node.name}' has no value in the weights manifest (it lists ${weights.size} weights)`, 'E_TFJS_WEIGHTS');
      }
      const declared = node.attrs.type('dtype');
      if (declared && DTYPES[declared] && DTYPES[declared] !== w.dtype && !(declared === 'DT_INT64' && w.dtype === 'int32')) {
        throw new TfjsError(`loadTfjsModel: Const node '${node.name}' is ${declared} but the manifest stores it as ${w.dtype}`, 'E_TFJS_WEIGHTS');
      }
      weightValues.set(`${node.name}:0`, { tensor: w.tensor, type: { dtype: w.dtype, permuted: false } });
    }

    // Nodes whose inputs are weights only are folded once; the rest run every time and are layers.
    const computations = ordered.filter((n) => !SOURCE_OPS.has(n.op));
    const split = splitConstantNodes(
      computations.map((def) => ({ def, inputs: def.inputs.map(tensorName), outputs: [`${def.name}:0`] })),
      weightValues.keys(),
    );
    const runOp = (def: NodeDef) => (inputs: TfValue[]): TfValue[] => {
      const result = GRAPH_OPS[def.op]!({ node: def, inputs, layout });
      return Array.isArray(result) ? result : [result];
    };
    const constants = split.constant.map(({ def, inputs }) => new GraphOpNode(def, inputs, layout, null, runOp(def)));
    const steps = [];
    for (const name of this.inputNames) {
      const def = byName.get(nodeOf(name))!;
      const layer = new GraphLayer(def.name, def.op);
      this.flatLayers.set(def.name, layer);
      steps.push({ node: new GraphOpNode(def, [`${def.name}:feed`], layout, layer, ([x]) => [x!]) });
    }
    for (const { def, inputs } of split.live) {
      const layer = new GraphLayer(def.name, def.op);
      this.flatLayers.set(def.name, layer);
      steps.push({ node: new GraphOpNode(def, inputs, layout, layer, runOp(def)) });
    }
    this.#runner = new GraphRunner<TfType>({
      weights: weightValues,
      constants,
      steps,
      defaultType: { dtype: 'float32', permuted: false },
      missingOutput: (message) => new TfjsError(message),
    });

    this.#finalSoftmax = new Map();
    for (const output of this.outputNames) {
      let node = byName.get(nodeOf(output));
      while (node && node.op === 'Identity' && node.inputs[0]) node = byName.get(nodeOf(node.inputs[0]));
      if (node?.op === 'Softmax' && node.inputs[0]) this.#finalSoftmax.set(output, tensorName(node.inputs[0]));
    }
    this.eval();
  }

  // ------------------------------------------------------------------ layers

  /** Every hookable node by name, with its op and its output shape at the last run (graph layout). */
  layers(): TfjsLayerInfo[] {
    return [...this.flatLayers].map(([name, m]) => {
      const layer = m as GraphLayer;
      return { name, className: layer.op, shape: layer.lastShape ? [...layer.lastShape] : null };
    });
  }

  override maxBatchSize(): number | undefined {
    const n = this.inputShapes[0]?.[0];
    return typeof n === 'number' && n > 0 ? n : undefined;
  }

  // ----------------------------------------------------------------- running

  forward(...inputs: Tensor[]): Tensor {
    return this.run(inputs)[this.outputNames[0]!]!;
  }

  /** The graph outputs by name (or the tensors named in `outputs`, any node's), in the graph's layout. */
  run(inputs: readonly Tensor[], outputs: readonly string[] = this.outputNames): Record<string, Tensor> {
    const env = this.#execute(inputs, 'run', outputs.map(tensorName));
    const out: Record<string, Tensor> = {};
    for (const name of outputs) out[name] = this.#take(env, tensorName(name));
    return out;
  }

  /** Every output by name; one that a final Softmax makes comes with the tensor before it as `logits`. */
  override forwardOutputs(...inputs: Tensor[]): ModelOutput[] {
    const env = this.#execute(inputs, 'forwardOutputs', [...this.outputNames, ...this.#finalSoftmax.values()]);
    return this.outputNames.map((name) => {
      const value = this.#take(env, name);
      const logits = this.#finalSoftmax.get(name);
      return logits ? { name, value, logits: this.#take(env, logits), activation: 'softmax' as const } : { name, value };
    });
  }

  #take(env: Map<string, GraphValue<TfType>>, name: string): Tensor {
    const v = env.get(name);
    if (!v) {
      // The run returned the kept names only: the closest come from every name a run holds.
      const names = [...this.inputNames.map((n) => `${nodeOf(n)}:feed`), ...this.#runner.names()];
      throw new ArgumentError(`TfjsGraphModel.run: no tensor named '${name}'. Closest: ${closestNames(name, names).slice(0, 5).map((n) => `'${n}'`).join(', ')}`);
    }
    return v.type.permuted ? permute(v.tensor, [0, 2, 3, 1]) : v.tensor;
  }

  /** Run the graph on `inputs`; returns the tensors named in `keep` (the rest may go back to the buffer pool). */
  #execute(inputs: readonly Tensor[], fn: string, keep: readonly string[]): Map<string, GraphValue<TfType>> {
    if (inputs.length !== this.inputNames.length) {
      throw new ArgumentError(`TfjsGraphModel.${fn}: got ${inputs.length} input tensor(s); the graph takes ${this.inputNames.length} (${this.inputNames.map((n) => `'${n}'`).join(', ')})`);
    }
    const feeds: [string, GraphValue<TfType>][] = inputs.map((x, i) => {
      const declared = this.inputShapes[i];
      if (!(x instanceof Tensor)) throw new ArgumentError(`TfjsGraphModel.${fn}: input ${i} is not a Tensor`);
      if (declared && !(x.ndim === declared.length && declared.every((d, k) => d === null || d === x.shape[k]))) {
        const layout = this.inputLayout === 'NHWC' ? ' (NHWC: a TensorFlow.js model takes channels last, see toChannelsLast)' : '';
        throw new ShapeError(`TfjsGraphModel.${fn}: input '${this.inputNames[i]}' has shape ${shapeString(x.shape)} but the graph declares [${declared.map((d) => d ?? '?').join(', ')}]${layout}`);
      }
      return [`${nodeOf(this.inputNames[i]!)}:feed`, { tensor: x, type: { dtype: 'float32', permuted: false } }];
    });
    return this.#runner.run(feeds, { keep });
  }
}
