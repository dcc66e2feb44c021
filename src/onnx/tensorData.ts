import { bfloat16ToFloat, halfToFloat } from '../tensor/float16.js';
import { checkElements } from '../tensor/limits.js';
import { Tensor, sizeOf } from '../tensor/tensor.js';
import { OnnxError } from './errors.js';
import type { TensorProto } from './proto.js';

/**
 * ONNX TensorProto -> tinycam Tensor.
 *
 * tinycam tensors are float32. Integer tensors (shapes, axes, indices) are
 * carried as float32 too: exact for |v| < 2^24, which covers every shape and
 * index a CNN graph computes. int64 sentinels such as INT64_MAX ("to the end"
 * in Slice) become about 9.2e18 and are clamped by the ops that read them.
 * The ONNX element type travels beside the tensor (see `DataType`) so that
 * integer semantics (Div truncates, Cast rounds toward zero) are kept.
 */

export const DataType = {
  UNDEFINED: 0, FLOAT: 1, UINT8: 2, INT8: 3, UINT16: 4, INT16: 5, INT32: 6, INT64: 7, STRING: 8, BOOL: 9,
  FLOAT16: 10, DOUBLE: 11, UINT32: 12, UINT64: 13, COMPLEX64: 14, COMPLEX128: 15, BFLOAT16: 16,
} as const;

const NAMES: Record<number, string> = Object.fromEntries(Object.entries(DataType).map(([k, v]) => [v, k]));

export function dataTypeName(t: number): string {
  return NAMES[t] ?? `data type ${t}`;
}

/** Whether values of this ONNX type are integers (or booleans). */
export function isIntegerType(t: number): boolean {
  return t === DataType.UINT8 || t === DataType.INT8 || t === DataType.UINT16 || t === DataType.INT16 ||
    t === DataType.INT32 || t === DataType.INT64 || t === DataType.BOOL || t === DataType.UINT32 || t === DataType.UINT64;
}

/** Reads the bytes of an external tensor file by its location (relative path). */
export type ExternalDataResolver = (location: string) => Uint8Array;

/**
 * An external data file opened by its location: its size, and a reader of
 * one byte range, so that a 12-byte tensor costs 12 bytes of reading, not
 * the whole file (`loadOnnxFile` opens files this way).
 */
export interface ExternalDataFile {
  size: number;
  read(offset: number, length: number): Uint8Array;
}

/** Where a tensor's external data comes from: whole files by location, or files opened by location. */
export interface ExternalDataSource {
  externalData?: ExternalDataResolver | undefined;
  externalFile?: ((location: string) => ExternalDataFile) | undefined;
}

export interface DecodedTensor {
  tensor: Tensor;
  dataType: number;
}

/** Convert a TensorProto (inline or external data) to a float32 Tensor. */
export function tensorFromProto(t: TensorProto, source?: ExternalDataResolver | ExternalDataSource): DecodedTensor {
  const where = `tensor '${t.name}'`;
  const n = sizeOf(t.dims);
  checkElements(n, 'loadOnnx', where);
  // Sizes are checked against the bytes present before anything is allocated.
  let out: Float32Array;
  let raw = t.rawData;
  const type = t.dataType;
  if (t.external) {
    raw = readExternal(t, typeof source === 'function' ? { externalData: source } : (source ?? {}), n * bytesPerElement(type, where));
  }
  if (raw) {
    const width = bytesPerElement(type, where);
    if (raw.length !== n * width) {
      throw new OnnxError(
        `loadOnnx: ${where} has ${raw.length} bytes of data; shape [${t.dims.join(', ')}] of ${dataTypeName(type)} needs ${n * width}`,
      );
    }
    out = new Float32Array(n);
    decodeRaw(raw, type, out);
  } else {
    const typed = typedField(t);
    if (typed.length !== n) {
      // An empty field with n > 0 is a tensor without data.
      throw new OnnxError(
        `loadOnnx: ${where} has ${typed.length} values; shape [${t.dims.join(', ')}] needs ${n}`,
      );
    }
    out = new Float32Array(n);
    if (type === DataType.FLOAT16) for (let i = 0; i < n; i++) out[i] = halfToFloat(typed[i]!);
    else if (type === DataType.BFLOAT16) for (let i = 0; i < n; i++) out[i] = bfloat16ToFloat(typed[i]!);
    else for (let i = 0; i < n; i++) out[i] = typed[i]!;
  }
  return { tensor: new Tensor(out, t.dims), dataType: type };
}

