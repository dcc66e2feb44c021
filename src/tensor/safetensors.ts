import { SafetensorsError } from './errors.js';
import { bfloat16ToFloat, halfToFloat } from './float16.js';
import { Tensor, sizeOf, shapeString } from './tensor.js';

export { halfToFloat };

/**
 * safetensors: an 8-byte little-endian header length, a JSON header
 * `{ name: { dtype, shape, data_offsets: [begin, end] }, __metadata__? }`,
 * then the raw little-endian tensor bytes. https://github.com/huggingface/safetensors
 */

const BYTES_PER_ELEMENT: Record<string, number> = {
  F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1,
};

/** Largest header we accept: the format itself caps it at 100 MB. */
const MAX_HEADER_BYTES = 100_000_000;

interface HeaderEntry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

/** Read a safetensors file: F32 as is; F16, BF16, F64 and integer tensors converted to float32. */
export function loadSafetensors(bytes: Uint8Array): Record<string, Tensor> {
  return parseSafetensors(bytes).tensors;
}

/** The tensors and the `__metadata__` strings of a safetensors file. */
export function parseSafetensors(bytes: Uint8Array): { tensors: Record<string, Tensor>; metadata: Record<string, string> } {
  if (!(bytes instanceof Uint8Array)) {
    throw new SafetensorsError('loadSafetensors: expected the file as a Uint8Array (or Buffer)');
  }
  if (bytes.length < 8) {
    throw new SafetensorsError(`loadSafetensors: file is ${bytes.length} bytes; a safetensors file starts with an 8-byte header length`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  if (headerLength > MAX_HEADER_BYTES || 8 + headerLength > bytes.length) {
    throw new SafetensorsError(
      `loadSafetensors: header claims ${headerLength} bytes but the file has ${bytes.length - 8} after the length field (truncated or not a safetensors file)`,
    );
  }
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLength)));
  } catch (e) {
    throw new SafetensorsError(`loadSafetensors: header is not valid UTF-8 JSON (${(e as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    throw new SafetensorsError('loadSafetensors: header must be a JSON object of tensor entries');
  }
  const dataStart = 8 + headerLength;
  const dataLength = bytes.length - dataStart;
  const tensors: Record<string, Tensor> = {};
  let metadata: Record<string, string> = {};
  for (const [name, raw] of Object.entries(header)) {
    if (name === '__metadata__') {
      metadata = (raw ?? {}) as Record<string, string>;
      continue;
    }
    const entry = raw as HeaderEntry;
    const width = BYTES_PER_ELEMENT[entry?.dtype];
    if (
      !entry || !Array.isArray(entry.shape) || !entry.shape.every((d) => Number.isInteger(d) && d >= 0) ||
      !Array.isArray(entry.data_offsets) || entry.data_offsets.length !== 2
    ) {
      throw new SafetensorsError(`loadSafetensors: entry '${name}' is malformed (needs dtype, shape and data_offsets [begin, end])`);
    }
    if (width === undefined) {
      throw new SafetensorsError(
        `loadSafetensors: tensor '${name}' has dtype ${entry.dtype}; accepted: ${Object.keys(BYTES_PER_ELEMENT).join(', ')}`,
      );
    }
    const [begin, end] = entry.data_offsets;
    const count = sizeOf(entry.shape);
    if (!Number.isInteger(begin) || !Number.isInteger(end) || begin < 0 || end < begin || end > dataLength) {
      throw new SafetensorsError(
        `loadSafetensors: tensor '${name}' spans bytes ${begin}..${end} but the data section has ${dataLength} bytes (truncated file?)`,
      );
    }
    if (end - begin !== count * width) {
      throw new SafetensorsError(
        `loadSafetensors: tensor '${name}' of dtype ${entry.dtype} and shape ${shapeString(entry.shape)} needs ${count * width} bytes, its offsets give ${end - begin}`,
      );
    }
    tensors[name] = new Tensor(decode(bytes, dataStart + begin, count, entry.dtype), entry.shape);
  }
  return { tensors, metadata };
}

function decode(bytes: Uint8Array, offset: number, count: number, dtype: string): Float32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, count * BYTES_PER_ELEMENT[dtype]!);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    switch (dtype) {
      case 'F32': out[i] = view.getFloat32(i * 4, true); break;
      case 'F64': out[i] = view.getFloat64(i * 8, true); break;
      case 'F16': out[i] = halfToFloat(view.getUint16(i * 2, true)); break;
      case 'BF16': out[i] = bfloat16ToFloat(view.getUint16(i * 2, true)); break;
      case 'I64': out[i] = Number(view.getBigInt64(i * 8, true)); break;
      case 'I32': out[i] = view.getInt32(i * 4, true); break;
      case 'I16': out[i] = view.getInt16(i * 2, true); break;
      case 'I8': out[i] = view.getInt8(i); break;
      case 'U8': case 'BOOL': out[i] = view.getUint8(i); break;
    }
  }
  return out;
}

/** Write tensors as a safetensors file (F32, entries in sorted key order). */
export function saveSafetensors(dict: Record<string, Tensor>, metadata?: Record<string, string>): Uint8Array {
  const names = Object.keys(dict).sort();
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  let offset = 0;
  for (const name of names) {
    const t = dict[name]!;
    if (!(t instanceof Tensor)) throw new SafetensorsError(`saveSafetensors: '${name}' is not a Tensor`);
    header[name] = { dtype: 'F32', shape: [...t.shape], data_offsets: [offset, offset + t.size * 4] };
    offset += t.size * 4;
  }
  let json = JSON.stringify(header);
  // pad the header with spaces so the data starts 8-byte aligned
  while ((8 + new TextEncoder().encode(json).length) % 8 !== 0) json += ' ';
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let at = 8 + headerBytes.length;
  for (const name of names) {
    const t = dict[name]!;
    for (let i = 0; i < t.size; i++, at += 4) view.setFloat32(at, t.data[i]!, true);
  }
  return out;
}
