/**
 * TensorFlow.js as the reference for its own formats (tests only; tinycam
 * never loads it at run time): save a model built with its layers API as
 * model.json + weight bytes, predict, and take A and dA = d score / d A at a
 * layer with tf.grad.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { Tensor } from '../../src/tensor/tensor.js';

// The pure-JS CPU backend: the same numbers on every machine (no WebGL in Node).
await tf.setBackend('cpu');

/**
 * Run `fn` on tfjs's WebAssembly backend, then go back to 'cpu'. For the
 * real models' references (InceptionV3's forward pass at 299 takes about
 * 25 s on 'cpu', a second on 'wasm'; MobileNetV2's A and dA by tf.grad 8.8 s
 * against 1.1 s, within 4.5e-6 relative of 'cpu'), which keeps CI under its
 * time budget. The small models built in the tests stay on 'cpu'.
 */
export async function onTfjsWasm<T>(fn: () => T): Promise<T> {
  await tf.setBackend('wasm');
  try {
    return fn();
  } finally {
    await tf.setBackend('cpu');
  }
}

/**
 * onTfjsWasm for a tf.grad whose path may need a kernel tfjs-backend-wasm
 * does not register (Conv2DBackpropFilter: tfjs differentiates a conv's
 * filter too when it is a trainable variable): such a run is repeated on 'cpu'.
 */
export async function onTfjsWasmElseCpu<T>(fn: () => T): Promise<T> {
  try {
    return await onTfjsWasm(fn);
  } catch (e) {
    if (!/not registered for backend .wasm./.test((e as Error).message)) throw e;
    return fn();
  }
}

export { tf };

export interface SavedModel {
  /** model.json as tfjs's file writer lays it out. */
  modelJson: {
    modelTopology: unknown;
    format?: string;
    generatedBy?: string;
    convertedBy?: string | null;
    weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
  };
  /** All weights, concatenated. */
  weights: Uint8Array;
}

/** model.save through tf.io.withSaveHandler: the model.json and weight bytes model.save writes. */
export async function saveModel(model: tf.LayersModel, config?: tf.io.SaveConfig): Promise<SavedModel> {
  let artifacts: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      artifacts = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
    config,
  );
  const a = artifacts!;
  const data = a.weightData;
  const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(tf.io.concatenateArrayBuffers(data as ArrayBuffer[]));
  return {
    modelJson: {
      modelTopology: a.modelTopology,
      format: a.format,
      generatedBy: a.generatedBy,
      convertedBy: a.convertedBy ?? null,
      weightsManifest: [{ paths: ['weights.bin'], weights: a.weightSpecs ?? [] }],
    },
    weights: bytes,
  };
}

/**
 * A copy of saved weights quantized as tensorflowjs_converter does
 * (uint8/uint16 affine with min and scale, or float16), with the manifest
 * entries that describe them, split into shards of `shardBytes`.
 */
export function quantize(saved: SavedModel, dtype: 'uint8' | 'uint16' | 'float16', shardBytes = Infinity): { modelJson: SavedModel['modelJson']; shards: Map<string, Uint8Array> } {
  const specs = saved.modelJson.weightsManifest.flatMap((g) => g.weights);
  const view = new DataView(saved.weights.buffer, saved.weights.byteOffset, saved.weights.byteLength);
  let offset = 0;
  const parts: Uint8Array[] = [];
  const out: tf.io.WeightsManifestEntry[] = [];
  for (const spec of specs) {
    const size = spec.shape.reduce((a, b) => a * b, 1);
    const values = new Float32Array(size);
    for (let i = 0; i < size; i++) values[i] = view.getFloat32(offset + 4 * i, true);
    offset += 4 * size;
    if (dtype === 'float16') {
      const bytes = new Uint8Array(size * 2);
      const dv = new DataView(bytes.buffer);
      for (let i = 0; i < size; i++) dv.setUint16(2 * i, toHalf(values[i]!), true);
      parts.push(bytes);
      out.push({ ...spec, quantization: { dtype: 'float16' } });
      continue;
    }
    const levels = dtype === 'uint8' ? 255 : 65535;
    const min = values.reduce((a, b) => Math.min(a, b), Infinity);
    let max = values.reduce((a, b) => Math.max(a, b), -Infinity);
    if (min === max) max = min + 1;
    const scale = (max - min) / levels;
    const bytes = new Uint8Array(size * (dtype === 'uint8' ? 1 : 2));
    const dv = new DataView(bytes.buffer);
    for (let i = 0; i < size; i++) {
      const q = Math.round((values[i]! - min) / scale);
      if (dtype === 'uint8') dv.setUint8(i, q);
      else dv.setUint16(2 * i, q, true);
    }
    parts.push(bytes);
    out.push({ ...spec, quantization: { dtype, min, scale } });
  }
  const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.length;
  }
  const shards = new Map<string, Uint8Array>();
  const count = Math.max(1, Math.ceil(all.length / shardBytes));
  for (let i = 0; i < count; i++) {
    shards.set(`group1-shard${i + 1}of${count}.bin`, all.slice(i * Math.ceil(all.length / count), (i + 1) * Math.ceil(all.length / count)));
  }
  return {
    modelJson: { ...saved.modelJson, weightsManifest: [{ paths: [...shards.keys()], weights: out }] },
    shards,
  };
}

