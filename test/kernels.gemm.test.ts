import { describe, expect, it } from 'vitest';
import { kernels } from '../src/tensor/backend.js';
import { PANEL_WIDTH, gemm as jsGemm } from '../src/tensor/kernels/gemm.js';
import type { GemmOptions } from '../src/tensor/kernels/gemm.js';
import { Rng } from '../src/tensor/random.js';

/** Independent reference: the textbook triple loop in float64 over logical indices. */
function naiveGemm(
  m: number, n: number, k: number,
  a: Float32Array, transA: boolean,
  b: Float32Array, transB: boolean,
): Float64Array {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) {
        const av = transA ? a[p * m + i]! : a[i * k + p]!;
        const bv = transB ? b[j * k + p]! : b[p * n + j]!;
        s += av * bv;
      }
      c[i * n + j] = s;
    }
  }
  return c;
}

function random(n: number, rng: Rng): Float32Array {
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = rng.normal();
  return x;
}

/** float32 inputs, sums of k products of N(0,1): error grows like sqrt(k) * eps. */
function expectNear(ours: Float32Array, ref: Float64Array, k: number, what: string): void {
  const tol = 1e-6 * Math.sqrt(Math.max(k, 1)) * 8 + 1e-6;
  let worst = 0;
  for (let i = 0; i < ref.length; i++) worst = Math.max(worst, Math.abs(ours[i]! - ref[i]!));
  expect(worst, `${what}: max |ours - naive| = ${worst}`).toBeLessThanOrEqual(tol);
}

const SIZES = [1, 3, 4, 5, 17, 65, 130];

/** The current backend's gemm (the `wasm` vitest project runs this file on WebAssembly). */
function gemm(m: number, n: number, k: number, a: Float32Array, b: Float32Array, c: Float32Array, options?: GemmOptions): void {
  kernels().gemm(m, n, k, a, b, c, options);
}

