/**
 * broadcastIndex: for every output element of a broadcast, the offset of the
 * input element it reads, against the definition (the sum over axes of the
 * output position times the input's stride, 0 along broadcast axes) over
 * random shapes of every kind of broadcast.
 */
import { describe, expect, it } from 'vitest';
import { broadcastIndex } from '../src/tensor/broadcast.js';
import { Rng } from '../src/tensor/random.js';
import { sizeOf, stridesOf } from '../src/tensor/tensor.js';

function byDefinition(shape: number[], outShape: number[]): Int32Array {
  const out = new Int32Array(sizeOf(outShape));
  const strides = stridesOf(shape);
  const lead = outShape.length - shape.length;
  for (let flat = 0; flat < out.length; flat++) {
    let rest = flat;
    let offset = 0;
    for (let axis = outShape.length - 1; axis >= 0; axis--) {
      const position = rest % outShape[axis]!;
      rest = Math.floor(rest / outShape[axis]!);
      const j = axis - lead;
      if (j >= 0 && shape[j] !== 1) offset += position * strides[j]!;
    }
    out[flat] = offset;
  }
  return out;
}

describe('broadcastIndex', () => {
  it('is the definition over 400 random broadcasts (leading, trailing and middle axes stretched or added)', () => {
    const rng = new Rng(5);
    for (let t = 0; t < 400; t++) {
      const rank = 1 + (rng.nextUint32() % 5);
      const outShape = Array.from({ length: rank }, () => 1 + (rng.nextUint32() % 4));
      const shape = outShape.slice(rng.nextUint32() % rank).map((d) => (rng.nextUint32() % 2 ? d : 1));
      const index = broadcastIndex(shape, outShape);
      if (shape.length === rank && shape.every((d, i) => d === outShape[i])) expect(index).toBeNull();
      else expect(index, `${shape} -> ${outShape}`).toEqual(byDefinition(shape, outShape));
    }
  });

  it('handles scalars, empty outputs and a per-channel vector of a real activation', () => {
    expect(broadcastIndex([], [2, 3])).toEqual(new Int32Array(6));
    expect(broadcastIndex([1], [0, 4])).toEqual(new Int32Array(0));
    expect(broadcastIndex([1, 64, 1, 1], [2, 64, 28, 28])).toEqual(byDefinition([1, 64, 1, 1], [2, 64, 28, 28]));
    expect(broadcastIndex([2, 1, 8], [2, 197, 8])).toEqual(byDefinition([2, 1, 8], [2, 197, 8]));
  });
});
