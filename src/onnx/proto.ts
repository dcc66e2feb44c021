import { ProtoReader, WireType } from './wire.js';

/**
 * The ONNX messages the importer needs, decoded from the wire format with
 * onnx.proto's field numbers (github.com/onnx/onnx/blob/main/onnx/onnx.proto).
 * Fields we do not use are skipped.
 */

export interface OperatorSetId {
  domain: string;
  version: number;
}

export interface ExternalDataRef {
  location: string;
  offset: number;
  /** -1 when absent: the rest of the file. */
  length: number;
}

export interface TensorProto {
  name: string;
  dims: number[];
  dataType: number;
  /** Views into the file (raw_data), or null. */
  rawData: Uint8Array | null;
  floatData: number[];
  int32Data: number[];
  int64Data: number[];
  doubleData: number[];
  uint64Data: number[];
  /** Set when data_location is EXTERNAL. */
  external: ExternalDataRef | null;
}

export const AttributeType = {
  FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, GRAPH: 5, FLOATS: 6, INTS: 7, STRINGS: 8, TENSORS: 9, GRAPHS: 10,
} as const;

export interface AttributeProto {
  name: string;
  type: number;
  f: number;
  i: number;
  s: Uint8Array | null;
  t: TensorProto | null;
  floats: number[];
  ints: number[];
  strings: Uint8Array[];
  /** A subgraph attribute is present (If, Loop, Scan). */
  hasGraph: boolean;
  /** The subgraph of a GRAPH attribute (If's then_branch/else_branch), else null. */
  g: GraphProto | null;
}

export interface NodeProto {
  name: string;
  opType: string;
  domain: string;
  inputs: string[];
  outputs: string[];
  attributes: AttributeProto[];
}

/** A dimension: a number, or a symbolic name ('N', 'batch'), or null when unknown. */
export type Dim = number | string | null;

export interface ValueInfo {
  name: string;
  elemType: number;
  /** null when the type carries no shape. */
  shape: Dim[] | null;
}

export interface GraphProto {
  name: string;
  nodes: NodeProto[];
  initializers: TensorProto[];
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  valueInfo: ValueInfo[];
}

export interface ModelProto {
  irVersion: number;
  producerName: string;
  opsetImports: OperatorSetId[];
  graph: GraphProto | null;
}

const readFloat = (r: ProtoReader): number => r.float32();
const readDouble = (r: ProtoReader): number => r.float64();
const readInt64 = (r: ProtoReader): number => r.int64();
const readUint64 = (r: ProtoReader): number => r.uint64();
const readInt32 = (r: ProtoReader): number => r.int32();
const readDim = (r: ProtoReader): number => r.exactInt64('dims');

export function decodeModel(bytes: Uint8Array): ModelProto {
  const r = new ProtoReader(bytes, 'ModelProto');
  const model: ModelProto = { irVersion: 0, producerName: '', opsetImports: [], graph: null };
  while (!r.done) {
    const { field, wire } = r.tag();
    if (field === 1 && wire === WireType.Varint) model.irVersion = r.int64();
    else if (field === 2 && wire === WireType.LengthDelimited) model.producerName = r.string();
    else if (field === 7 && wire === WireType.LengthDelimited) model.graph = decodeGraph(r.message('graph'));
    else if (field === 8 && wire === WireType.LengthDelimited) model.opsetImports.push(decodeOpset(r.message('opset_import')));
    else r.skip(wire);
  }
  return model;
}

function decodeOpset(r: ProtoReader): OperatorSetId {
  const out: OperatorSetId = { domain: '', version: 0 };
  while (!r.done) {
    const { field, wire } = r.tag();
    if (field === 1 && wire === WireType.LengthDelimited) out.domain = r.string();
    else if (field === 2 && wire === WireType.Varint) out.version = r.exactInt64('version');
    else r.skip(wire);
  }
  return out;
}

