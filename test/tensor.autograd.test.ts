import { describe, expect, it } from 'vitest';
import { Tensor, full, record, add, backward, div, exp, grad, log, mul, noGrad, pow, randn, sqrt, sub, tensor, maximum, minimum, abs, neg } from '../src/index.js';
import { gradcheck } from './helpers/gradcheck.js';

describe('autograd core', () => {
  it('differentiates a scalar expression as by hand', () => {
    const a = tensor(2, [], { requiresGrad: true });
    const b = tensor(-3, [], { requiresGrad: true });
    // y = a*b + a^2 / b  ->  dy/da = b + 2a/b, dy/db = a - a^2/b^2
    const y = add(mul(a, b), div(mul(a, a), b));
    const [ga, gb] = grad(y, [a, b]);
    expect(ga!.item()).toBeCloseTo(-3 + 4 / -3, 5);
    expect(gb!.item()).toBeCloseTo(2 - 4 / 9, 5);
  });

  it('accumulates fan-out and backward() fills .grad of leaves only', () => {
    const x = tensor([1, 2, 3], [3], { requiresGrad: true });
    const y = mul(x, x); // uses x twice
    const s = add(y, x);
    backward(sumAll(s));
    expect(Array.from(x.grad!.data)).toEqual([3, 5, 7]);
  });

  it('returns zeros for a tensor the output does not depend on', () => {
    const x = tensor([1, 2], [2], { requiresGrad: true });
    const z = tensor([5, 6], [2], { requiresGrad: true });
    const [gz] = grad(sumAll(mul(x, x)), [z]);
    expect(Array.from(gz!.data)).toEqual([0, 0]);
  });

  it('records nothing inside noGrad', () => {
    const x = tensor([1, 2], [2], { requiresGrad: true });
    const y = noGrad(() => mul(x, x));
    expect(y.requiresGrad).toBe(false);
    expect(y.gradFn).toBeNull();
  });

  it('only computes gradients that were asked for', () => {
    const x = tensor([1, 2], [2], { requiresGrad: true });
    const w = tensor([3, 4], [2], { requiresGrad: true });
    const h = mul(x, w);
    let calls = 0;
    const original = h.gradFn!.backward;
    (h.gradFn as { backward: typeof original }).backward = (g, needs) => {
      calls++;
      expect(needs).toEqual([false, true]);
      return original(g, needs);
    };
    const [gw] = grad(sumAll(h), [w]);
    expect(Array.from(gw!.data)).toEqual([1, 2]);
    expect(calls).toBe(1);
  });
});

describe('elementwise ops match finite differences', () => {
  const shapes: [number[], number[]][] = [
    [[3, 4], [3, 4]],
    [[2, 3, 4], [4]],
    [[2, 1, 4], [3, 1]],
    [[5], []],
  ];
  for (const [sa, sb] of shapes) {
    it(`add/sub/mul/div/maximum/minimum with broadcasting ${JSON.stringify(sa)} x ${JSON.stringify(sb)}`, () => {
      const a = randn(sa, { seed: 1 });
      const b = add(abs(randn(sb, { seed: 2 })), 0.5);
      for (const f of [add, sub, mul, div, maximum, minimum]) gradcheck(f, [a, b]);
    });
  }
  it('unary ops', () => {
    const x = add(abs(randn([3, 5], { seed: 3 })), 0.2);
    for (const f of [exp, log, sqrt, neg, abs]) gradcheck(f, [x]);
    gradcheck((p, q) => pow(p, q), [x, randn([5], { seed: 4 })]);
  });
  it('rejects shapes that do not broadcast, naming the op and both shapes', () => {
    expect(() => add(randn([2, 3]), randn([4]))).toThrow(/add: shapes \[2, 3\] and \[4\] do not broadcast/);
  });
});

/** A full sum written with record(), so this file does not depend on reduce ops. */
function sumAll(t: Tensor): Tensor {
  let total = 0;
  for (let i = 0; i < t.size; i++) total += t.data[i]!;
  return record('sumAll', tensor(total), [t], (g) => [full(t.shape, g.item())]);
}
