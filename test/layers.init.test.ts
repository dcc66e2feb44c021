/**
 * skipInit: a model built inside it starts with zero conv and linear
 * parameters (nothing drawn from the generator), loads a state dict to the
 * same results as a randomly initialised one, and leaves layers built
 * outside it, or after a failed build, initialised as before.
 */
import { describe, expect, it } from 'vitest';
import { Sequential } from '../src/layers/containers.js';
import { Conv2d } from '../src/layers/conv.js';
import { skipInit } from '../src/layers/init.js';
import { Linear } from '../src/layers/linear.js';
import { BatchNorm2d } from '../src/layers/normalization.js';
import { resnet18 } from '../src/models/resnet.js';
import { ArgumentError } from '../src/tensor/errors.js';
import { Rng, manualSeed, rand } from '../src/tensor/random.js';

const allZero = (data: Float32Array) => data.every((v) => v === 0);
const net = () => new Sequential(new Conv2d(3, 4, 3), new BatchNorm2d(4), new Linear(4, 2));

describe('skipInit', () => {
  it('builds conv and linear parameters as zeros and keeps batch norm at ones and zeros', () => {
    const model = skipInit(net);
    for (const [name, p] of model.namedParameters()) {
      if (name.startsWith('1.')) continue;
      expect(allZero(p.data), name).toBe(true);
    }
    const bn = model.at(1) as BatchNorm2d;
    expect([...bn.weight!.data]).toEqual([1, 1, 1, 1]);
    expect([...bn.running_var!.data]).toEqual([1, 1, 1, 1]);
  });

  it('draws nothing from the generator: the next draw is the one it would have been', () => {
    manualSeed(7);
    const expected = rand([5]).data;
    manualSeed(7);
    skipInit(net);
    expect(rand([5]).data).toEqual(expected);
    const rng = new Rng(3);
    skipInit(() => new Conv2d(2, 2, 3, { rng }));
    expect(rng.nextUint32()).toBe(new Rng(3).nextUint32());
  });

  it('gives, once the weights are loaded, the same logits as a randomly initialised model', () => {
    manualSeed(1);
    const source = resnet18({ numClasses: 5 });
    source.eval();
    const skipped = skipInit(() => resnet18({ numClasses: 5 }));
    skipped.loadStateDict(source.stateDict());
    skipped.eval();
    const input = rand([1, 3, 32, 32], { seed: 2 });
    const want = source.forward(input).data;
    const got = skipped.forward(input).data;
    expect(allZero(want)).toBe(false);
    expect(got).toEqual(want);
  });

  it('nests, and initialises layers built after it as before', () => {
    const inner = skipInit(() => [skipInit(() => new Linear(3, 3)), new Linear(3, 3)]);
    expect(inner.every((l) => allZero(l.weight.data))).toBe(true);
    expect(allZero(new Linear(3, 3).weight.data)).toBe(false);
  });

  it('initialises again after a build that throws', () => {
    expect(() =>
      skipInit(() => {
        throw new RangeError('no such model');
      }),
    ).toThrow(RangeError);
    expect(allZero(new Linear(3, 3).weight.data)).toBe(false);
  });

  it('refuses what is not a function, and a build that returns a Promise', () => {
    expect(() => skipInit(null as unknown as () => unknown)).toThrow(ArgumentError);
    expect(() => skipInit('resnet18' as unknown as () => unknown)).toThrow(/expected a function that builds the model.*got string/);
    expect(() => skipInit(async () => new Linear(2, 2))).toThrow(/returned a Promise/);
    expect(allZero(new Linear(3, 3).weight.data)).toBe(false);
  });
});
