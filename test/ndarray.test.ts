import ndarray from 'ndarray';
import { describe, expect, it } from 'vitest';
import { fromNdarray, toNdarray } from '../src/ndarray/index.js';
import { ArgumentError } from '../src/tensor/errors.js';
import { tensor } from '../src/tensor/tensor.js';

describe('fromNdarray', () => {
  it('copies a contiguous float32 ndarray with its shape', () => {
    const nd = ndarray(Float32Array.from([1, 2, 3, 4, 5, 6]), [2, 3]);
    const t = fromNdarray(nd);
    expect(t.shape).toEqual([2, 3]);
    expect(t.toArray()).toEqual([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    // a copy by default: later writes to the ndarray do not reach the tensor
    nd.set(0, 0, 100);
    expect(t.get(0, 0)).toBe(1);
  });

  it('follows a transposed view (column-major strides) element by element', () => {
    const nd = ndarray(Float32Array.from([1, 2, 3, 4, 5, 6]), [2, 3]).transpose(1, 0);
    const t = fromNdarray(nd);
    expect(t.shape).toEqual([3, 2]);
    expect(t.toArray()).toEqual([
      [1, 4],
      [2, 5],
      [3, 6],
    ]);
  });

  it('follows stepped, sliced, negative-stride and offset views', () => {
    // 4x5 of 0..19
    const base = ndarray(Float32Array.from({ length: 20 }, (_, i) => i), [4, 5]);
    const stepped = base.step(2, 2); // rows 0,2; cols 0,2,4
    expect(fromNdarray(stepped).toArray()).toEqual([
      [0, 2, 4],
      [10, 12, 14],
    ]);
    const sliced = base.hi(3, 4).lo(1, 1); // rows 1..2, cols 1..3 (offset 6, row stride 5)
    expect(fromNdarray(sliced).toArray()).toEqual([
      [6, 7, 8],
      [11, 12, 13],
    ]);
    const reversed = base.step(-1, 1); // rows reversed
    expect(fromNdarray(reversed).get(0, 0)).toBe(15);
    expect(fromNdarray(reversed).get(3, 4)).toBe(4);
    // a contiguous tail of a bigger buffer: offset but row-major
    const tail = base.pick(2, null);
    expect(Array.from(fromNdarray(tail).data)).toEqual([10, 11, 12, 13, 14]);
  });

  it('converts other dtypes and plain arrays to float32', () => {
    const ints = ndarray(Int32Array.from([1, -2, 3, 4]), [2, 2]).transpose(1, 0);
    expect(fromNdarray(ints).toArray()).toEqual([
      [1, 3],
      [-2, 4],
    ]);
    const doubles = ndarray(Float64Array.from([0.5, 1.5, 2.5]), [3]);
    expect(fromNdarray(doubles).data).toBeInstanceOf(Float32Array);
    expect(Array.from(fromNdarray(doubles).data)).toEqual([0.5, 1.5, 2.5]);
    expect(Array.from(fromNdarray(ndarray([7, 8, 9], [3])).data)).toEqual([7, 8, 9]);
  });

  it('handles 4-D NCHW data from a HWC image view', () => {
    // a 2x2 RGB image stored HWC, viewed as CHW by transposing, then a batch axis
    const hwc = Float32Array.from({ length: 12 }, (_, i) => i);
    const chw = ndarray(hwc, [2, 2, 3]).transpose(2, 0, 1);
    const nchw = ndarray(chw.data, [1, ...chw.shape], [12, ...chw.stride], chw.offset);
    const t = fromNdarray(nchw);
    expect(t.shape).toEqual([1, 3, 2, 2]);
    // channel 1 (green) of pixels (0,0), (0,1), (1,0), (1,1)
    expect([t.get(0, 1, 0, 0), t.get(0, 1, 0, 1), t.get(0, 1, 1, 0), t.get(0, 1, 1, 1)]).toEqual([1, 4, 7, 10]);
  });

  it('shares memory only when asked and possible', () => {
    const data = Float32Array.from([1, 2, 3, 4]);
    const shared = fromNdarray(ndarray(data, [2, 2]), { share: true });
    data[3] = 40;
    expect(shared.get(1, 1)).toBe(40);
    // a transposed view cannot be shared: it is copied even when asked
    const copied = fromNdarray(ndarray(data, [2, 2]).transpose(1, 0), { share: true });
    data[1] = 20;
    expect(copied.get(1, 0)).toBe(2);
  });

  it('handles empty and 0-d ndarrays, and flags requiresGrad', () => {
    expect(fromNdarray(ndarray(new Float32Array(0), [0, 3])).shape).toEqual([0, 3]);
    const scalar = fromNdarray(ndarray(Float32Array.from([9, 5]), [], [], 1));
    expect(scalar.shape).toEqual([]);
    expect(scalar.item()).toBe(5);
    expect(fromNdarray(ndarray(Float32Array.from([1]), [1]), { requiresGrad: true }).requiresGrad).toBe(true);
  });

  it('rejects what is not an ndarray', () => {
    expect(() => fromNdarray({ shape: [2] } as never)).toThrow(ArgumentError);
    expect(() => fromNdarray(Float32Array.from([1]) as never)).toThrow(/expected an ndarray/);
  });
});

describe('toNdarray', () => {
  it('gives a row-major view over the same memory (no copy)', () => {
    const t = tensor([1, 2, 3, 4, 5, 6], [1, 2, 3]);
    const nd = toNdarray(t);
    expect(nd.shape).toEqual([1, 2, 3]);
    expect(nd.stride).toEqual([6, 3, 1]);
    expect(nd.data).toBe(t.data);
    expect(nd.get(0, 1, 2)).toBe(6);
    nd.set(0, 0, 1, 20);
    expect(t.get(0, 0, 1)).toBe(20);
    t.data[5] = 60;
    expect(nd.get(0, 1, 2)).toBe(60);
  });

  it('round-trips through fromNdarray, also via a transposed view', () => {
    const t = tensor(Array.from({ length: 24 }, (_, i) => i * 0.5), [2, 3, 4]);
    const back = fromNdarray(toNdarray(t));
    expect(Array.from(back.data)).toEqual(Array.from(t.data));
    expect(back.data).not.toBe(t.data);
    const tr = fromNdarray(toNdarray(t).transpose(2, 1, 0));
    expect(tr.shape).toEqual([4, 3, 2]);
    for (let i = 0; i < 2; i++) for (let j = 0; j < 3; j++) for (let k = 0; k < 4; k++) expect(tr.get(k, j, i)).toBe(t.get(i, j, k));
  });
});
