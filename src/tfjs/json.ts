import { TfjsError } from './errors.js';

/**
 * Typed reading of the parsed model.json, which is `unknown` until checked:
 * each reader names where in the file the value sits, so a malformed file
 * gives a TfjsError that points at the field ("modelTopology.config.layers[3].config.filters").
 */

export type JsonObject = Readonly<Record<string, unknown>>;

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}

export function malformed(where: string, expected: string, value: unknown): TfjsError {
  return new TfjsError(`loadTfjsModel: ${where} must be ${expected}; got ${describe(value)}`);
}

export function object(value: unknown, where: string): JsonObject {
  if (!isObject(value)) throw malformed(where, 'an object', value);
  return value;
}

export function array(value: unknown, where: string): readonly unknown[] {
  if (!Array.isArray(value)) throw malformed(where, 'an array', value);
  return value;
}

export function string(value: unknown, where: string): string {
  if (typeof value !== 'string') throw malformed(where, 'a string', value);
  return value;
}

export function number(value: unknown, where: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw malformed(where, 'a finite number', value);
  return value;
}

export function integer(value: unknown, where: string, min = -Infinity): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw malformed(where, min === -Infinity ? 'an integer' : `an integer >= ${min}`, value);
  }
  return value;
}

export function boolean(value: unknown, where: string): boolean {
  if (typeof value !== 'boolean') throw malformed(where, 'true or false', value);
  return value;
}

/** A list of integers, or one integer repeated `length` times (Keras's int-or-tuple sizes). */
export function integers(value: unknown, where: string, length: number, min = -Infinity): number[] {
  if (typeof value === 'number') return new Array<number>(length).fill(integer(value, where, min));
  if (!Array.isArray(value)) throw malformed(where, `an integer or a list of ${length} integers`, value);
  const list: readonly unknown[] = value;
  if (list.length !== length) throw malformed(where, `an integer or a list of ${length} integers`, value);
  return list.map((v, i) => integer(v, `${where}[${i}]`, min));
}

/** A field of a Keras config, with its snake_case name (Keras, converter) or camelCase (older tfjs saves). */
export class Config {
  readonly raw: JsonObject;
  readonly where: string;

  constructor(raw: unknown, where: string) {
    this.raw = object(raw, where);
    this.where = where;
  }

  /** The value under `name` (snake_case), or its camelCase spelling, or undefined. */
  get(name: string): unknown {
    if (Object.hasOwn(this.raw, name)) return this.raw[name];
    const camel = name.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
    return Object.hasOwn(this.raw, camel) ? this.raw[camel] : undefined;
  }

  has(name: string): boolean {
    const v = this.get(name);
    return v !== undefined && v !== null;
  }

  at(name: string): string {
    return `${this.where}.${name}`;
  }

  string(name: string, fallback?: string): string {
    const v = this.get(name);
    if ((v === undefined || v === null) && fallback !== undefined) return fallback;
    return string(v, this.at(name));
  }

  number(name: string, fallback?: number): number {
    const v = this.get(name);
    if ((v === undefined || v === null) && fallback !== undefined) return fallback;
    return number(v, this.at(name));
  }

  integer(name: string, fallback?: number, min?: number): number {
    const v = this.get(name);
    if ((v === undefined || v === null) && fallback !== undefined) return fallback;
    return integer(v, this.at(name), min);
  }

  boolean(name: string, fallback?: boolean): boolean {
    const v = this.get(name);
    if ((v === undefined || v === null) && fallback !== undefined) return fallback;
    return boolean(v, this.at(name));
  }

  integers(name: string, length: number, fallback?: number[], min?: number): number[] {
    const v = this.get(name);
    if ((v === undefined || v === null) && fallback !== undefined) return fallback;
    return integers(v, this.at(name), length, min);
  }

  /** A string field that must be one of `accepted` (the first is the default). */
  choice<T extends string>(name: string, accepted: readonly T[], fallback?: T): T {
    const v = this.get(name);
    if ((v === undefined || v === null) && fallback !== undefined) return fallback;
    const s = string(v, this.at(name));
    if (!(accepted as readonly string[]).includes(s)) {
      throw new TfjsError(`loadTfjsModel: ${this.at(name)} is '${s}'; accepted: ${accepted.map((a) => `'${a}'`).join(', ')}`);
    }
    return s as T;
  }
}
