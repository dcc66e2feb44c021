import { SafetensorsError } from './errors.js';
import { bfloat16ToFloat, halfToFloat } from './float16.js';
import { parseHeaderJson, type HeaderValue } from './safetensors-header.js';
import { Tensor, sizeOf, shapeString } from './tensor.js';

export { halfToFloat };

/**
 * safetensors: an 8-byte little-endian header length, a JSON header
 * `{ name: { dtype, shape, data_offsets: [begin, end] }, __metadata__? }`,
 * then the raw little-endian tensor bytes. https://github.com/huggingface/safetensors
 */

/** Bytes per element of the dtypes we read (a Map: a dtype such as 'constructor' must not be found on a prototype). */
const BYTES_PER_ELEMENT = new Map<string, number>([
  ['F64', 8], ['F32', 4], ['F16', 2], ['BF16', 2], ['I64', 8], ['I32', 4], ['I16', 2], ['I8', 1], ['U8', 1], ['BOOL', 1],
]);

/** Largest header we accept: 100 MB, the reference implementation's MAX_HEADER_SIZE. */
const MAX_HEADER_BYTES = 100_000_000;

interface Entry {
  name: string;
  dtype: string;
  shape: number[];
  begin: number;
  end: number;
}

function fail(what: string): never {
  throw new SafetensorsError(`loadSafetensors: ${what}`);
}

/**
 * Read a safetensors file: F32 as is; F16, BF16, F64 and integer tensors
 * converted to float32. The record has no prototype, so a tensor named
 * `__proto__` or `constructor` is an ordinary entry.
 */
export function loadSafetensors(bytes: Uint8Array): Record<string, Tensor> {
  return parseSafetensors(bytes).tensors;
}

/**
 * The tensors and the `__metadata__` strings of a safetensors file, checked
 * as the reference implementation checks them: a header of at most 100 MB
 * that is a JSON object without duplicate keys, `__metadata__` an object of
 * strings, and tensors whose data_offsets tile the data section exactly (no
 * overlap, no alias, no gap, no byte after the last tensor).
 */
