import { expect } from 'vitest';
import { grad, noGrad } from '../../src/tensor/autograd.js';
import { Rng } from '../../src/tensor/random.js';
import { Tensor } from '../../src/tensor/tensor.js';

/**
 * Check an op's backward rule against central finite differences.
 *
 * The scalar checked is L = sum(f(inputs) * R) for a fixed random R, so every
 * output element's gradient takes part. The analytic gradient comes from
 * `grad()`; the numeric one perturbs each input element by ±h and evaluates L
 * (our float32 forward, summed in float64). At most `maxElements` elements
 * per input are probed (chosen at random) to keep big inputs fast.
 *
 * Passes when |analytic - numeric| <= atol + rtol * max|numeric| per element.
 */
export function gradcheck(
  f: (...inputs: Tensor[]) => Tensor,
  inputs: Tensor[],
  options: { h?: number; rtol?: number; atol?: number; seed?: number; maxElements?: number; check?: boolean[] } = {},
): { maxError: number; scale: number } {
  const h = options.h ?? 1e-2;
  const rtol = options.rtol ?? 1e-2;
  const atol = options.atol ?? 1e-3;
  const rng = new Rng(options.seed ?? 1);
  const leaves = inputs.map((x) => new Tensor(x.data.slice(), x.shape, true));
  const out = f(...leaves);
  const r = new Float64Array(out.size);
  for (let i = 0; i < r.length; i++) r[i] = rng.normal();
  const gradOutput = new Tensor(Float32Array.from(r), out.shape);
  const which = leaves.map((_, i) => options.check?.[i] ?? true);
  const asked = leaves.filter((_, i) => which[i]);
  const analytic = grad(out, asked, { gradOutput });

  const loss = (xs: Tensor[]): number =>
    noGrad(() => {
      const y = f(...xs);
      let s = 0;
      for (let i = 0; i < y.size; i++) s += y.data[i]! * r[i]!;
      return s;
    });

  let maxError = 0;
  let scale = 0;
  let k = 0;
  leaves.forEach((leaf, li) => {
    if (!which[li]) return;
    const a = analytic[k++]!;
    expect(a.shape).toEqual(leaf.shape);
    const n = leaf.size;
    const maxElements = options.maxElements ?? 64;
    const probe: number[] = [];
    if (n <= maxElements) for (let i = 0; i < n; i++) probe.push(i);
    else for (let i = 0; i < maxElements; i++) probe.push(rng.int(n));
    const numeric: number[] = [];
    for (const i of probe) {
      const plus = leaves.map((t) => new Tensor(t.data.slice(), t.shape));
      const minus = leaves.map((t) => new Tensor(t.data.slice(), t.shape));
      plus[li]!.data[i] = leaf.data[i]! + h;
      minus[li]!.data[i] = leaf.data[i]! - h;
      // the perturbed value as float32 actually seen by the op
      const dx = plus[li]!.data[i]! - minus[li]!.data[i]!;
      numeric.push((loss(plus) - loss(minus)) / dx);
    }
    const s = Math.max(...numeric.map(Math.abs), ...probe.map((i) => Math.abs(a.data[i]!)));
    scale = Math.max(scale, s);
    probe.forEach((i, j) => {
      const err = Math.abs(a.data[i]! - numeric[j]!);
      maxError = Math.max(maxError, err);
      if (err > atol + rtol * s) {
        throw new Error(
          `gradcheck: input ${li} element ${i}: analytic ${a.data[i]} vs numeric ${numeric[j]} (|diff| ${err.toExponential(3)} > ${(atol + rtol * s).toExponential(3)})`,
        );
      }
    });
  });
  return { maxError, scale };
}
