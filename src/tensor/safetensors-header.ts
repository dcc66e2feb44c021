/**
 * A strict JSON reader for safetensors headers. JSON.parse cannot be used
 * on a hostile header: it keeps the last of two equal keys without a word,
 * gives objects a prototype that a key named `__proto__` replaces, and a
 * 100 MB header of nested arrays takes it minutes and gigabytes. This
 * reader is linear, builds null-prototype objects, refuses duplicate keys,
 * and refuses the structures no safetensors header has: containers nested
 * deeper than { name: { shape: [ ... ] } } and arrays longer than a shape
 * or an offset pair can be.
 */
import { SafetensorsError } from './errors.js';

/** Objects and arrays inside one another: the header, a tensor entry, its shape. */
const MAX_DEPTH = 3;
/** Values in one array: a header's arrays are shapes and offset pairs. */
const MAX_ARRAY = 1024;

export type HeaderValue = string | number | boolean | null | HeaderValue[] | { [key: string]: HeaderValue };

const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;

class Reader {
  pos = 0;
  constructor(private readonly text: string) {}

  fail(what: string): never {
    throw new SafetensorsError(`loadSafetensors: the header is not a safetensors JSON header: ${what} (at character ${this.pos})`);
  }

  space(): void {
    const t = this.text;
    while (this.pos < t.length) {
      const c = t.charCodeAt(this.pos);
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return;
      this.pos++;
    }
  }

  value(depth: number): HeaderValue {
    this.space();
    const c = this.text[this.pos];
    if (c === '{' || c === '[') {
      if (depth >= MAX_DEPTH) this.fail(`values nest deeper than a safetensors header's { name: { shape: [...] } }`);
      return c === '{' ? this.object(depth + 1) : this.array(depth + 1);
    }
    if (c === '"') return this.string();
    if (this.text.startsWith('true', this.pos)) return (this.pos += 4), true;
    if (this.text.startsWith('false', this.pos)) return (this.pos += 5), false;
    if (this.text.startsWith('null', this.pos)) return (this.pos += 4), null;
    NUMBER.lastIndex = this.pos;
    const m = NUMBER.exec(this.text);
    if (!m) this.fail(c === undefined ? 'it ends early' : `unexpected ${JSON.stringify(c)}`);
    this.pos += m[0].length;
    return Number(m[0]);
  }

  object(depth: number): { [key: string]: HeaderValue } {
    const out: { [key: string]: HeaderValue } = Object.create(null);
    this.pos++; // {
    this.space();
    if (this.text[this.pos] === '}') return this.pos++, out;
    for (;;) {
      this.space();
      if (this.text[this.pos] !== '"') this.fail('expected a key in double quotes');
      const key = this.string();
      if (Object.hasOwn(out, key)) this.fail(`the key ${JSON.stringify(key)} appears twice in one object`);
      this.space();
      if (this.text[this.pos] !== ':') this.fail('expected ":" after a key');
      this.pos++;
      out[key] = this.value(depth);
      this.space();
      const c = this.text[this.pos++];
      if (c === '}') return out;
      if (c !== ',') this.fail('expected "," or "}" in an object');
    }
  }

  array(depth: number): HeaderValue[] {
    const out: HeaderValue[] = [];
    this.pos++; // [
    this.space();
    if (this.text[this.pos] === ']') return this.pos++, out;
    for (;;) {
      if (out.length === MAX_ARRAY) this.fail(`an array holds more than ${MAX_ARRAY} values; a header's arrays are shapes and offset pairs`);
      out.push(this.value(depth));
      this.space();
      const c = this.text[this.pos++];
      if (c === ']') return out;
      if (c !== ',') this.fail('expected "," or "]" in an array');
    }
  }

  string(): string {
    const t = this.text;
    const start = this.pos++;
    let escaped = false;
    for (;;) {
      if (this.pos >= t.length) this.fail('a string is not closed');
      const c = t.charCodeAt(this.pos++);
      if (c === 0x22) break;
      if (c < 0x20) this.fail('a control character inside a string');
      if (c === 0x5c) {
        escaped = true;
        this.pos++;
      }
    }
    if (!escaped) return t.slice(start + 1, this.pos - 1);
    try {
      return JSON.parse(t.slice(start, this.pos)) as string; // a string token alone: its escapes, checked
    } catch {
      return this.fail('an invalid escape in a string');
    }
  }
}

/** Parses the header text into null-prototype objects; fails with a SafetensorsError that says what is wrong. */
export function parseHeaderJson(text: string): HeaderValue {
  const reader = new Reader(text);
  const value = reader.value(0);
  reader.space();
  if (reader.pos !== text.length) reader.fail('more text after the header object');
  return value;
}
