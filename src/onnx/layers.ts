import type { GraphNode } from '../layers/graph.js';
import { RELU_MODULE, isReluModule, type ReluModule } from '../layers/reluModule.js';
import { Module } from '../layers/module.js';
import type { ChannelAffine } from '../tensor/kernels/kernels.js';
import type { ReluBackwardRule } from '../tensor/ops/activations.js';
import { Tensor } from '../tensor/tensor.js';
import type { NodeProto } from './proto.js';
import { Attributes } from './attributes.js';
import type { OpCall, OpImpl } from './ops/types.js';
import { DataType } from './tensorData.js';
import { returnsFreshOutput } from './freshOutputs.js';

/**
 * The hookable modules of an ONNX graph. Each node is a NodeModule whose
 * forward runs the op, so forward hooks see the node's inputs and output and
 * a hook's replacement flows downstream; a Relu node is a `ReLU` module, a
 * ReluModule (src/layers/activation.ts) as the layers API's ReLU.
 * Module paths (scopes) and a node's second and later outputs are identity
 * taps the executor passes tensors through.
 */
export class NodeModule extends Module implements GraphNode<number> {
  readonly node: NodeProto;
  readonly label: string;
  readonly attrs: Attributes;
  readonly #op: OpImpl;
  readonly #opset: number;
  /** Shape of the first output at the last run. */
  lastShape: readonly number[] | null = null;
  // Positional inputs of the call in progress (forward() gets only the present ones).
  #pending: { inputs: (Tensor | undefined)[]; types: number[] } | null = null;
  #extraOutputs: Tensor[] = [];
  #outputTypes: number[] = [];
  // The scale and shift a Conv's kernels apply to its output in the run in progress (executeThen).
  #then: ChannelAffine | undefined;

  constructor(node: NodeProto, label: string, op: OpImpl, opset: number) {
    super();
    this.node = node;
    this.label = label;
    this.attrs = new Attributes(node, label);
    this.#op = op;
    this.#opset = opset;
  }

  override get typeName(): string {
    return this.node.opType;
  }

  get inputs(): readonly string[] {
    return this.node.inputs;
  }

  get outputs(): readonly string[] {
    return this.node.outputs;
  }

  get description(): string {
    return `${this.node.opType} node ${this.label}`;
  }

  /**
   * Run the node: all outputs (the first one after this module's hooks) and
   * their ONNX element types.
   */
  execute(inputs: (Tensor | undefined)[], types: number[]): { outputs: Tensor[]; types: number[] } {
    this.#pending = { inputs, types };
    try {
      const present = inputs.filter((t): t is Tensor => t !== undefined);
      const first = this.forward(...present);
      this.lastShape = first.shape;
      return { outputs: [first, ...this.#extraOutputs], types: this.#outputTypes };
    } finally {
      this.#pending = null;
      this.#extraOutputs = [];
    }
  }

  /**
   * Run a Conv node whose output gets `then` (a channel scale and shift, then
   * ReLU) from the kernels before anyone sees it: the batch norm and ReLU of
   * the nodes after it (./fusion.ts, which calls this only when nothing can
   * tell the difference). Returns the node's output.
   */
  executeThen(inputs: (Tensor | undefined)[], types: number[], then: ChannelAffine): Tensor {
    this.#then = then;
    try {
      return this.execute(inputs, types).outputs[0]!;
    } finally {
      this.#then = undefined;
    }
  }

  /**
   * True for a node of the default domain whose op returns a buffer of its
   * own and keeps no reference to its inputs (./freshOutputs.ts), with one
   * output, in eval mode, and of a class whose forward is this one. The graph
   * runner may then recycle what passes through it (layers/graphRecycling.ts).
   */
  override isolatedForward(): boolean {
    const exact = this.constructor === NodeModule || this.constructor === ReLU || this.constructor === OnnxLinear;
    const domain = this.node.domain === '' || this.node.domain === 'ai.onnx';
    const outputs = this.node.outputs.filter((name) => name !== '').length;
    return exact && domain && !this.training && outputs === 1 && this.node.outputs[0] !== '' && returnsFreshOutput(this.node);
  }

  forward(...present: Tensor[]): Tensor {
    // Called directly (not through execute): the present inputs are positional.
    const pending = this.#pending ?? { inputs: present, types: present.map(() => DataType.FLOAT) };
    const call: OpCall = {
      node: this.node,
      label: this.label,
      inputs: pending.inputs,
      inputTypes: pending.types,
      attrs: this.attrs,
      opset: this.#opset,
      training: this.training,
      backwardRule: isReluModule(this) ? this.backwardRule : 'standard',
      outputTypes: [],
      ...(this.#then ? { then: this.#then } : {}),
    };
    const result = this.#op(call);
    const outputs = Array.isArray(result) ? result : [result];
    const fallbackType = pending.types[0] ?? DataType.FLOAT;
    this.#outputTypes = outputs.map((_, i) => call.outputTypes[i] ?? fallbackType);
    this.#extraOutputs = outputs.slice(1);
    return outputs[0]!;
  }
}

/** A Relu node: a ReluModule (guided backprop and deconvnet set `backwardRule`), as the layers API's ReLU. */
export class ReLU extends NodeModule implements ReluModule {
  get [RELU_MODULE](): true {
    return true;
  }
  backwardRule: ReluBackwardRule = 'standard';

  override get typeName(): string {
    return 'ReLU';
  }
}

/**
 * A Gemm node with constant weights (transA = 0, alpha = beta = 1): a
 * Linear layer as far as CAM is concerned, and listed as one.
 */
export class OnnxLinear extends NodeModule {
  override get typeName(): string {
    return 'Linear';
  }
}

/**
 * An identity module for a name that is not a node's first output: a module
 * path (its output is its last node's output) or a second output.
 */
export class TapModule extends Module {
  readonly kind: 'scope' | 'output';
  /** The tensor this tap passes. */
  readonly tensorName: string;
  /** The module path of a scope, or the tensor name of an output. */
  readonly path: string;
  lastShape: readonly number[] | null = null;

  constructor(kind: 'scope' | 'output', tensorName: string, path = tensorName) {
    super();
    this.kind = kind;
    this.tensorName = tensorName;
    this.path = path;
  }

  override get typeName(): string {
    return this.kind === 'scope' ? 'OnnxScope' : 'OnnxOutput';
  }

  forward(x: Tensor): Tensor {
    this.lastShape = x.shape;
    return x;
  }
}
