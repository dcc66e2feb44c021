import { describe, expect, it } from 'vitest';
import { SafetensorsError, loadSafetensors, saveSafetensors, tensor, randn, Tensor } from '../src/index.js';
import { parseSafetensors } from '../src/tensor/safetensors.js';
import { fixtureBytes, manifest } from './helpers/fixtures.js';
import { describeReference } from './helpers/shared.js';

describe('safetensors', () => {
  it('round-trips tensors and metadata', () => {
    const dict = { 'a.weight': randn([2, 3, 4], { seed: 1 }), b: tensor([1.5]) , s: tensor(7) };
    const bytes = saveSafetensors(dict, { format: 'pt' });
    const back = loadSafetensors(bytes);
    expect(Object.keys(back).sort()).toEqual(['a.weight', 'b', 's']);
    expect(Array.from(back['a.weight']!.data)).toEqual(Array.from(dict['a.weight'].data));
    expect(back['s']!.shape).toEqual([]);
  });

  it('reads float32 data from a view at any offset of a larger buffer (a Node Buffer from a pool, unaligned)', () => {
    const dict = { w: randn([3, 5], { seed: 2 }), v: tensor([-0, 1e-40, 3.5]) };
    const bytes = saveSafetensors(dict);
    // Buffer.concat allocates from Node's pool; subarray(3) is a Buffer view whose slice() would not copy.
    const view = Buffer.concat([Buffer.alloc(3, 7), Buffer.from(bytes), Buffer.alloc(5, 9)]).subarray(3, 3 + bytes.length);
    const back = loadSafetensors(view);
    expect(Array.from(back['w']!.data)).toEqual(Array.from(dict.w.data));
    expect(Object.is(back['v']!.data[0], -0)).toBe(true);
    expect(Array.from(back['v']!.data)).toEqual(Array.from(dict.v.data));
  });

  it('converts F16, BF16 and F64 to float32', () => {
    const header = JSON.stringify({
      h: { dtype: 'F16', shape: [2], data_offsets: [0, 4] },
      b: { dtype: 'BF16', shape: [1], data_offsets: [4, 6] },
      d: { dtype: 'F64', shape: [1], data_offsets: [6, 14] },
    });
    const hb = new TextEncoder().encode(header);
    const bytes = new Uint8Array(8 + hb.length + 14);
    const v = new DataView(bytes.buffer);
    v.setBigUint64(0, BigInt(hb.length), true);
    bytes.set(hb, 8);
    const o = 8 + hb.length;
    v.setUint16(o, 0x3c00, true); // 1.0
    v.setUint16(o + 2, 0xc000, true); // -2.0
    v.setUint16(o + 4, 0x3fc0, true); // bf16 1.5
    v.setFloat64(o + 6, 0.25, true);
    const t = loadSafetensors(bytes);
    expect(Array.from(t['h']!.data)).toEqual([1, -2]);
    expect(t['b']!.item()).toBe(1.5);
    expect(t['d']!.item()).toBe(0.25);
  });

  it('rejects truncated and malformed files with a SafetensorsError', () => {
    const good = saveSafetensors({ w: randn([4, 4], { seed: 2 }) });
    for (const bad of [good.subarray(0, 4), good.subarray(0, 20), good.subarray(0, good.length - 1)]) {
      expect(() => loadSafetensors(bad)).toThrow(SafetensorsError);
    }
    const garbage = good.slice();
    garbage[10] = 0xff;
    expect(() => loadSafetensors(garbage)).toThrow(SafetensorsError);
    expect(() => loadSafetensors(good.subarray(0, good.length - 1))).toThrow(/truncated/);
  });
});

describeReference('fixtures', 'safetensors files written by Python', () => {
  it('reads every fixture model, including I64 num_batches_tracked scalars', () => {
    for (const m of manifest().models) {
      const w = loadSafetensors(fixtureBytes(m.safetensors));
      expect(Object.keys(w).length).toBeGreaterThan(0);
      const nbt = Object.entries(w).filter(([k]) => k.endsWith('num_batches_tracked'));
      for (const [, t] of nbt) expect(t.size).toBe(1);
    }
  });
});

/** A safetensors file from a header given as JSON text and a data section of `dataBytes` bytes (value i at byte i). */
function file(headerText: string, dataBytes: number): Uint8Array {
  const h = new TextEncoder().encode(headerText);
  const out = new Uint8Array(8 + h.length + dataBytes);
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
  out.set(h, 8);
  for (let i = 0; i < dataBytes; i++) out[8 + h.length + i] = i;
  return out;
}

const u8 = (begin: number, end: number) => ({ dtype: 'U8', shape: [end - begin], data_offsets: [begin, end] });