function decodeGraph(r: ProtoReader): GraphProto {
  const g: GraphProto = { name: '', nodes: [], initializers: [], inputs: [], outputs: [], valueInfo: [] };
  while (!r.done) {
    const { field, wire } = r.tag();
    if (wire !== WireType.LengthDelimited) {
      r.skip(wire);
      continue;
    }
    switch (field) {
      case 1: g.nodes.push(decodeNode(r.message(`node[${g.nodes.length}]`))); break;
      case 2: g.name = r.string(); break;
      case 5: g.initializers.push(decodeTensor(r.message(`initializer[${g.initializers.length}]`))); break;
      case 11: g.inputs.push(decodeValueInfo(r.message(`input[${g.inputs.length}]`))); break;
      case 12: g.outputs.push(decodeValueInfo(r.message(`output[${g.outputs.length}]`))); break;
      case 13: g.valueInfo.push(decodeValueInfo(r.message(`value_info[${g.valueInfo.length}]`))); break;
      default: r.skip(wire);
    }
  }
  return g;
}

function decodeNode(r: ProtoReader): NodeProto {
  const n: NodeProto = { name: '', opType: '', domain: '', inputs: [], outputs: [], attributes: [] };
  while (!r.done) {
    const { field, wire } = r.tag();
    if (wire !== WireType.LengthDelimited) {
      r.skip(wire);
      continue;
    }
    switch (field) {
      case 1: n.inputs.push(r.string()); break;
      case 2: n.outputs.push(r.string()); break;
      case 3: n.name = r.string(); break;
      case 4: n.opType = r.string(); break;
      case 5: n.attributes.push(decodeAttribute(r.message(`attribute[${n.attributes.length}]`))); break;
      case 7: n.domain = r.string(); break;
      default: r.skip(wire);
    }
  }
  return n;
}

function decodeAttribute(r: ProtoReader): AttributeProto {
  const a: AttributeProto = {
    name: '', type: 0, f: 0, i: 0, s: null, t: null, floats: [], ints: [], strings: [], hasGraph: false, g: null,
  };
  while (!r.done) {
    const { field, wire } = r.tag();
    switch (field) {
      case 1: r.expect(wire, WireType.LengthDelimited, 'name'); a.name = r.string(); break;
      case 20: r.expect(wire, WireType.Varint, 'type'); a.type = r.int32(); break;
      case 2: r.expect(wire, WireType.Fixed32, 'f'); a.f = r.float32(); break;
      case 3: r.expect(wire, WireType.Varint, 'i'); a.i = r.int64(); break;
      case 4: r.expect(wire, WireType.LengthDelimited, 's'); a.s = r.bytesField(); break;
      case 5: r.expect(wire, WireType.LengthDelimited, 't'); a.t = decodeTensor(r.message('t')); break;
      case 6: r.expect(wire, WireType.LengthDelimited, 'g'); a.hasGraph = true; a.g = decodeGraph(r.message('g')); break;
      case 11: a.hasGraph = true; r.skip(wire); break;
      case 7: r.repeated(wire, WireType.Fixed32, a.floats, readFloat); break;
      case 8: r.repeated(wire, WireType.Varint, a.ints, readInt64); break;
      case 9: r.expect(wire, WireType.LengthDelimited, 'strings'); a.strings.push(r.bytesField()); break;
      default: r.skip(wire);
    }
  }
  // Files from before the `type` field (IR < 3 writers) leave it 0: infer it.
  if (a.type === 0) {
    if (a.t) a.type = AttributeType.TENSOR;
    else if (a.s) a.type = AttributeType.STRING;
    else if (a.ints.length) a.type = AttributeType.INTS;
    else if (a.floats.length) a.type = AttributeType.FLOATS;
    else if (a.strings.length) a.type = AttributeType.STRINGS;
  }
  return a;
}

