import { permute, reshape } from '../../tensor/ops/shape.js';
import { Tensor, axisIndex, shapeString } from '../../tensor/tensor.js';
import { TfjsError } from '../errors.js';
import type { Layout } from '../layout.js';
import type { Attrs } from './attrs.js';

/**
 * What the graph-model ops share. A value is a tensor with its TensorFlow
 * dtype (ints and bools are carried as float32) and whether it is held
 * channels-first: inside an NHWC graph every 4-D activation is stored
 * [N, C, H, W] (as in layers models, see Layout), so convolutions, pooling
 * and resizing run without transposes and hooks see [N, C, h, w]. Weights
 * and shape arithmetic stay as TensorFlow holds them. An op that needs the
 * TensorFlow layout asks for `canonical`, one that computes in NCHW for `nchw`.
 */

export type TfDtype = 'float32' | 'int32' | 'bool';

/** How a value is held: its dtype, and whether a 4-D tensor is stored channels-first (permuted from NHWC). */
export interface TfType {
  dtype: TfDtype;
  permuted: boolean;
}

export interface TfValue {
  tensor: Tensor;
  type: TfType;
}

/** A node of the GraphDef, as model.json holds it. */
export interface NodeDef {
  name: string;
  op: string;
  /** Data inputs: 'node' or 'node:k' (control inputs '^node' are dropped at load). */
  inputs: string[];
  attrs: Attrs;
}

export interface OpCall {
  node: NodeDef;
  inputs: TfValue[];
  layout: Layout;
}

/** An op: the node's outputs. */
export type TfOp = (call: OpCall) => TfValue | TfValue[];

export function opError(call: OpCall, message: string): TfjsError {
  return new TfjsError(`${call.node.op} node '${call.node.name}': ${message}`);
}

/** tensor's axisIndex (negative counts from the end), with the error naming the node. */
export function axisFor(call: OpCall, axis: number, rank: number): number {
  const a = axisIndex(axis, rank);
  if (a === undefined) throw opError(call, `axis ${axis} is out of range for a tensor of rank ${rank} (accepted: ${-rank} to ${rank - 1})`);
  return a;
}

export function input(call: OpCall, index: number): TfValue {
  const v = call.inputs[index];
  if (!v) throw opError(call, `input ${index} is missing (the node has ${call.inputs.length})`);
  return v;
}

export const float = (tensor: Tensor, permuted = false): TfValue => ({ tensor, type: { dtype: 'float32', permuted } });
export const int = (tensor: Tensor): TfValue => ({ tensor, type: { dtype: 'int32', permuted: false } });

/** The value as TensorFlow holds it (NHWC for a 4-D activation of an NHWC graph). */
export function canonical(v: TfValue): Tensor {
  return v.type.permuted ? permute(v.tensor, [0, 2, 3, 1]) : v.tensor;
}

/** A 4-D value as [N, C, H, W] for an op whose data_format is `format`. */
export function nchw(call: OpCall, v: TfValue, format: string): Tensor {
  if (v.tensor.ndim !== 4) throw opError(call, `expects a 4-D input; got shape ${shapeString(v.tensor.shape)}`);
  if (format === 'NCHW') return canonical(v);
  return v.type.permuted ? v.tensor : permute(v.tensor, [0, 3, 1, 2]);
}

/** An op's [N, C, H, W] result as a value: stored channels-first for an NHWC op, as is for an NCHW one. */
export function fromNchw(y: Tensor, format: string): TfValue {
  return format === 'NCHW' ? float(y) : float(y, true);
}

/** The values of a small int tensor (a shape, axes, paddings). */
export function ints(call: OpCall, index: number): number[] {
  return Array.from(input(call, index).tensor.data, (v) => Math.round(v));
}

/**
 * Values combined elementwise: when a 4-D operand is stored channels-first,
 * the others are brought to that storage (a lower-rank operand broadcasts
 * against NHWC's trailing axes, so it is first given leading 1s); otherwise
 * everything is canonical.
 */
export function aligned(values: TfValue[]): { tensors: Tensor[]; permuted: boolean } {
  const permuted = values.some((v) => v.type.permuted);
  if (!permuted) return { tensors: values.map((v) => v.tensor), permuted: false };
  if (values.some((v) => v.tensor.ndim > 4)) return { tensors: values.map(canonical), permuted: false };
  const tensors = values.map((v) => {
    if (v.type.permuted) return v.tensor;
    let t = v.tensor;
    if (t.ndim < 4) t = reshape(t, [...new Array<number>(4 - t.ndim).fill(1), ...t.shape]);
    return permute(t, [0, 3, 1, 2]);
  });
  return { tensors, permuted: true };
}

/** A constant Float32 tensor from numbers. */
export function constant(values: readonly number[], shape: readonly number[] = [values.length]): Tensor {
  return new Tensor(Float32Array.from(values), shape);
}