function expectError(bytes: Uint8Array, pattern: RegExp): void {
  let error: unknown;
  try {
    loadSafetensors(bytes);
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(SafetensorsError);
  expect((error as Error).message).toMatch(pattern);
}

describe('safetensors files the format forbids (as the reference implementation checks them)', () => {
  it('reads a well-formed file with tensors out of key order and an empty tensor (the control)', () => {
    const t = loadSafetensors(file(JSON.stringify({ b: u8(4, 6), a: u8(0, 4), e: { dtype: 'F32', shape: [0, 3], data_offsets: [6, 6] } }) + '   ', 6));
    expect(Array.from(t['a']!.data)).toEqual([0, 1, 2, 3]);
    expect(Array.from(t['b']!.data)).toEqual([4, 5]);
    expect(t['e']!.shape).toEqual([0, 3]);
  });

  it('refuses overlapping, aliased and gapped data_offsets and bytes after the last tensor', () => {
    expectError(file(JSON.stringify({ a: u8(0, 4), b: u8(2, 6) }), 6), /tensor 'b' at bytes 2..6 overlaps the tensor before it, which ends at 4/);
    expectError(file(JSON.stringify({ a: u8(0, 4), b: u8(0, 4) }), 4), /tensor '[ab]' at bytes 0..4 overlaps/);
    expectError(file(JSON.stringify({ a: u8(0, 4), b: u8(5, 6) }), 6), /1 unused bytes \(4..5\) before tensor 'b'/);
    expectError(file(JSON.stringify({ a: u8(1, 4) }), 4), /1 unused bytes \(0..1\) before tensor 'a'/);
    expectError(file(JSON.stringify({ a: u8(0, 4) }), 7), /the file has 3 bytes after the last tensor's data/);
    expectError(file(JSON.stringify({ a: u8(0, 4) }), 3), /need 4 bytes of data but the file has 3/);
  });

  it('refuses duplicate keys, in the header and inside an entry', () => {
    expectError(file('{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}}', 2), /the key "a" appears twice/);
    expectError(file('{"a":{"dtype":"U8","dtype":"F32","shape":[2],"data_offsets":[0,2]}}', 2), /the key "dtype" appears twice/);
  });

  it('reads tensors named __proto__, constructor or toString as ordinary entries of a record without prototype', () => {
    const text = `{"__proto__":${JSON.stringify(u8(0, 2))},"constructor":${JSON.stringify(u8(2, 3))},"toString":${JSON.stringify(u8(3, 4))}}`;
    const t = loadSafetensors(file(text, 4));
    expect(Object.getPrototypeOf(t)).toBe(null);
    expect(Object.keys(t).sort()).toEqual(['__proto__', 'constructor', 'toString']);
    expect(t['__proto__']).toBeInstanceOf(Tensor);
    expect(Array.from(t['__proto__']!.data)).toEqual([0, 1]);
    expect(Array.from(t['constructor']!.data)).toEqual([2]);
    // And back: saveSafetensors writes such a name as a key.
    const again = loadSafetensors(saveSafetensors(t));
    expect(Array.from(again['__proto__']!.data)).toEqual([0, 1]);
    expect(() => saveSafetensors({ __metadata__: tensor([1]) })).toThrow(/'__metadata__' is the format's metadata key/);
  });

  it('refuses __metadata__ that is not an object of strings, in a file and when saving', () => {
    for (const meta of ['[]', '1', '"x"', 'null', '{"epoch":3}', '{"a":{"b":"c"}}']) {
      expectError(file(`{"__metadata__":${meta}}`, 0), /__metadata__ must be an object of strings/);
    }
    expect(parseSafetensors(file('{"__metadata__":{"format":"pt","__proto__":"x"}}', 0)).metadata).toEqual(
      Object.assign(Object.create(null), { format: 'pt' }, Object.fromEntries([['__proto__', 'x']])),
    );
    expect(() => saveSafetensors({}, { epoch: 3 } as unknown as Record<string, string>)).toThrow(/metadata must be an object of strings/);
  });

  it('refuses a header over 100 MB from its length field, before reading it', () => {
    const b = new Uint8Array(16);
    new DataView(b.buffer).setBigUint64(0, 100_000_001n, true);
    expectError(b, /the header claims 100000001 bytes; at most 100000000 \(100 MB\) are accepted/);
    new DataView(b.buffer).setBigUint64(0, 2n ** 64n - 1n, true);
    expectError(b, /the header claims 18446744073709551615 bytes/);
  });

  it('stops at the first value nested deeper than a header can be, and at arrays longer than a shape', () => {
    // 10 MB of '[' (JSON.parse took minutes and gigabytes on 100 MB of them): refused at the fourth level.
    const nested = `{"a":{"shape":${'['.repeat(10_000_000)}`;
    expectError(file(nested, 0), /values nest deeper than a safetensors header's \{ name: \{ shape: \[...\] \} \} \(at character 15\)/);
    expectError(file(`[[[[1]]]]`, 0), /nest deeper/);
    const long = `{"a":{"dtype":"U8","shape":[${new Array(5000).fill(1).join(',')}],"data_offsets":[0,1]}}`;
    expectError(file(long, 1), /an array holds more than 1024 values/);
  });

  it('says what is wrong with a header that is not JSON, or not a header', () => {
    expectError(file('{"a":1,}', 0), /expected a key in double quotes/);
    expectError(file('{"a":{"dtype":"U8"} x', 0), /expected "," or "}"/);
    expectError(file('{"a\u0001":1}', 0), /a control character inside a string/); // a raw U+0001 in a key
    expectError(file('{"a":"\\q"}', 0), /invalid escape/);
    expectError(file('{} {}', 0), /more text after the header object/);
    expectError(file('[]', 0), /must be a JSON object of tensor entries/);
    expectError(file('{"a":{"dtype":"U8","shape":[-1],"data_offsets":[0,0]}}', 0), /entry 'a' is malformed/);
    expectError(file('{"a":{"dtype":"U8","shape":[1],"data_offsets":[0.5,1]}}', 1), /entry 'a' is malformed/);
    expectError(file('{"a":{"dtype":"constructor","shape":[1],"data_offsets":[0,1]}}', 1), /tensor 'a' has dtype constructor; accepted: F64, F32/);
    expectError(file('{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}', 4), /needs 8 bytes, its data_offsets \[0, 4\] give 4/);
    const badUtf8 = file('{"a":1}', 0);
    badUtf8[10] = 0xff;
    expectError(badUtf8, /not valid UTF-8/);
  });
});
