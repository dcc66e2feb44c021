/**
 * Bad input to the metrics and black-box methods: typed errors (TinycamError
 * subclasses) that say what is accepted, and a model left as it was.
 */
import { describe, expect, it } from 'vitest';
import {
  confidenceChange,
  deletion,
  featureAblation,
  occlusion,
  pointingGame,
  rise,
  road,
  roadCombined,
  ScoreError,
} from '../src/metrics/index.js';
import { TargetError } from '../src/cam/errors.js';
import { ArgumentError, ShapeError, TinycamError } from '../src/tensor/errors.js';
import { Module } from '../src/layers/module.js';
import { Linear } from '../src/layers/linear.js';
import { flatten } from '../src/tensor/ops/shape.js';
import { Tensor } from '../src/tensor/tensor.js';

const input = new Tensor(Float32Array.from({ length: 2 * 3 * 8 * 8 }, (_, i) => Math.sin(i)), [2, 3, 8, 8]);
const maps = new Tensor(Float32Array.from({ length: 2 * 64 }, (_, i) => (i % 64) / 63), [2, 8, 8]);
/** Two classes per row. */
const good = (b: Tensor) => Float32Array.from({ length: b.shape[0]! * 2 }, (_, i) => b.data[i]! + i);

function caught(fn: () => unknown): TinycamError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(TinycamError);
    return e as TinycamError;
  }
  throw new Error('expected a TinycamError');
}

describe('metrics: bad input', () => {
  it('a map whose size differs from the input', () => {
    const small = new Tensor(new Float32Array(2 * 16), [2, 4, 4]);
    for (const fn of [() => confidenceChange(good, input, small), () => road(good, input, small), () => deletion(good, input, small), () => pointingGame(null, input, small, { boxes: [0, 0, 1, 1] })]) {
      const e = caught(fn);
      expect(e).toBeInstanceOf(ShapeError);
      expect(e.message).toMatch(/\[2, 4, 4\].*accepted: \[2, 8, 8\]/);
    }
    expect(caught(() => confidenceChange(good, input, new Tensor(new Float32Array(64), [1, 8, 8])))).toBeInstanceOf(ShapeError);
  });

  it('a map holding NaN', () => {
    const bad = new Tensor(maps.data.slice(), maps.shape);
    bad.data[70] = NaN;
    expect(caught(() => confidenceChange(good, input, bad)).message).toMatch(/NaN at image 1, position 6; maps must be finite/);
  });

  it('a percentile outside 0 to 100', () => {
    expect(caught(() => road(good, input, maps, { percentile: 101 }))).toBeInstanceOf(ArgumentError);
    expect(caught(() => road(good, input, maps, { percentile: -1 })).message).toMatch(/from 0 to 100/);
    expect(caught(() => roadCombined(good, input, maps, { percentiles: [10, 120] })).message).toMatch(/from 0 to 100; got 120/);
    expect(caught(() => roadCombined(good, input, maps, { percentiles: [] }))).toBeInstanceOf(ArgumentError);
    expect(caught(() => road(good, input, maps, { order: 'most' as never })).message).toMatch(/'morf'.*'lerf'/);
    expect(caught(() => road(good, input, maps, { noise: -1 }))).toBeInstanceOf(ArgumentError);
  });

  it('a scoring function that returns the wrong length, NaN, or not numbers', () => {
    const short = (b: Tensor) => new Float32Array(b.shape[0]! + 1);
    const e = caught(() => confidenceChange(short, input, maps));
    expect(e).toBeInstanceOf(ScoreError);
    expect(e.message).toMatch(/returned 3 values for a batch of 2 input\(s\); accepted: 2 scores .* or 2 x K values/);
    const nan = (b: Tensor) => Float32Array.from({ length: b.shape[0]! }, (_, r) => (r === 1 ? NaN : 1));
    expect(caught(() => confidenceChange(nan, input, maps)).message).toMatch(/returned NaN for input 1 of a batch of 2; scores must be finite/);
    expect(caught(() => rise(() => 'no' as never, input, { masks: 4 }))).toBeInstanceOf(ScoreError);
    // One score per input for the input, then two per input for the perturbed batch.
    let calls = 0;
    const changing = (b: Tensor) => new Float32Array(b.shape[0]! * (++calls === 1 ? 1 : 2));
    expect(caught(() => confidenceChange(changing, input, maps)).message).toMatch(/same number for every batch/);
  });

  it('a target that does not fit the output', () => {
    expect(caught(() => confidenceChange(good, input, maps, { target: 2 }))).toBeInstanceOf(TargetError);
    expect(caught(() => confidenceChange(good, input, maps, { target: [0] })).message).toMatch(/1 class indices but the input has 2/);
    const wrong = () => new Tensor(new Float32Array(5), [5]);
    expect(caught(() => confidenceChange(good, input, maps, { target: wrong as never }))).toBeInstanceOf(TargetError);
  });

  it('something that is neither a model nor a scoring function, and inputs that are not images', () => {
    expect(caught(() => confidenceChange({} as never, input, maps)).message).toMatch(/Module or a scoring function/);
    expect(caught(() => confidenceChange(good, new Tensor(new Float32Array(64), [8, 8]), maps))).toBeInstanceOf(ShapeError);
  });

  it('black-box options out of range', () => {
    expect(caught(() => occlusion(good, input, {} as never)).message).toMatch(/window is required/);
    expect(caught(() => occlusion(good, input, { window: 2, stride: 3 })).message).toMatch(/stride 3 is larger than the window 2/);
    expect(caught(() => occlusion(good, input, { window: 9 })).message).toMatch(/larger than the input/);
    expect(caught(() => rise(good, input, { masks: new Tensor(new Float32Array(3 * 16), [3, 4, 4]) }))).toBeInstanceOf(ShapeError);
    expect(caught(() => rise(good, input, { masks: 4, probability: 0 })).message).toMatch(/probability must be a number in \(0, 1\]/);
    expect(caught(() => rise(good, input, { masks: 0 }))).toBeInstanceOf(ArgumentError);
    expect(caught(() => featureAblation(good, input, { segments: new Tensor(new Float32Array(64).fill(-1), [8, 8]) }))).toBeInstanceOf(ArgumentError);
    expect(caught(() => pointingGame(null, input, maps, { boxes: [[20, 20, 30, 30], [0, 0, 1, 1]] })).message).toMatch(/region of image 0 is empty/);
    expect(caught(() => pointingGame(null, input, maps, {})).message).toMatch(/either 'boxes'.*or 'masks'/);
    expect(caught(() => deletion(good, input, maps, { convention: 'paper' as never }))).toBeInstanceOf(ArgumentError);
  });

  it('leaves a Module as it was when a metric throws half-way', () => {
    class Net extends Module {
      fc = new Linear(3 * 64, 2, { seed: 0 });
      override forward(x: Tensor): Tensor {
        return this.fc.forward(flatten(x, 1));
      }
    }
    const net = new Net();
    net.train();
    let calls = 0;
    const target = (output: Tensor) => {
      if (++calls === 2) throw new TargetError('stop');
      return new Tensor(output.data.filter((_, i) => i % 2 === 0), [output.shape[0]!]);
    };
    expect(() => confidenceChange(net, input, maps, { target })).toThrow('stop');
    expect(net.training).toBe(true);
    expect(net.fc.training).toBe(true);
    expect(net.hookCount()).toBe(0);
  });
});
