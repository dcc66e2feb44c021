import { decodeBase64Checked } from '../../tensor/base64.js';
import { TfjsError } from '../errors.js';
import { isObject, type JsonObject } from '../json.js';

/**
 * The attributes of a GraphDef node as tensorflowjs_converter writes them
 * (protobuf's JSON mapping): {i: "2"} (int64 as a string), {f: 0.5},
 * {b: true}, {s: base64}, {type: 'DT_FLOAT'}, {shape: {dim: [...]}},
 * {list: {i: [...], s: [...], f: [...]}}.
 */
export class Attrs {
  readonly #raw: JsonObject;
  readonly #where: string;

  constructor(raw: unknown, where: string) {
    this.#raw = isObject(raw) ? raw : {};
    this.#where = where;
  }

  has(name: string): boolean {
    return Object.hasOwn(this.#raw, name);
  }

  #value(name: string): JsonObject | undefined {
    const v = this.#raw[name];
    return isObject(v) ? v : undefined;
  }

  #bad(name: string, expected: string): TfjsError {
    return new TfjsError(`loadTfjsModel: ${this.#where}: attribute '${name}' must be ${expected}; got ${JSON.stringify(this.#raw[name])}`);
  }

  int(name: string, fallback: number): number {
    const v = this.#value(name);
    if (!v || v.i === undefined) return fallback;
    const n = Number(v.i);
    if (!Number.isInteger(n)) throw this.#bad(name, 'an integer');
    return n;
  }

  float(name: string, fallback: number): number {
    const v = this.#value(name);
    if (!v || v.f === undefined) return fallback;
    const n = Number(v.f);
    if (!Number.isFinite(n)) throw this.#bad(name, 'a number');
    return n;
  }

  bool(name: string, fallback: boolean): boolean {
    const v = this.#value(name);
    if (!v || v.b === undefined) return fallback;
    return v.b === true;
  }

  string(name: string, fallback: string): string {
    const v = this.#value(name);
    if (!v || typeof v.s !== 'string') return fallback;
    return decodeBase64Text(v.s);
  }

  ints(name: string): number[] | undefined {
    const list = this.#value(name)?.list;
    if (!isObject(list)) return undefined;
    const i = list.i;
    if (i === undefined) return [];
    if (!Array.isArray(i)) throw this.#bad(name, 'a list of integers');
    return i.map((x) => {
      const n = Number(x);
      if (!Number.isInteger(n)) throw this.#bad(name, 'a list of integers');
      return n;
    });
  }

  strings(name: string): string[] | undefined {
    const list = this.#value(name)?.list;
    if (!isObject(list)) return undefined;
    const s = list.s;
    if (s === undefined) return [];
    if (!Array.isArray(s) || !s.every((x) => typeof x === 'string')) throw this.#bad(name, 'a list of strings');
    return (s as string[]).map(decodeBase64Text);
  }

  type(name: string): string | undefined {
    const v = this.#value(name);
    return v && typeof v.type === 'string' ? v.type : undefined;
  }
}

/** Base64 to text, without Node's Buffer (atob is in browsers, workers and Node 16+). */
export function decodeBase64Text(base64: string): string {
  return new TextDecoder().decode(decodeBase64Checked(base64));
}
