/**
 * loadStateDict on hostile input: anything that is not a record of tensors
 * is a StateDictError, and a dict that fails any check leaves every
 * parameter as it was, however late in the dict the problem sits.
 */
import { describe, expect, it } from 'vitest';
import { Sequential } from '../src/layers/containers.js';
import { Conv2d } from '../src/layers/conv.js';
import { Linear } from '../src/layers/linear.js';
import type { StateDict } from '../src/layers/module.js';
import { BatchNorm2d } from '../src/layers/normalization.js';
import { StateDictError } from '../src/tensor/errors.js';
import { loadSafetensors, saveSafetensors } from '../src/tensor/safetensors.js';
import { Tensor } from '../src/tensor/tensor.js';

function net() {
  return new Sequential(new Conv2d(2, 3, 3), new BatchNorm2d(3), new Linear(4, 2));
}

/** Every value of the model's state, copied, to show that nothing changed. */
const snapshot = (m: ReturnType<typeof net>) => Object.fromEntries(Object.entries(m.stateDict()).map(([k, t]) => [k, Array.from(t.data)]));

/** A complete state dict for `net()` whose values are all `v`. */
function filled(v: number): Record<string, Tensor> {
  return Object.fromEntries(Object.entries(net().stateDict()).map(([k, t]) => [k, new Tensor(new Float32Array(t.size).fill(v), t.shape)]));
}

function expectRefused(load: () => unknown, pattern: RegExp): void {
  let error: unknown;
  try {
    load();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(StateDictError);
  expect((error as Error).message).toMatch(pattern);
}

describe('loadStateDict on what is not a state dict', () => {
  it.each([
    ['null', null, /got null/],
    ['undefined', undefined, /got undefined/],
    ['a number', 42, /got number/],
    ['a string', 'weights.safetensors', /got string/],
    ['an array', [new Tensor(Float32Array.of(1), [1])], /got an array/],
    ['a Map', new Map([['0.weight', new Tensor(Float32Array.of(1), [1])]]), /got a Map \(pass Object.fromEntries\(map\)\)/],
    ['a Tensor', new Tensor(Float32Array.of(1), [1]), /got a Tensor/],
  ])('%s is a StateDictError, not a TypeError', (_, value, pattern) => {
    const m = net();
    const before = snapshot(m);
    expectRefused(() => m.loadStateDict(value as unknown as StateDict), pattern);
    expect(snapshot(m)).toEqual(before);
  });
});

describe('loadStateDict is all-or-nothing', () => {
  it('loads a complete dict (the control)', () => {
    const m = net();
    m.loadStateDict(filled(0.5));
    for (const t of Object.values(m.stateDict())) expect(Array.from(t.data).every((v) => v === 0.5)).toBe(true);
  });

  it('changes nothing when a late tensor\'s data does not fit its shape (once a RangeError after earlier writes)', () => {
    const m = net();
    const before = snapshot(m);
    const dict = filled(7);
    const last = Object.keys(dict).filter((k) => dict[k]!.size > 1).at(-1)!; // 1.running_var, after every parameter
    // A tensor whose data was swapped for a longer array after construction (data is readonly only to TypeScript).
    const forged = new Tensor(new Float32Array(dict[last]!.size), dict[last]!.shape);
    (forged as { data: Float32Array }).data = new Float32Array(dict[last]!.size + 5);
    dict[last] = forged;
    expectRefused(() => m.loadStateDict(dict), new RegExp(`shape mismatch for ${last.replace(/\./g, '\\.')}.*Nothing was loaded`));
    expect(snapshot(m)).toEqual(before);
    // The same with a shorter array, which used to load a prefix without a word.
    (forged as { data: Float32Array }).data = new Float32Array(1);
    expectRefused(() => m.loadStateDict(dict), /shape mismatch/);
    expect(snapshot(m)).toEqual(before);
  });

  it('reads each value once: a getter cannot hand over one tensor to the checks and another to the copy', () => {
    const m = net();
    const dict = filled(3);
    const keys = Object.keys(dict);
    const last = keys[keys.length - 1]!;
    const good = dict[last]!;
    let reads = 0;
    Object.defineProperty(dict, last, { enumerable: true, get: () => (reads++ === 0 ? good : 'not a tensor') });
    m.loadStateDict(dict);
    expect(reads).toBe(1);
    expect(Array.from(m.stateDict()[last]!.data)).toEqual(Array.from(good.data));
    // A getter that throws is a typed error, raised before anything is written.
    const m2 = net();
    const before2 = snapshot(m2);
    Object.defineProperty(dict, last, { enumerable: true, get: () => { throw new RangeError('boom'); } });
    expectRefused(() => m2.loadStateDict(dict), new RegExp(`reading '${last.replace(/\./g, '\\.')}' from the dict threw RangeError. Nothing was loaded`));
    expect(snapshot(m2)).toEqual(before2);
  });

  it('refuses values that are not tensors, by name, and leaves the model as it was', () => {
    const m = net();
    const before = snapshot(m);
    const dict: Record<string, unknown> = filled(1);
    const last = Object.keys(dict).at(-1)!;
    dict[last] = { shape: [2], data: new Float32Array(2) }; // tensor-shaped, not a Tensor
    expectRefused(() => m.loadStateDict(dict as StateDict), new RegExp(`not tensors: ${last.replace(/\./g, '\\.')}`));
    expect(snapshot(m)).toEqual(before);
  });

  it('reports a file\'s tensor named __proto__ as an unexpected key (the record has no prototype to replace)', () => {
    const m = net();
    const dict = { ...filled(2) };
    const bytes = saveSafetensors(Object.assign(Object.create(null), dict, { ['__proto__']: new Tensor(Float32Array.of(1), [1]) }));
    const loaded = loadSafetensors(bytes);
    expect(Object.keys(loaded)).toContain('__proto__');
    expectRefused(() => m.loadStateDict(loaded), /unexpected keys: __proto__/);
    expect(m.loadStateDict(loaded, { strict: false }).unexpected).toEqual(['__proto__']);
  });
});