/** float32 -> IEEE half bits, round to nearest even (as numpy's astype(float16)). */
function toHalf(value: number): number {
  const f = new Float32Array([value]);
  const u = new Uint32Array(f.buffer)[0]!;
  const sign = (u >>> 16) & 0x8000;
  const exp = (u >>> 23) & 0xff;
  let mant = u & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >> shift;
    const rest = mant & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rest > halfway || (rest === halfway && half & 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >> 13);
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && half & 1)) half++;
  return sign | half;
}

/** A tinycam tensor as a tfjs tensor of the same shape. */
export function toTf(t: Tensor): tf.Tensor {
  return tf.tensor(t.data, [...t.shape]);
}

/** A tfjs tensor's values as a tinycam tensor. */
export function fromTf(t: tf.Tensor): Tensor {
  return new Tensor(Float32Array.from(t.dataSync()), t.shape);
}

/** model.predict on one input (or several). */
export function predict(model: tf.LayersModel, input: Tensor | Tensor[]): Tensor[] {
  const inputs = Array.isArray(input) ? input : [input];
  let result: Tensor[] = [];
  tf.tidy(() => {
    const out = model.predict(inputs.length === 1 ? toTf(inputs[0]!) : inputs.map(toTf));
    result = (Array.isArray(out) ? out : [out]).map(fromTf);
  });
  return result;
}

/**
 * A = the output of `layer` (found anywhere, nested models included) and
 * dA = d score / d A by tf.grad: a first run records A; a second run, under
 * tf.grad of A, has the layer return A instead of computing its output, so
 * the gradient reaches A through everything downstream of the layer (and
 * nothing upstream: tfjs has no gradient for some ops upstream layers use,
 * e.g. dilated convolutions).
 */
export function activationAndGradient(
  model: tf.LayersModel,
  input: Tensor,
  layerName: string,
  score: (output: tf.Tensor) => tf.Scalar,
  options: { output?: number; beforeSoftmax?: boolean } = {},
): { output: Tensor; activation: Tensor; gradient: Tensor } {
  const layer = findLayer(model, layerName);
  const original = layer.call.bind(layer);
  const final = options.beforeSoftmax ? withoutFinalSoftmax(model) : null;
  try {
    let output: Tensor | null = null;
    let activation: Tensor | null = null;
    let gradient: Tensor | null = null;
    tf.tidy(() => {
      const x = toTf(input);
      let a: tf.Tensor | null = null;
      layer.call = (inputs, kwargs) => {
        const y = original(inputs, kwargs) as tf.Tensor;
        a = tf.keep(y.clone());
        return y;
      };
      model.apply(x, { training: false });
      activation = fromTf(a!);
      const f = (given: tf.Tensor): tf.Scalar => {
        layer.call = () => given;
        const out = model.apply(x, { training: false }) as tf.Tensor | tf.Tensor[];
        const chosen = Array.isArray(out) ? out[options.output ?? 0]! : out;
        output = fromTf(chosen);
        return score(chosen);
      };
      gradient = fromTf(tf.grad(f)(a!));
      a!.dispose();
    });
    return { output: output!, activation: activation!, gradient: gradient! };
  } finally {
    layer.call = original;
    final?.restore();
  }
}

/** The layer named `name` in `model` or any model nested in it. */
export function findLayer(model: tf.LayersModel, name: string): tf.layers.Layer {
  for (const layer of model.layers) {
    if (layer.name === name) return layer;
    if (layer instanceof tf.LayersModel) {
      try {
        return findLayer(layer, name);
      } catch {
        // not in this one
      }
    }
  }
  throw new Error(`no layer '${name}' in ${model.name}`);
}

/**
 * Switch the model's last layer's softmax activation to linear for a run
 * (the logits the CAM methods explain), returning how to restore it.
 */
export function withoutFinalSoftmax(model: tf.LayersModel): { restore: () => void } {
  let last: tf.layers.Layer = model.layers[model.layers.length - 1]!;
  while (last instanceof tf.LayersModel) last = last.layers[last.layers.length - 1]!;
  const holder = last as unknown as { activation?: { getClassName(): string } };
  const saved = holder.activation;
  if (!saved || saved.getClassName() !== 'softmax') throw new Error(`layer '${last.name}' does not end in a softmax`);
  holder.activation = (tf.layers.activation({ activation: 'linear' }) as unknown as { activation: typeof saved }).activation;
  return { restore: () => void (holder.activation = saved) };
}
