import { OnnxError } from './errors.js';

/**
 * A reader of the protobuf wire format (https://protobuf.dev/programming-guides/encoding/),
 * just enough to decode ONNX files without generated code.
 *
 * Why our own: protobufjs's reflection decoders compile code with
 * `new Function` (forbidden on edge runtimes and under strict CSP), and the
 * static onnx-proto decoder adds about 21 KiB gzipped and returns 64-bit
 * integers as Long objects. The wire format is four record kinds.
 *
 * Every length is checked against the bytes that remain before anything is
 * read or allocated, so a hostile or truncated file gives an OnnxError that
 * names the message and the byte offset, never a huge allocation or a loop.
 */

export const WireType = {
  Varint: 0,
  Fixed64: 1,
  LengthDelimited: 2,
  StartGroup: 3,
  EndGroup: 4,
  Fixed32: 5,
} as const;
export type WireType = (typeof WireType)[keyof typeof WireType];

const TWO_32 = 4294967296;

/**
 * Deepest nesting of embedded messages accepted: protobuf's own parsers stop
 * at 100 too. An ONNX graph inside an If branch is three levels below its
 * node's graph, so this allows about 30 nested subgraphs, and keeps every
 * recursive walk over them far from the stack's limit.
 */
export const MAX_MESSAGE_DEPTH = 100;

export class ProtoReader {
  readonly bytes: Uint8Array;
  pos: number;
  readonly end: number;
  /** Which message is being read, for error messages ('ModelProto.graph.node[3]'). */
  readonly where: string;
  /** Nesting depth of this message (0 for the outermost). */
  readonly depth: number;
  readonly #view: DataView;

  constructor(bytes: Uint8Array, where: string, start = 0, end = bytes.length, depth = 0) {
    this.bytes = bytes;
    this.pos = start;
    this.end = end;
    this.where = where;
    this.depth = depth;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  fail(what: string, at = this.pos): never {
    throw new OnnxError(`loadOnnx: malformed protobuf in ${this.where} at byte ${at}: ${what} (the file is truncated or not an ONNX model)`);
  }

  /** The next field's tag: field number and wire type. */
  tag(): { field: number; wire: WireType } {
    const at = this.pos;
    const key = this.uint32();
    const field = key >>> 3;
    const wire = key & 7;
    if (field === 0) this.fail('field number 0', at);
    if (wire > 5) this.fail(`unknown wire type ${wire}`, at);
    return { field, wire: wire as WireType };
  }

  /** A varint as two 32-bit halves (low, high), each unsigned. */
  #varint64(): [number, number] {
    let lo = 0;
    let hi = 0;
    const start = this.pos;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) this.fail('varint runs past the end', start);
      const b = this.bytes[this.pos++]!;
      if (i < 4) lo |= (b & 0x7f) << (7 * i);
      else if (i === 4) {
        lo |= (b & 0x0f) << 28;
        hi |= (b & 0x7f) >>> 4;
      } else hi |= (b & 0x7f) << (7 * i - 32);
      if (b < 0x80) return [lo >>> 0, hi >>> 0];
    }
    return this.fail('varint longer than 10 bytes', start);
  }

  /** A varint that must fit 32 bits unsigned (tags, lengths, enums, int32 fields stored non-negative). */
  uint32(): number {
    const [lo] = this.#varint64();
    return lo;
  }

  /** int32 field: negative values are sign-extended to 10 bytes on the wire. */
  int32(): number {
    return this.uint32() | 0;
  }

  /**
   * int64 as a JS number: exact within ±2^53, rounded beyond (INT64_MAX, used
   * by Slice as "to the end", becomes 9.223372036854776e18). Callers that
   * need exact values (dims, offsets) check with `exactInt64`.
   */
  int64(): number {
    const [lo, hi] = this.#varint64();
    return (hi | 0) * TWO_32 + lo;
  }

  uint64(): number {
    const [lo, hi] = this.#varint64();
    return hi * TWO_32 + lo;
  }

  /** int64 that must be exactly representable (a dim, an offset, a length). */
  exactInt64(what: string): number {
    const at = this.pos;
    const v = this.int64();
    if (!Number.isSafeInteger(v)) this.fail(`${what} = ${v} is outside the exactly representable range ±2^53`, at);
    return v;
  }

  bool(): boolean {
    return this.uint32() !== 0;
  }

  float32(): number {
    if (this.pos + 4 > this.end) this.fail('float runs past the end');
    const v = this.#view.getFloat32(this.pos, true);
    this.pos += 4;
    return v;
  }

  float64(): number {
    if (this.pos + 8 > this.end) this.fail('double runs past the end');
    const v = this.#view.getFloat64(this.pos, true);
    this.pos += 8;
    return v;
  }

  /** The payload of a length-delimited field, as a view (no copy). */
  bytesField(): Uint8Array {
    const at = this.pos;
    const length = this.uint64();
    if (length > this.end - this.pos) this.fail(`length ${length} exceeds the ${this.end - this.pos} bytes left`, at);
    const out = this.bytes.subarray(this.pos, this.pos + length);
    this.pos += length;
    return out;
  }

  string(): string {
    return utf8.decode(this.bytesField());
  }

  /** A reader over an embedded message. */
  message(where: string): ProtoReader {
    const at = this.pos;
    const length = this.uint64();
    if (length > this.end - this.pos) this.fail(`length ${length} exceeds the ${this.end - this.pos} bytes left`, at);
    if (this.depth >= MAX_MESSAGE_DEPTH) {
      throw new OnnxError(
        `loadOnnx: messages nest more than ${MAX_MESSAGE_DEPTH} deep at byte ${at} (subgraphs inside subgraphs); protobuf's parsers stop there too`,
      );
    }
    const sub = new ProtoReader(this.bytes, `${this.where}.${where}`, this.pos, this.pos + length, this.depth + 1);
    this.pos += length;
    return sub;
  }

  /** Skip a field we do not decode. */
  skip(wire: WireType): void {
    switch (wire) {
      case WireType.Varint:
        this.#varint64();
        return;
      case WireType.Fixed64:
        if (this.pos + 8 > this.end) this.fail('fixed64 runs past the end');
        this.pos += 8;
        return;
      case WireType.LengthDelimited:
        this.bytesField();
        return;
      case WireType.Fixed32:
        if (this.pos + 4 > this.end) this.fail('fixed32 runs past the end');
        this.pos += 4;
        return;
      default:
        // Groups are deprecated and never used by onnx.proto.
        this.fail(`unexpected group (wire type ${wire})`);
    }
  }

  /**
   * A repeated scalar field, packed (one length-delimited run) or not (one
   * value per tag): proto3 writers pack, old proto2 writers may not, so both
   * are accepted as the spec demands. `read` reads one value.
   */
  repeated(wire: WireType, scalarWire: WireType, out: number[], read: (r: ProtoReader) => number): void {
    if (wire === WireType.LengthDelimited) {
      const run = this.message('(packed)');
      while (!run.done) out.push(read(run));
      this.pos = run.end;
    } else if (wire === scalarWire) {
      out.push(read(this));
    } else {
      this.fail(`repeated field has wire type ${wire}, expected ${scalarWire} or packed`);
    }
  }

  /** Check a field's wire type before reading it. */
  expect(wire: WireType, expected: WireType, field: string): void {
    if (wire !== expected) this.fail(`field ${field} has wire type ${wire}, expected ${expected}`);
  }
}

const utf8 = new TextDecoder('utf-8');