describe('gemm (the current backend: the wasm project runs this file on WebAssembly)', () => {
  const rng = new Rng(7);
  for (const transA of [false, true]) {
    for (const transB of [false, true]) {
      it(`matches a naive float64 product over odd sizes (transA=${transA}, transB=${transB})`, () => {
        for (const m of SIZES) {
          for (const n of SIZES) {
            for (const k of [1, 3, 17, 130, 300]) {
              // skip the largest cubes to keep the test quick
              if (m * n * k > 130 * 130 * 130) continue;
              const a = random(m * k, rng);
              const b = random(k * n, rng);
              const c = new Float32Array(m * n).fill(NaN); // must be overwritten
              gemm(m, n, k, a, b, c, { transA, transB });
              expectNear(c, naiveGemm(m, n, k, a, transA, b, transB), k, `m=${m} n=${n} k=${k}`);
            }
          }
        }
      });
    }
  }

  it('crosses every cache block boundary (k > KC, m > MC, n > NC)', () => {
    const m = 131, n = 2053, k = 517;
    const a = random(m * k, rng);
    const b = random(k * n, rng);
    const c = new Float32Array(m * n);
    gemm(m, n, k, a, b, c, { transB: true });
    expectNear(c, naiveGemm(m, n, k, a, false, b, true), k, 'large');
  });

  it('accumulates into C when asked', () => {
    const m = 9, n = 7, k = 5;
    const a = random(m * k, rng);
    const b = random(k * n, rng);
    const c0 = random(m * n, rng);
    const c = c0.slice();
    gemm(m, n, k, a, b, c, { accumulate: true });
    const ref = naiveGemm(m, n, k, a, false, b, false);
    for (let i = 0; i < ref.length; i++) ref[i] = ref[i]! + c0[i]!;
    expectNear(c, ref, k, 'accumulate');
  });

  it('computes one row (a classifier head at batch 1) with offsets, strides and accumulation, both layouts of B', () => {
    const n = 11, k = 13;
    for (const transB of [false, true]) {
      // A: row 2 of a 3 x k array (or column 2 of a k x 3 array with transA); B with a leading dimension of 20.
      for (const transA of [false, true]) {
        const bigA = random(3 * k, rng);
        const bigB = random(20 * 20, rng);
        const c0 = random(n + 4, rng);
        const c = c0.slice();
        const aOffset = transA ? 2 : 2 * k;
        gemm(1, n, k, bigA, bigB, c, { transA, transB, aOffset, lda: transA ? 3 : k, bOffset: 21, ldb: 20, cOffset: 2, accumulate: true });
        for (let j = 0; j < n + 4; j++) {
          if (j < 2 || j >= 2 + n) {
            expect(c[j]).toBe(c0[j]);
            continue;
          }
          let ref = c0[j]!;
          for (let p = 0; p < k; p++) ref += bigA[transA ? 2 + p * 3 : 2 * k + p]! * bigB[21 + (transB ? (j - 2) * 20 + p : p * 20 + j - 2)]!;
          expect(c[j]).toBeCloseTo(ref, 5);
        }
      }
    }
  });

  it('respects offsets and leading dimensions and leaves the rest of C alone', () => {
    // A is the 6x4 window at (1, 2) of a 10x9 array, B the 4x5 window at (2, 1) of an 8x7 array,
    // C the 6x5 window at (3, 3) of a 12x11 array.
    const m = 6, n = 5, k = 4;
    const bigA = random(10 * 9, rng);
    const bigB = random(8 * 7, rng);
    const bigC = random(12 * 11, rng);
    const before = bigC.slice();
    gemm(m, n, k, bigA, bigB, bigC, {
      aOffset: 1 * 9 + 2, lda: 9,
      bOffset: 2 * 7 + 1, ldb: 7,
      cOffset: 3 * 11 + 3, ldc: 11,
    });
    for (let r = 0; r < 12; r++) {
      for (let s = 0; s < 11; s++) {
        const got = bigC[r * 11 + s]!;
        if (r >= 3 && r < 3 + m && s >= 3 && s < 3 + n) {
          let ref = 0;
          for (let p = 0; p < k; p++) ref += bigA[(1 + r - 3) * 9 + 2 + p]! * bigB[(2 + p) * 7 + 1 + s - 3]!;
          expect(got).toBeCloseTo(ref, 4);
        } else {
          expect(got).toBe(before[r * 11 + s]);
        }
      }
    }
  });

  it('gives zeros (or leaves C) when k = 0 and does nothing for empty m or n', () => {
    const c = new Float32Array([1, 2, 3, 4]);
    gemm(2, 2, 0, new Float32Array(0), new Float32Array(0), c);
    expect([...c]).toEqual([0, 0, 0, 0]);
    const d = new Float32Array([1, 2]);
    gemm(0, 2, 3, new Float32Array(0), new Float32Array(6), d);
    expect([...d]).toEqual([1, 2]);
  });

  it('takes B from a block packer instead of an array (as conv2d packs from the image)', () => {
    for (const [m, n, k] of [[1, 7, 5], [9, 1, 3], [70, 600, 300]] as const) {
      const a = random(m * k, rng);
      const b = random(k * n, rng);
      const calls: number[][] = [];
      const packer = (dst: Float64Array, pc: number, kc: number, jc: number, nc: number): void => {
        calls.push([pc, kc, jc, nc]);
        let d = 0;
        for (let q = 0; q < nc; q += PANEL_WIDTH)
          for (let p = 0; p < kc; p++)
            for (let r = 0; r < PANEL_WIDTH; r++) dst[d++] = q + r < nc ? b[(pc + p) * n + jc + q + r]! : 0;
      };
      const c = new Float32Array(m * n);
      jsGemm(m, n, k, a, new Float32Array(0), c, { packB: packer });
      expectNear(c, naiveGemm(m, n, k, a, false, b, false), k, `packB m=${m} n=${n} k=${k}`);
      // every (k, n) entry is asked for exactly once per block of rows
      const covered = calls.reduce((s, [, kc, , nc]) => s + kc! * nc!, 0);
      expect(covered).toBe(k * n);
    }
  });
});
