/**
 * A small ONNX writer for tests: builds model bytes by hand with onnx.proto's
 * field numbers, independent of the importer's decoder, so tests can make
 * graphs that exercise one op or one old attribute form at a time.
 */

import { randn } from '../src/tensor/random.js';

type Bytes = number[];

const FLOAT = 1;
const INT64 = 7;

function varint(value: number | bigint): Bytes {
  // int64 on the wire: two's complement in 64 bits, 7 bits per byte.
  let v = BigInt.asUintN(64, BigInt(value));
  const out: Bytes = [];
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v) byte |= 0x80;
    out.push(byte);
  } while (v);
  return out;
}

const tag = (field: number, wire: number): Bytes => varint((field << 3) | wire);
const lengthDelimited = (field: number, payload: Bytes): Bytes => [...tag(field, 2), ...varint(payload.length), ...payload];
const text = (s: string): Bytes => [...new TextEncoder().encode(s)];
const stringField = (field: number, s: string): Bytes => lengthDelimited(field, text(s));
const varintField = (field: number, v: number | bigint): Bytes => [...tag(field, 0), ...varint(v)];

function float32Bytes(values: readonly number[]): Bytes {
  const b = new Uint8Array(4 * values.length);
  const view = new DataView(b.buffer);
  values.forEach((v, i) => view.setFloat32(4 * i, v, true));
  return [...b];
}

/** A float initializer of random normal values (tinycam's seeded generator). */
export function randomWeight(name: string, dims: number[], seed: number, std = 0.3): TensorSpec {
  return { name, dims, floats: Array.from(randn(dims, { seed, std }).data) };
}

export interface TensorSpec {
  name?: string;
  dims: number[];
  /** Float values, written as float_data (or raw_data with `raw`). */
  floats?: number[];
  /** int64 values, written as int64_data. */
  ints?: (number | bigint)[];
  raw?: boolean;
  dataType?: number;
  /** Offsets and lengths are written as given; a string writes a malformed one ('0x0'). */
  external?: { location: string; offset?: number | string; length?: number | string };
}

export function tensorProto(t: TensorSpec): Bytes {
  const out: Bytes = [];
  if (t.dims.length) out.push(...lengthDelimited(1, t.dims.flatMap((d) => varint(d))));
  const dataType = t.dataType ?? (t.ints ? INT64 : FLOAT);
  out.push(...varintField(2, dataType));
  if (t.name) out.push(...stringField(8, t.name));
  if (t.external) {
    const entry = (k: string, v: string): Bytes => lengthDelimited(13, [...stringField(1, k), ...stringField(2, v)]);
    out.push(...entry('location', t.external.location));
    if (t.external.offset !== undefined) out.push(...entry('offset', String(t.external.offset)));
    if (t.external.length !== undefined) out.push(...entry('length', String(t.external.length)));
    out.push(...varintField(14, 1));
  } else if (t.floats && t.raw) {
    out.push(...lengthDelimited(9, float32Bytes(t.floats)));
  } else if (t.floats) {
    out.push(...lengthDelimited(4, float32Bytes(t.floats)));
  } else if (t.ints) {
    out.push(...lengthDelimited(7, t.ints.flatMap((v) => varint(v))));
  }
  return out;
}

export type AttrValue =
  | { i: number | bigint }
  | { f: number }
  | { s: string }
  | { ints: (number | bigint)[] }
  | { floats: number[] }
  | { t: TensorSpec }
  | { g: SubgraphSpec };

/** A subgraph attribute (If's branches): nodes, outputs, optional initializers. */
export interface SubgraphSpec {
  nodes: NodeSpec[];
  outputs: ValueSpec[];
  initializers?: TensorSpec[];
}