export function decodeTensor(r: ProtoReader): TensorProto {
  const t: TensorProto = {
    name: '', dims: [], dataType: 0, rawData: null, floatData: [], int32Data: [], int64Data: [], doubleData: [],
    uint64Data: [], external: null,
  };
  let external: ExternalDataRef | null = null;
  let dataLocationExternal = false;
  while (!r.done) {
    const { field, wire } = r.tag();
    switch (field) {
      case 1: r.repeated(wire, WireType.Varint, t.dims, readDim); break;
      case 2: r.expect(wire, WireType.Varint, 'data_type'); t.dataType = r.int32(); break;
      case 4: r.repeated(wire, WireType.Fixed32, t.floatData, readFloat); break;
      case 5: r.repeated(wire, WireType.Varint, t.int32Data, readInt32); break;
      case 7: r.repeated(wire, WireType.Varint, t.int64Data, readInt64); break;
      case 8: r.expect(wire, WireType.LengthDelimited, 'name'); t.name = r.string(); break;
      case 9: r.expect(wire, WireType.LengthDelimited, 'raw_data'); t.rawData = r.bytesField(); break;
      case 10: r.repeated(wire, WireType.Fixed64, t.doubleData, readDouble); break;
      case 11: r.repeated(wire, WireType.Varint, t.uint64Data, readUint64); break;
      case 13: {
        r.expect(wire, WireType.LengthDelimited, 'external_data');
        const entry = decodeStringPair(r.message('external_data'));
        external ??= { location: '', offset: 0, length: -1 };
        if (entry.key === 'location') external.location = entry.value;
        else if (entry.key === 'offset' || entry.key === 'length') {
          // Decimal digits only, as onnx's loader parses them: Number() would take '', '0x10' and '1e3'.
          const v = /^[0-9]{1,16}$/.test(entry.value) ? Number(entry.value) : NaN;
          if (!Number.isSafeInteger(v)) r.fail(`external_data ${entry.key} '${entry.value}' is not a non-negative decimal integer`);
          external[entry.key] = v;
        }
        break;
      }
      case 14: r.expect(wire, WireType.Varint, 'data_location'); dataLocationExternal = r.int32() === 1; break;
      default: r.skip(wire);
    }
  }
  if (dataLocationExternal) {
    if (!external || !external.location) r.fail(`tensor '${t.name}' says its data is external but gives no location`);
    t.external = external;
  }
  return t;
}

function decodeStringPair(r: ProtoReader): { key: string; value: string } {
  const out = { key: '', value: '' };
  while (!r.done) {
    const { field, wire } = r.tag();
    if (field === 1 && wire === WireType.LengthDelimited) out.key = r.string();
    else if (field === 2 && wire === WireType.LengthDelimited) out.value = r.string();
    else r.skip(wire);
  }
  return out;
}

function decodeValueInfo(r: ProtoReader): ValueInfo {
  const v: ValueInfo = { name: '', elemType: 0, shape: null };
  while (!r.done) {
    const { field, wire } = r.tag();
    if (field === 1 && wire === WireType.LengthDelimited) v.name = r.string();
    else if (field === 2 && wire === WireType.LengthDelimited) decodeType(r.message('type'), v);
    else r.skip(wire);
  }
  return v;
}

/** TypeProto: only tensor_type (field 1) with elem_type and shape. */
function decodeType(r: ProtoReader, v: ValueInfo): void {
  while (!r.done) {
    const { field, wire } = r.tag();
    if (field !== 1 || wire !== WireType.LengthDelimited) {
      r.skip(wire);
      continue;
    }
    const tt = r.message('tensor_type');
    while (!tt.done) {
      const inner = tt.tag();
      if (inner.field === 1 && inner.wire === WireType.Varint) v.elemType = tt.int32();
      else if (inner.field === 2 && inner.wire === WireType.LengthDelimited) v.shape = decodeShape(tt.message('shape'));
      else tt.skip(inner.wire);
    }
  }
}

function decodeShape(r: ProtoReader): Dim[] {
  const dims: Dim[] = [];
  while (!r.done) {
    const { field, wire } = r.tag();
    if (field !== 1 || wire !== WireType.LengthDelimited) {
      r.skip(wire);
      continue;
    }
    const d = r.message(`dim[${dims.length}]`);
    let dim: Dim = null;
    while (!d.done) {
      const inner = d.tag();
      if (inner.field === 1 && inner.wire === WireType.Varint) dim = d.exactInt64('dim_value');
      else if (inner.field === 2 && inner.wire === WireType.LengthDelimited) dim = d.string();
      else d.skip(inner.wire);
    }
    dims.push(dim);
  }
  return dims;
}
