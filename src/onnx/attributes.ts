import { OnnxError } from './errors.js';
import { nodeLabel } from './names.js';
import { AttributeType, type AttributeProto, type GraphProto, type NodeProto } from './proto.js';
import { tensorFromProto, type DecodedTensor } from './tensorData.js';

const TYPE_NAMES: Record<number, string> = Object.fromEntries(Object.entries(AttributeType).map(([k, v]) => [v, k]));

/**
 * A node's attributes, read with ONNX's defaults: the one place that reads
 * attributes, for the ops at run time and for the loader's checks from the
 * node alone. `attributesOf(node)` shares one reader per node.
 *
 *   const attrs = attributesOf(node);
 *   attrs.int('group', 1); attrs.ints('pads'); attrs.string('auto_pad', 'NOTSET');
 *
 * An attribute stored with another type than the one asked for is an
 * OnnxError naming the node (files from before IR 3 leave the type 0: those
 * are read as asked).
 */
export class Attributes {
  readonly #byName = new Map<string, AttributeProto>();
  readonly #label: string;

  constructor(node: NodeProto, label = nodeLabel(node)) {
    // The last of duplicated names wins, as protobuf's map semantics would have it.
    for (const a of node.attributes) this.#byName.set(a.name, a);
    this.#label = label;
  }

  has(name: string): boolean {
    return this.#byName.has(name);
  }

  #get(name: string, types: readonly number[]): AttributeProto | undefined {
    const a = this.#byName.get(name);
    if (a && a.type !== 0 && !types.includes(a.type)) {
      throw new OnnxError(
        `loadOnnx: node ${this.#label}: attribute '${name}' has type ${TYPE_NAMES[a.type] ?? a.type}, expected ${types.map((t) => TYPE_NAMES[t]).join(' or ')}`,
      );
    }
    return a;
  }

  int(name: string, fallback: number): number {
    const a = this.#get(name, [AttributeType.INT]);
    return a ? a.i : fallback;
  }

  float(name: string, fallback: number): number {
    const a = this.#get(name, [AttributeType.FLOAT]);
    return a ? a.f : fallback;
  }

  string(name: string, fallback: string): string;
  string(name: string): string | undefined;
  string(name: string, fallback?: string): string | undefined {
    const a = this.#get(name, [AttributeType.STRING]);
    return a && a.s ? utf8.decode(a.s) : fallback;
  }

  ints(name: string): number[] | undefined {
    const a = this.#get(name, [AttributeType.INTS]);
    return a ? a.ints : undefined;
  }

  floats(name: string): number[] | undefined {
    const a = this.#get(name, [AttributeType.FLOATS]);
    return a ? a.floats : undefined;
  }

  tensor(name: string): DecodedTensor | undefined {
    const a = this.#get(name, [AttributeType.TENSOR]);
    return a && a.t ? tensorFromProto(a.t) : undefined;
  }

  /** A GRAPH attribute (If's then_branch / else_branch), or undefined. */
  graph(name: string): GraphProto | undefined {
    const a = this.#get(name, [AttributeType.GRAPH]);
    return a?.g ?? undefined;
  }
}

const utf8 = new TextDecoder();
const readers = new WeakMap<NodeProto, Attributes>();

/** The attribute reader of a node (one per node object, made on first use). */
export function attributesOf(node: NodeProto): Attributes {
  let attrs = readers.get(node);
  if (!attrs) {
    attrs = new Attributes(node);
    readers.set(node, attrs);
  }
  return attrs;
}