/** The bytes of an external tensor: the range its offset and length name, checked against the file and the tensor's size first. */
function readExternal(t: TensorProto, source: ExternalDataSource, needed: number): Uint8Array {
  const ref = t.external!;
  if (!source.externalFile && !source.externalData) {
    throw new OnnxError(
      `loadOnnx: tensor '${t.name}' keeps its data in the external file '${ref.location}'; pass loadOnnx(bytes, { externalData: (location) => bytes }) or use loadOnnxFile(path) from 'tinycam/node'`,
      'E_ONNX_EXTERNAL',
    );
  }
  let whole: Uint8Array | undefined;
  let size: number;
  let file: ExternalDataFile | undefined;
  if (source.externalFile) {
    file = source.externalFile(ref.location);
    size = file.size;
  } else {
    whole = source.externalData!(ref.location);
    if (!(whole instanceof Uint8Array)) {
      throw new OnnxError(`loadOnnx: externalData('${ref.location}') returned no Uint8Array`, 'E_ONNX_EXTERNAL');
    }
    size = whole.length;
  }
  const length = ref.length >= 0 ? ref.length : size - ref.offset;
  if (ref.offset + length > size || length < 0) {
    throw new OnnxError(
      `loadOnnx: tensor '${t.name}' asks for bytes ${ref.offset}..${ref.offset + length} of '${ref.location}', which has ${size} bytes (truncated or the wrong file)`,
      'E_ONNX_EXTERNAL',
    );
  }
  if (length !== needed) {
    throw new OnnxError(
      `loadOnnx: tensor '${t.name}' has ${length} bytes of data in '${ref.location}'; shape [${t.dims.join(', ')}] of ${dataTypeName(t.dataType)} needs ${needed}`,
    );
  }
  return whole ? whole.subarray(ref.offset, ref.offset + length) : file!.read(ref.offset, length);
}

function typedField(t: TensorProto): number[] {
  switch (t.dataType) {
    case DataType.FLOAT: return t.floatData;
    case DataType.DOUBLE: return t.doubleData;
    case DataType.INT64: return t.int64Data;
    case DataType.UINT32: case DataType.UINT64: return t.uint64Data;
    case DataType.INT32: case DataType.INT16: case DataType.INT8: case DataType.UINT16: case DataType.UINT8:
    case DataType.BOOL: case DataType.FLOAT16: case DataType.BFLOAT16:
      return t.int32Data;
    default:
      throw new OnnxError(`loadOnnx: tensor '${t.name}' has element type ${dataTypeName(t.dataType)}; accepted: float, double, float16, bfloat16, integer and bool types`);
  }
}

function bytesPerElement(type: number, where: string): number {
  switch (type) {
    case DataType.FLOAT: case DataType.INT32: case DataType.UINT32: return 4;
    case DataType.DOUBLE: case DataType.INT64: case DataType.UINT64: return 8;
    case DataType.FLOAT16: case DataType.BFLOAT16: case DataType.INT16: case DataType.UINT16: return 2;
    case DataType.INT8: case DataType.UINT8: case DataType.BOOL: return 1;
    default:
      throw new OnnxError(`loadOnnx: ${where} has element type ${dataTypeName(type)}; accepted: float, double, float16, bfloat16, integer and bool types`);
  }
}

/** Little-endian raw bytes of `type` into float32 (DataView: raw_data need not be aligned). */
function decodeRaw(raw: Uint8Array, type: number, out: Float32Array): void {
  const v = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const n = out.length;
  switch (type) {
    case DataType.FLOAT:
      if (raw.byteOffset % 4 === 0 && littleEndian) out.set(new Float32Array(raw.buffer, raw.byteOffset, n));
      else for (let i = 0; i < n; i++) out[i] = v.getFloat32(4 * i, true);
      return;
    case DataType.DOUBLE: for (let i = 0; i < n; i++) out[i] = v.getFloat64(8 * i, true); return;
    case DataType.INT64:
      for (let i = 0; i < n; i++) out[i] = v.getInt32(8 * i + 4, true) * 4294967296 + v.getUint32(8 * i, true);
      return;
    case DataType.UINT64:
      for (let i = 0; i < n; i++) out[i] = v.getUint32(8 * i + 4, true) * 4294967296 + v.getUint32(8 * i, true);
      return;
    case DataType.INT32: for (let i = 0; i < n; i++) out[i] = v.getInt32(4 * i, true); return;
    case DataType.UINT32: for (let i = 0; i < n; i++) out[i] = v.getUint32(4 * i, true); return;
    case DataType.INT16: for (let i = 0; i < n; i++) out[i] = v.getInt16(2 * i, true); return;
    case DataType.UINT16: for (let i = 0; i < n; i++) out[i] = v.getUint16(2 * i, true); return;
    case DataType.INT8: for (let i = 0; i < n; i++) out[i] = v.getInt8(i); return;
    case DataType.UINT8: case DataType.BOOL: for (let i = 0; i < n; i++) out[i] = raw[i]!; return;
    case DataType.FLOAT16: for (let i = 0; i < n; i++) out[i] = halfToFloat(v.getUint16(2 * i, true)); return;
    case DataType.BFLOAT16: for (let i = 0; i < n; i++) out[i] = bfloat16ToFloat(v.getUint16(2 * i, true)); return;
  }
}

const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
