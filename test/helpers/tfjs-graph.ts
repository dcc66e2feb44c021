/**
 * Hand-written GraphDefs in the JSON form tensorflowjs_converter writes
 * (model.json with format 'graph-model'), so tests can run the same graph in
 * TensorFlow.js (tf.loadGraphModel) and in tinycam. Weights are seeded.
 */
import { Rng } from '../../src/tensor/random.js';
import { tf } from './tfjs.js';

type Attr = Record<string, unknown>;

const b64 = (text: string): string => Buffer.from(text).toString('base64');

/** Attribute values as protobuf's JSON mapping writes them. */
export const attr = {
  float: { type: 'DT_FLOAT' },
  int32: { type: 'DT_INT32' },
  s: (text: string) => ({ s: b64(text) }),
  i: (n: number) => ({ i: String(n) }),
  f: (x: number) => ({ f: x }),
  b: (x: boolean) => ({ b: x }),
  ints: (xs: number[]) => ({ list: { i: xs.map(String) } }),
  strings: (xs: string[]) => ({ list: { s: xs.map(b64) } }),
};

export class GraphBuilder {
  readonly nodes: { name: string; op: string; input?: string[]; attr: Attr }[] = [];
  readonly weights: { name: string; shape: number[]; dtype: 'float32' | 'int32'; values: number[] }[] = [];
  readonly #rng: Rng;

  constructor(seed: number) {
    this.#rng = new Rng(seed);
  }

  input(name: string, shape: number[]): string {
    this.nodes.push({ name, op: 'Placeholder', attr: { dtype: attr.float, shape: { shape: { dim: shape.map((d) => ({ size: String(d) })) } } } });
    return name;
  }

  /** A Const whose value is in the weights manifest. */
  constant(name: string, shape: number[], values: number[], dtype: 'float32' | 'int32' = 'float32'): string {
    this.nodes.push({
      name,
      op: 'Const',
      attr: { value: { tensor: { dtype: dtype === 'int32' ? 'DT_INT32' : 'DT_FLOAT', tensorShape: { dim: shape.map((d) => ({ size: String(d) })) } } }, dtype: dtype === 'int32' ? attr.int32 : attr.float },
    });
    this.weights.push({ name, shape, dtype, values });
    return name;
  }

  /** A Const of seeded normal values scaled by `scale` (around `offset`). */
  random(name: string, shape: number[], scale = 1, offset = 0): string {
    const size = shape.reduce((a, b) => a * b, 1);
    return this.constant(name, shape, Array.from({ length: size }, () => offset + scale * this.#rng.normal()));
  }

  ints(name: string, values: number[], shape = [values.length]): string {
    return this.constant(name, shape, values, 'int32');
  }

  op(name: string, op: string, inputs: string[], attrs: Attr = {}): string {
    this.nodes.push({ name, op, input: inputs, attr: { T: attr.float, ...attrs } });
    return name;
  }

  /** model.json and the weight bytes. */
  build(outputs?: string[]): { modelJson: Record<string, unknown>; weights: Uint8Array } {
    const bytes: number[] = [];
    for (const w of this.weights) {
      const buffer = w.dtype === 'int32' ? new Int32Array(w.values).buffer : new Float32Array(w.values).buffer;
      bytes.push(...new Uint8Array(buffer));
    }
    const modelJson: Record<string, unknown> = {
      format: 'graph-model',
      generatedBy: 'tinycam tests',
      convertedBy: 'tinycam tests',
      modelTopology: { node: this.nodes, library: {}, versions: { producer: 1 } },
      weightsManifest: [{ paths: ['weights.bin'], weights: this.weights.map(({ name, shape, dtype }) => ({ name, shape, dtype })) }],
    };
    if (outputs) {
      const inputs = this.nodes.filter((n) => n.op === 'Placeholder').map((n) => n.name);
      modelJson.userDefinedMetadata = {
        signature: {
          inputs: Object.fromEntries(inputs.map((n) => [`${n}:0`, { name: `${n}:0`, dtype: 'DT_FLOAT' }])),
          outputs: Object.fromEntries(outputs.map((n) => [`${n}:0`, { name: `${n}:0`, dtype: 'DT_FLOAT' }])),
        },
      };
    }
    return { modelJson, weights: new Uint8Array(bytes) };
  }
}

/** TensorFlow.js's GraphModel for a model.json and its weights. */
export async function tfjsGraphModel(modelJson: Record<string, unknown>, weights: Uint8Array): Promise<tf.GraphModel> {
  const manifest = modelJson.weightsManifest as { weights: tf.io.WeightsManifestEntry[] }[];
  return tf.loadGraphModel(
    tf.io.fromMemory({
      modelTopology: modelJson.modelTopology as object,
      format: 'graph-model',
      userDefinedMetadata: modelJson.userDefinedMetadata as object | undefined,
      weightSpecs: manifest.flatMap((g) => g.weights),
      weightData: weights.slice().buffer,
    } as tf.io.ModelArtifacts),
  );
}
