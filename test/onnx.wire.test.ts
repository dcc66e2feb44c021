import { describe, expect, it } from 'vitest';
import { OnnxError } from '../src/onnx/errors.js';
import { decodeModel, decodeTensor } from '../src/onnx/proto.js';
import { tensorFromProto } from '../src/onnx/tensorData.js';
import { ProtoReader, WireType } from '../src/onnx/wire.js';
import { encodeVarint, onnxModel, tensorProto } from './onnx.builder.js';

const reader = (bytes: number[]): ProtoReader => new ProtoReader(Uint8Array.from(bytes), 'test');

describe('protobuf wire reader', () => {
  it('reads varints as the spec examples give them', () => {
    expect(reader([0x96, 0x01]).uint32()).toBe(150);
    expect(reader([0xac, 0x02]).uint32()).toBe(300);
    expect(reader([0x00]).uint32()).toBe(0);
  });

  it('reads int64 exactly within ±2^53, negatives from their 10-byte form', () => {
    expect(encodeVarint(-1)).toHaveLength(10);
    expect(reader(encodeVarint(-1)).int64()).toBe(-1);
    expect(reader(encodeVarint(-300)).int64()).toBe(-300);
    expect(reader(encodeVarint(2 ** 53 - 1)).int64()).toBe(2 ** 53 - 1);
    expect(reader(encodeVarint(-(2 ** 40) - 7)).int64()).toBe(-(2 ** 40) - 7);
    expect(reader(encodeVarint(4294967296)).int64()).toBe(4294967296);
    // INT64_MAX / MIN (Slice's "to the end") round to the nearest double.
    expect(reader(encodeVarint(9223372036854775807n)).int64()).toBe(9223372036854775807);
    expect(reader(encodeVarint(-9223372036854775808n)).int64()).toBe(-9223372036854775808);
    expect(reader(encodeVarint(-5)).int32()).toBe(-5);
  });

  it('refuses an int64 that must be exact (a dim) beyond 2^53', () => {
    expect(() => reader(encodeVarint(2n ** 60n)).exactInt64('dims')).toThrow(OnnxError);
    expect(() => reader(encodeVarint(2n ** 60n)).exactInt64('dims')).toThrow(/dims = .* outside/);
  });

  it('fails with OnnxError on truncated and overlong varints', () => {
    expect(() => reader([0x80, 0x80]).uint32()).toThrow(/varint runs past the end/);
    expect(() => reader(new Array(11).fill(0xff)).uint32()).toThrow(/longer than 10 bytes/);
  });

  it('checks lengths before reading or allocating', () => {
    // A length of 2^62 in a 12-byte buffer: an error naming the offset, not an allocation.
    const hostile = [0x3a, ...encodeVarint(2n ** 62n), 1, 2];
    const r = reader(hostile);
    r.tag();
    expect(() => r.bytesField()).toThrow(/at byte 1: length .* exceeds the 2 bytes left/);
    expect(() => decodeModel(Uint8Array.from(hostile))).toThrow(OnnxError);
  });

  it('rejects groups and unknown wire types', () => {
    expect(() => reader([0x0b]).skip(WireType.StartGroup)).toThrow(/group/);
    expect(() => reader([0x0e]).tag()).toThrow(/unknown wire type 6/);
    expect(() => reader([0x00]).tag()).toThrow(/field number 0/);
  });

  it('reads packed and unpacked repeated fields alike', () => {
    // dims [2, 3] packed (proto3) and unpacked (old proto2 writers): field 1.
    const packed = decodeTensor(reader([0x0a, 0x02, 0x02, 0x03, 0x10, 0x01]));
    const unpacked = decodeTensor(reader([0x08, 0x02, 0x08, 0x03, 0x10, 0x01]));
    expect(packed.dims).toEqual([2, 3]);
    expect(unpacked.dims).toEqual([2, 3]);
    // float_data unpacked: field 4, wire type 5, twice.
    const floats = decodeTensor(reader([0x0a, 0x01, 0x02, 0x10, 0x01, 0x25, 0, 0, 0x80, 0x3f, 0x25, 0, 0, 0, 0x40]));
    expect(floats.floatData).toEqual([1, 2]);
  });

  it('decodes tensors from raw_data, float_data, int64_data and double_data', () => {
    const raw = tensorFromProto(decodeTensor(reader(tensorProto({ name: 'r', dims: [3], floats: [1.5, -2, 3], raw: true }))));
    expect(Array.from(raw.tensor.data)).toEqual([1.5, -2, 3]);
    const typed = tensorFromProto(decodeTensor(reader(tensorProto({ name: 't', dims: [2, 1], floats: [0.25, 4] }))));
    expect([...typed.tensor.shape]).toEqual([2, 1]);
    expect(Array.from(typed.tensor.data)).toEqual([0.25, 4]);
    const ints = tensorFromProto(decodeTensor(reader(tensorProto({ name: 'i', dims: [3], ints: [-1, 0, 7] }))));
    expect(Array.from(ints.tensor.data)).toEqual([-1, 0, 7]);
    expect(ints.dataType).toBe(7);
    // double_data: field 10, packed fixed64.
    const d = new DataView(new ArrayBuffer(16));
    d.setFloat64(0, 0.5, true);
    d.setFloat64(8, -8, true);
    const doubles = tensorFromProto(decodeTensor(reader([0x0a, 0x01, 0x02, 0x10, 11, 0x52, 16, ...new Uint8Array(d.buffer)])));
    expect(Array.from(doubles.tensor.data)).toEqual([0.5, -8]);
  });

  it('says when a tensor holds fewer values than its shape needs', () => {
    const short = decodeTensor(reader(tensorProto({ name: 'w', dims: [4], floats: [1, 2, 3], raw: true })));
    expect(() => tensorFromProto(short)).toThrow(/tensor 'w' has 12 bytes of data; shape \[4\] of FLOAT needs 16/);
  });

  it('reads opset, inputs with symbolic dims and outputs', () => {
    const model = decodeModel(onnxModel({
      opset: 13,
      nodes: [{ op: 'Relu', inputs: ['x'], outputs: ['y'], name: '/relu/Relu' }],
      inputs: [{ name: 'x', dims: ['N', 3] }],
      outputs: [{ name: 'y' }],
    }));
    expect(model.opsetImports).toEqual([{ domain: '', version: 13 }]);
    expect(model.graph!.inputs[0]).toEqual({ name: 'x', elemType: 1, shape: ['N', 3] });
    expect(model.graph!.nodes[0]!.opType).toBe('Relu');
  });
});
