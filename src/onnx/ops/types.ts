import type { ReluBackwardRule } from '../../tensor/ops/activations.js';
import { Tensor } from '../../tensor/tensor.js';
import { OnnxError } from '../errors.js';
import { AttributeType, type AttributeProto, type NodeProto } from '../proto.js';
import { DataType, tensorFromProto, type DecodedTensor } from '../tensorData.js';

/** One call of an op: its inputs (undefined where an optional input is absent) and everything it may read. */
export interface OpCall {
  readonly node: NodeProto;
  /** The node's name for messages: its name, or its first output when unnamed. */
  readonly label: string;
  readonly inputs: readonly (Tensor | undefined)[];
  /** ONNX element type of each input (integers are carried as float32). */
  readonly inputTypes: readonly number[];
  readonly attrs: Attributes;
  /** Version of the default-domain opset the model imports. */
  readonly opset: number;
  readonly training: boolean;
  /** Relu only: the rule guided backprop sets on the node's ReLU module. */
  readonly reluBackward: ReluBackwardRule;
  /** Element type of each output; ops that change it (Shape, Cast…) set it, the default is input 0's type. */
  outputTypes: number[];
}

/** An op: computes the node's outputs (one tensor, or several). */
export type OpImpl = (call: OpCall) => Tensor | Tensor[];

/** The node's attributes, read with ONNX's defaults. */
export class Attributes {
  readonly #byName = new Map<string, AttributeProto>();
  readonly #label: string;

  constructor(node: NodeProto, label: string) {
    for (const a of node.attributes) this.#byName.set(a.name, a);
    this.#label = label;
  }

  has(name: string): boolean {
    return this.#byName.has(name);
  }

  #get(name: string, types: readonly number[]): AttributeProto | undefined {
    const a = this.#byName.get(name);
    if (a && a.type !== 0 && !types.includes(a.type)) {
      throw new OnnxError(`loadOnnx: node ${this.#label}: attribute '${name}' has type ${a.type}, expected ${types.join(' or ')}`);
    }
    return a;
  }

  int(name: string, fallback: number): number {
    const a = this.#get(name, [AttributeType.INT]);
    return a ? a.i : fallback;
  }

  float(name: string, fallback: number): number {
    const a = this.#get(name, [AttributeType.FLOAT]);
    return a ? a.f : fallback;
  }

  string(name: string, fallback: string): string {
    const a = this.#get(name, [AttributeType.STRING]);
    return a && a.s ? utf8.decode(a.s) : fallback;
  }

  ints(name: string): number[] | undefined {
    const a = this.#get(name, [AttributeType.INTS]);
    return a ? a.ints : undefined;
  }

  floats(name: string): number[] | undefined {
    const a = this.#get(name, [AttributeType.FLOATS]);
    return a ? a.floats : undefined;
  }

  tensor(name: string): DecodedTensor | undefined {
    const a = this.#get(name, [AttributeType.TENSOR]);
    return a && a.t ? tensorFromProto(a.t) : undefined;
  }
}

const utf8 = new TextDecoder();

/** An error raised while running a node, naming it. */
export function nodeError(call: OpCall, what: string): OnnxError {
  return new OnnxError(`${call.node.opType} node ${call.label}: ${what}`, 'E_ONNX_NODE');
}

/** Input i, which the op requires. */
export function input(call: OpCall, i: number): Tensor {
  const t = call.inputs[i];
  if (!t) throw nodeError(call, `input ${i} is required but absent`);
  return t;
}

/** The values of a small integer tensor (shape, axes, pads, indices) as JS numbers. */
export function intValues(t: Tensor): number[] {
  const out = new Array<number>(t.size);
  for (let i = 0; i < t.size; i++) out[i] = Math.trunc(t.data[i]!);
  return out;
}

/** Axes from the attribute (older opsets) or from input `index` (newer ones); undefined when neither is given. */
export function axesFrom(call: OpCall, index: number): number[] | undefined {
  const attr = call.attrs.ints('axes');
  if (attr) return attr;
  const t = call.inputs[index];
  return t ? intValues(t) : undefined;
}

export function normalizeAxisFor(call: OpCall, axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= rank) {
    throw nodeError(call, `axis ${axis} is out of range for a tensor of rank ${rank} (accepted: ${-rank} to ${rank - 1})`);
  }
  return a;
}

export { DataType };
