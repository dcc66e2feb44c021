import type { ChannelAffine } from '../../tensor/kernels/kernels.js';
import type { ReluBackwardRule } from '../../tensor/ops/activations.js';
import { Tensor, axisIndex } from '../../tensor/tensor.js';
import type { Attributes } from '../attributes.js';
import { OnnxError } from '../errors.js';
import type { NodeProto } from '../proto.js';
import { DataType } from '../tensorData.js';

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
  readonly backwardRule: ReluBackwardRule;
  /**
   * Conv only: a channel scale and shift (then ReLU) for the kernels to apply
   * to the convolution's output before anyone sees it: the batch norm (and
   * ReLU) of the nodes after it, set by their fusion (src/onnx/fusion.ts).
   */
  readonly then?: ChannelAffine;
  /** Element type of each output; ops that change it (Shape, Cast…) set it, the default is input 0's type. */
  outputTypes: number[];
}

/** An op: computes the node's outputs (one tensor, or several). */
export type OpImpl = (call: OpCall) => Tensor | Tensor[];

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

/** tensor's axisIndex, with the error naming the node. */
export function normalizeAxisFor(call: OpCall, axis: number, rank: number): number {
  const a = axisIndex(axis, rank);
  if (a === undefined) {
    throw nodeError(call, `axis ${axis} is out of range for a tensor of rank ${rank} (accepted: ${-rank} to ${rank - 1})`);
  }
  return a;
}

export { DataType };
export { Attributes, attributesOf } from '../attributes.js';
