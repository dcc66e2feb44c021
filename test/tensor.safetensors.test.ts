import { describe, expect, it } from 'vitest';
import { SafetensorsError, loadSafetensors, saveSafetensors, tensor, randn } from '../src/index.js';
import { fixtureBytes, manifest } from './helpers/fixtures.js';

describe('safetensors', () => {
  it('round-trips tensors and metadata', () => {
    const dict = { 'a.weight': randn([2, 3, 4], { seed: 1 }), b: tensor([1.5]) , s: tensor(7) };
    const bytes = saveSafetensors(dict, { format: 'pt' });
    const back = loadSafetensors(bytes);
    expect(Object.keys(back).sort()).toEqual(['a.weight', 'b', 's']);
    expect(Array.from(back['a.weight']!.data)).toEqual(Array.from(dict['a.weight'].data));
    expect(back['s']!.shape).toEqual([]);
  });

  it('reads every fixture model, including I64 num_batches_tracked scalars', () => {
    for (const m of manifest().models) {
      const w = loadSafetensors(fixtureBytes(m.safetensors));
      expect(Object.keys(w).length).toBeGreaterThan(0);
      const nbt = Object.entries(w).filter(([k]) => k.endsWith('num_batches_tracked'));
      for (const [, t] of nbt) expect(t.size).toBe(1);
    }
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