export function parseSafetensors(bytes: Uint8Array): { tensors: Record<string, Tensor>; metadata: Record<string, string> } {
  if (!(bytes instanceof Uint8Array)) fail('expected the file as a Uint8Array (or Buffer)');
  if (bytes.length < 8) fail(`file is ${bytes.length} bytes; a safetensors file starts with an 8-byte header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getBigUint64(0, true);
  if (headerLength > BigInt(MAX_HEADER_BYTES)) {
    fail(`the header claims ${headerLength} bytes; at most ${MAX_HEADER_BYTES} (100 MB) are accepted, as by the reference implementation`);
  }
  const n = Number(headerLength);
  if (8 + n > bytes.length) {
    fail(`header claims ${n} bytes but the file has ${bytes.length - 8} after the length field (truncated or not a safetensors file)`);
  }
  let text = '';
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n));
  } catch {
    fail('the header is not valid UTF-8');
  }
  const header = parseHeaderJson(text);
  if (typeof header !== 'object' || header === null || Array.isArray(header)) fail('the header must be a JSON object of tensor entries');
  const dataStart = 8 + n;
  const dataLength = bytes.length - dataStart;
  const metadata: Record<string, string> = Object.create(null);
  const entries: Entry[] = [];
  for (const [name, raw] of Object.entries(header as Record<string, HeaderValue>)) {
    if (name === '__metadata__') {
      if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) fail('__metadata__ must be an object of strings');
      for (const [k, v] of Object.entries(raw as Record<string, HeaderValue>)) {
        if (typeof v !== 'string') fail(`__metadata__ must be an object of strings; '${k}' is ${JSON.stringify(v)}`);
        metadata[k] = v;
      }
      continue;
    }
    entries.push(readEntry(name, raw));
  }
  checkTiling(entries, dataLength);
  const tensors: Record<string, Tensor> = Object.create(null);
  for (const e of entries) {
    tensors[e.name] = new Tensor(decode(bytes, dataStart + e.begin, sizeOf(e.shape), e.dtype), e.shape);
  }
  return { tensors, metadata };
}

function readEntry(name: string, raw: HeaderValue): Entry {
  const entry = raw as { dtype?: HeaderValue; shape?: HeaderValue; data_offsets?: HeaderValue } | null;
  const shape = entry?.shape;
  const offsets = entry?.data_offsets;
  if (
    typeof entry !== 'object' || entry === null || Array.isArray(entry) || typeof entry.dtype !== 'string' ||
    !Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0) ||
    !Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && (o as number) >= 0)
  ) {
    return fail(`entry '${name}' is malformed (needs dtype, shape of non-negative integers and data_offsets [begin, end])`);
  }
  const width = BYTES_PER_ELEMENT.get(entry.dtype);
  if (width === undefined) {
    return fail(`tensor '${name}' has dtype ${entry.dtype}; accepted: ${[...BYTES_PER_ELEMENT.keys()].join(', ')}`);
  }
  const [begin, end] = offsets as [number, number];
  const count = sizeOf(shape as number[]);
  if (end < begin || end - begin !== count * width) {
    fail(
      `tensor '${name}' of dtype ${entry.dtype} and shape ${shapeString(shape as number[])} needs ${count * width} bytes, ` +
        `its data_offsets [${begin}, ${end}] give ${end - begin}`,
    );
  }
  return { name, dtype: entry.dtype, shape: shape as number[], begin, end };
}

/** The reference implementation's validate(): sorted by offsets, the tensors cover the data section end to end, once. */
function checkTiling(entries: Entry[], dataLength: number): void {
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = 0;
  for (const e of sorted) {
    if (e.begin !== at) {
      fail(
        e.begin < at
          ? `tensor '${e.name}' at bytes ${e.begin}..${e.end} overlaps the tensor before it, which ends at ${at}`
          : `there are ${e.begin - at} unused bytes (${at}..${e.begin}) before tensor '${e.name}'; tensors must follow one another`,
      );
    }
    at = e.end;
  }
  if (at > dataLength) fail(`the tensors need ${at} bytes of data but the file has ${dataLength} (truncated file?)`);
  if (at < dataLength) fail(`the file has ${dataLength - at} bytes after the last tensor's data`);
}

/** Whether this platform stores numbers little-endian, as safetensors files do (all but rare hosts). */
const littleEndian = (): boolean => new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

function decode(bytes: Uint8Array, offset: number, count: number, dtype: string): Float32Array {
  // F32 on a little-endian host: the file's bytes are the array's bytes, so one
  // copy, not a DataView read per element (which a cold process interprets:
  // ~10 ms of a cold start for the shapes model's 24 K weights).
  // (subarray and set, not slice: a Node Buffer's slice is a view of its whole pool.)
  if (dtype === 'F32' && littleEndian()) {
    const out = new Float32Array(count);
    new Uint8Array(out.buffer).set(bytes.subarray(offset, offset + count * 4));
    return out;
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, count * BYTES_PER_ELEMENT.get(dtype)!);
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
  if (typeof dict !== 'object' || dict === null || Array.isArray(dict)) {
    throw new SafetensorsError('saveSafetensors: expected a record of tensors by name (e.g. model.stateDict())');
  }
  const names = Object.keys(dict).sort();
  // No prototype: a tensor named '__proto__' is written as a key like any other.
  const header: Record<string, unknown> = Object.create(null);
  if (metadata !== undefined) {
    const entries = typeof metadata === 'object' && metadata !== null ? Object.entries(metadata) : null;
    if (!entries || entries.some(([, v]) => typeof v !== 'string')) {
      throw new SafetensorsError('saveSafetensors: metadata must be an object of strings (the format stores nothing else)');
    }
    header.__metadata__ = Object.fromEntries(entries);
  }
  let offset = 0;
  for (const name of names) {
    const t = dict[name]!;
    if (name === '__metadata__') throw new SafetensorsError("saveSafetensors: '__metadata__' is the format's metadata key and cannot name a tensor");
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
