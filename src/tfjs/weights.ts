import { halfToFloat } from '../tensor/float16.js';
import { TinycamError } from '../tensor/errors.js';
import { Tensor, sizeOf } from '../tensor/tensor.js';
import { TfjsError } from './errors.js';
import { array, integer, number, object, string } from './json.js';

/**
 * The weights of a model.json: its `weightsManifest` (groups of shard paths,
 * each with the weights stored in them, in order) and the shard bytes.
 * TensorFlow.js stores each weight as float32, int32 or bool, or quantized:
 * `quantization: {dtype: 'uint8' | 'uint16', scale, min}` (value = q * scale + min),
 * `{dtype, min, max}` (scale = (max - min) / (2^bits - 1)), or
 * `{dtype: 'float16'}`. Everything comes out as float32 tensors (int32
 * values are exact up to 2^24, far beyond any shape or index a graph holds).
 */

/** The weight bytes: all shards concatenated in manifest order, or a function from a shard path to its bytes. */
export type WeightSource = Uint8Array | ArrayBuffer | ((path: string) => Uint8Array | ArrayBuffer);

export type WeightDtype = 'float32' | 'int32' | 'bool';

export interface Weight {
  name: string;
  /** The dtype the model computes with (a quantized float32 weight is 'float32'). */
  dtype: WeightDtype;
  tensor: Tensor;
}

interface WeightSpec {
  name: string;
  shape: number[];
  dtype: WeightDtype;
  quantization: { dtype: 'uint8' | 'uint16' | 'float16'; scale: number; min: number } | null;
  where: string;
}

interface ManifestGroup {
  paths: string[];
  weights: WeightSpec[];
}

const STORED_BYTES = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2 } as const;

function readSpec(value: unknown, where: string): WeightSpec {
  const spec = object(value, where);
  const name = string(spec.name, `${where}.name`).replace(/:0$/, '');
  const shape = array(spec.shape, `${where}.shape`).map((d, i) => integer(d, `${where}.shape[${i}]`, 0));
  const dtype = spec.dtype === undefined ? 'float32' : string(spec.dtype, `${where}.dtype`);
  if (dtype !== 'float32' && dtype !== 'int32' && dtype !== 'bool') {
    throw new TfjsError(`loadTfjsModel: weight '${name}' (${where}) has dtype '${dtype}'; accepted: 'float32', 'int32', 'bool'`, 'E_TFJS_UNSUPPORTED');
  }
  let quantization: WeightSpec['quantization'] = null;
  if (spec.quantization !== undefined && spec.quantization !== null) {
    const q = object(spec.quantization, `${where}.quantization`);
    const qtype = string(q.dtype, `${where}.quantization.dtype`);
    if (qtype === 'float16') {
      if (dtype !== 'float32') throw new TfjsError(`loadTfjsModel: weight '${name}' is ${dtype} but quantized to float16; float16 quantization applies to float32 weights`);
      quantization = { dtype: 'float16', scale: 1, min: 0 };
    } else if (qtype === 'uint8' || qtype === 'uint16') {
      if (dtype === 'bool') throw new TfjsError(`loadTfjsModel: weight '${name}' is bool but quantized to ${qtype}`);
      const min = number(q.min, `${where}.quantization.min`);
      let scale: number;
      if (q.scale !== undefined) scale = number(q.scale, `${where}.quantization.scale`);
      else if (q.max !== undefined) scale = (number(q.max, `${where}.quantization.max`) - min) / (qtype === 'uint8' ? 255 : 65535);
      else throw new TfjsError(`loadTfjsModel: weight '${name}' (${where}.quantization) is ${qtype}-quantized without 'scale' or 'max'; accepted: {dtype, scale, min} or {dtype, min, max}`);
      quantization = { dtype: qtype, scale, min };
    } else {
      throw new TfjsError(`loadTfjsModel: weight '${name}' has quantization dtype '${qtype}'; accepted: 'uint8', 'uint16', 'float16'`, 'E_TFJS_UNSUPPORTED');
    }
  }
  return { name, shape, dtype: dtype as WeightDtype, quantization, where };
}

function readManifest(value: unknown): ManifestGroup[] {
  return array(value, 'weightsManifest').map((g, i) => {
    const group = object(g, `weightsManifest[${i}]`);
    return {
      paths: array(group.paths, `weightsManifest[${i}].paths`).map((p, k) => string(p, `weightsManifest[${i}].paths[${k}]`)),
      weights: array(group.weights, `weightsManifest[${i}].weights`).map((w, k) => readSpec(w, `weightsManifest[${i}].weights[${k}]`)),
    };
  });
}

function bytesOf(data: Uint8Array | ArrayBuffer | unknown, what: string): Uint8Array {
  if (data instanceof Uint8Array) return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  throw new TfjsError(`loadTfjsModel: ${what} must be a Uint8Array or ArrayBuffer; got ${data === null ? 'null' : typeof data}`, 'E_TFJS_WEIGHTS');
}