function attribute(name: string, value: AttrValue): Bytes {
  const out: Bytes = [...stringField(1, name)];
  if ('i' in value) out.push(...varintField(20, 2), ...varintField(3, value.i));
  else if ('f' in value) out.push(...varintField(20, 1), ...tag(2, 5), ...float32Bytes([value.f]));
  else if ('s' in value) out.push(...varintField(20, 3), ...stringField(4, value.s));
  else if ('ints' in value) out.push(...varintField(20, 7), ...lengthDelimited(8, value.ints.flatMap((v) => varint(v))));
  else if ('floats' in value) out.push(...varintField(20, 6), ...lengthDelimited(7, float32Bytes(value.floats)));
  else if ('t' in value) out.push(...varintField(20, 4), ...lengthDelimited(5, tensorProto(value.t)));
  else out.push(...varintField(20, 5), ...lengthDelimited(6, graphBytes({ ...value.g, inputs: [] })));
  return out;
}

export interface NodeSpec {
  op: string;
  inputs: string[];
  outputs: string[];
  name?: string;
  domain?: string;
  attrs?: Record<string, AttrValue>;
}

function nodeProto(n: NodeSpec): Bytes {
  const out: Bytes = [];
  for (const i of n.inputs) out.push(...stringField(1, i));
  for (const o of n.outputs) out.push(...stringField(2, o));
  if (n.name) out.push(...stringField(3, n.name));
  out.push(...stringField(4, n.op));
  for (const [k, v] of Object.entries(n.attrs ?? {})) out.push(...lengthDelimited(5, attribute(k, v)));
  if (n.domain) out.push(...stringField(7, n.domain));
  return out;
}

export interface ValueSpec {
  name: string;
  /** Sizes; a string is a symbolic dimension. Omit for no shape. */
  dims?: (number | string)[];
  elemType?: number;
}

function valueInfo(v: ValueSpec): Bytes {
  const tensorType: Bytes = [...varintField(1, v.elemType ?? FLOAT)];
  if (v.dims) {
    const dims = v.dims.flatMap((d) => lengthDelimited(1, typeof d === 'number' ? varintField(1, d) : stringField(2, d)));
    tensorType.push(...lengthDelimited(2, dims));
  }
  return [...stringField(1, v.name), ...lengthDelimited(2, lengthDelimited(1, tensorType))];
}

export interface ModelSpec {
  opset: number;
  nodes: NodeSpec[];
  inputs: ValueSpec[];
  outputs: ValueSpec[];
  initializers?: TensorSpec[];
  irVersion?: number;
}

function graphBytes(m: Omit<ModelSpec, 'opset'>): Bytes {
  const graph: Bytes = [];
  for (const n of m.nodes) graph.push(...lengthDelimited(1, nodeProto(n)));
  graph.push(...stringField(2, 'test'));
  for (const t of m.initializers ?? []) graph.push(...lengthDelimited(5, tensorProto(t)));
  for (const v of m.inputs) graph.push(...lengthDelimited(11, valueInfo(v)));
  for (const v of m.outputs) graph.push(...lengthDelimited(12, valueInfo(v)));
  return graph;
}

export function onnxModel(m: ModelSpec): Uint8Array {
  const graph = graphBytes(m);
  const model: Bytes = [
    ...varintField(1, m.irVersion ?? 7),
    ...stringField(2, 'tinycam-test'),
    ...lengthDelimited(7, graph),
    ...lengthDelimited(8, [...stringField(1, ''), ...varintField(2, m.opset)]),
  ];
  return Uint8Array.from(model);
}

/** One node graph: inputs x0, x1, … (float), output y. */
export function singleOp(
  op: string,
  opset: number,
  inputs: ValueSpec[],
  attrs: Record<string, AttrValue> = {},
  initializers: TensorSpec[] = [],
  nodeInputs?: string[],
): Uint8Array {
  return onnxModel({
    opset,
    nodes: [{ op, inputs: nodeInputs ?? [...inputs.map((v) => v.name), ...initializers.map((t) => t.name!)], outputs: ['y'], name: `/${op}`, attrs }],
    inputs,
    outputs: [{ name: 'y' }],
    initializers,
  });
}

export { varint as encodeVarint };