/** Bytes of one group: its shards, read through the resolver and concatenated. */
function groupBytes(group: ManifestGroup, resolve: (path: string) => Uint8Array | ArrayBuffer): Uint8Array {
  const parts = group.paths.map((path) => {
    let data: unknown;
    try {
      data = resolve(path);
    } catch (e) {
      if (e instanceof TinycamError) throw e;
      throw new TfjsError(`loadTfjsModel: cannot read weight shard '${path}': ${(e as Error).message}`, 'E_TFJS_WEIGHTS');
    }
    if (data === undefined || data === null) {
      throw new TfjsError(`loadTfjsModel: weight shard '${path}' is missing (the weights function returned ${String(data)})`, 'E_TFJS_WEIGHTS');
    }
    return bytesOf(data, `the bytes of shard '${path}'`);
  });
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function storedSize(spec: WeightSpec): number {
  return sizeOf(spec.shape) * STORED_BYTES[spec.quantization ? spec.quantization.dtype : spec.dtype];
}

function decode(spec: WeightSpec, bytes: Uint8Array, offset: number): Tensor {
  const size = sizeOf(spec.shape);
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, storedSize(spec));
  const out = new Float32Array(size);
  const q = spec.quantization;
  if (q?.dtype === 'uint8') {
    for (let i = 0; i < size; i++) out[i] = view.getUint8(i) * q.scale + q.min;
  } else if (q?.dtype === 'uint16') {
    for (let i = 0; i < size; i++) out[i] = view.getUint16(2 * i, true) * q.scale + q.min;
  } else if (q?.dtype === 'float16') {
    for (let i = 0; i < size; i++) out[i] = halfToFloat(view.getUint16(2 * i, true));
  } else if (spec.dtype === 'float32') {
    for (let i = 0; i < size; i++) out[i] = view.getFloat32(4 * i, true);
  } else if (spec.dtype === 'int32') {
    for (let i = 0; i < size; i++) out[i] = view.getInt32(4 * i, true);
  } else {
    for (let i = 0; i < size; i++) out[i] = view.getUint8(i) ? 1 : 0;
  }
  // Quantized int32 weights are rounded, as TensorFlow.js does.
  if (q && spec.dtype === 'int32') for (let i = 0; i < size; i++) out[i] = Math.round(out[i]!);
  return new Tensor(out, spec.shape);
}

/**
 * Every weight of the manifest by name. With concatenated bytes the groups
 * follow each other in manifest order; with a function each group reads its
 * own shards. Short data, a missing shard or a duplicated name is a TfjsError.
 */
export function readWeights(manifest: unknown, source: WeightSource | undefined): Map<string, Weight> {
  const groups = manifest === undefined || manifest === null ? [] : readManifest(manifest);
  const weights = new Map<string, Weight>();
  const needed = groups.reduce((n, g) => n + g.weights.reduce((m, w) => m + storedSize(w), 0), 0);
  if (needed > 0 && source === undefined) {
    throw new TfjsError(
      `loadTfjsModel: the model has ${groups.reduce((n, g) => n + g.weights.length, 0)} weights (${needed} bytes in ${groups.reduce((n, g) => n + g.paths.length, 0)} shard(s)); pass them as options.weights (the shards concatenated, or a function from shard path to bytes)`,
      'E_TFJS_WEIGHTS',
    );
  }
  const all = typeof source === 'function' ? null : source === undefined ? new Uint8Array(0) : bytesOf(source, 'options.weights');
  let allOffset = 0;
  for (const group of groups) {
    const bytes = all ?? groupBytes(group, source as (path: string) => Uint8Array | ArrayBuffer);
    let offset = all ? allOffset : 0;
    for (const spec of group.weights) {
      const size = storedSize(spec);
      if (offset + size > bytes.length) {
        const paths = group.paths.map((p) => `'${p}'`).join(', ');
        throw new TfjsError(
          `loadTfjsModel: the weight data is too short: weight '${spec.name}' (${spec.shape.length ? spec.shape.join('x') : 'scalar'} ${spec.quantization?.dtype ?? spec.dtype}, ${size} bytes) ` +
            `needs bytes ${offset} to ${offset + size} of ${all ? 'the concatenated weights' : `the shards ${paths}`}, which hold${all ? 's' : ''} ${bytes.length}. ` +
            `The manifest needs ${needed} bytes in all: the shards are truncated or do not belong to this model.json`,
          'E_TFJS_WEIGHTS',
        );
      }
      if (weights.has(spec.name)) throw new TfjsError(`loadTfjsModel: the manifest lists weight '${spec.name}' twice (${spec.where})`);
      weights.set(spec.name, { name: spec.name, dtype: spec.dtype, tensor: decode(spec, bytes, offset) });
      offset += size;
    }
    if (!all && offset !== bytes.length) {
      throw new TfjsError(
        `loadTfjsModel: the shards ${group.paths.map((p) => `'${p}'`).join(', ')} hold ${bytes.length} bytes but their manifest group describes ${offset}: they do not belong to this model.json`,
        'E_TFJS_WEIGHTS',
      );
    }
    allOffset = offset;
  }
  if (all && allOffset !== all.length) {
    throw new TfjsError(
      `loadTfjsModel: options.weights holds ${all.length} bytes but the manifest describes ${allOffset}: the weights do not belong to this model.json`,
      'E_TFJS_WEIGHTS',
    );
  }
  return weights;
}
