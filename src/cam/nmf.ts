/**
 * Non-negative matrix factorisation as scikit-learn 1.2's
 * NMF(n_components, init='random', random_state=0) computes it with its
 * default coordinate-descent solver (Frobenius loss, no regularisation,
 * tol 1e-4, max_iter 200), which pytorch-grad-cam's Deep Feature
 * Factorization calls. The random start is drawn as scikit-learn draws it,
 * from numpy's legacy RandomState (MT19937, polar Gaussian), so the same
 * data gives the same factors; scikit-learn iterates in the data's float32,
 * tinycam in float64.
 */

/** numpy.random.RandomState(seed): MT19937 seeded with init_genrand, legacy Gaussian. */
export class NumpyRandomState {
  private readonly mt = new Uint32Array(624);
  private index = 624;
  private gauss: number | null = null;

  constructor(seed: number) {
    const mt = this.mt;
    mt[0] = seed >>> 0;
    for (let i = 1; i < 624; i++) {
      const prev = mt[i - 1]! ^ (mt[i - 1]! >>> 30);
      // 1812433253 * prev + i, modulo 2^32, without losing bits to float64
      mt[i] = (Math.imul(1812433253, prev) + i) >>> 0;
    }
  }

  private nextUint32(): number {
    const mt = this.mt;
    if (this.index >= 624) {
      for (let k = 0; k < 624; k++) {
        const y = (mt[k]! & 0x80000000) | (mt[(k + 1) % 624]! & 0x7fffffff);
        mt[k] = mt[(k + 397) % 624]! ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0);
      }
      this.index = 0;
    }
    let y = mt[this.index++]!;
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /** random_sample(): 53 random bits in [0, 1). */
  randomSample(): number {
    const a = this.nextUint32() >>> 5;
    const b = this.nextUint32() >>> 6;
    return (a * 67108864 + b) / 9007199254740992;
  }

  /** standard_normal() of the legacy RandomState: the polar method, second value kept. */
  standardNormal(): number {
    if (this.gauss !== null) {
      const g = this.gauss;
      this.gauss = null;
      return g;
    }
    let x1: number;
    let x2: number;
    let r2: number;
    do {
      x1 = 2 * this.randomSample() - 1;
      x2 = 2 * this.randomSample() - 1;
      r2 = x1 * x1 + x2 * x2;
    } while (r2 >= 1 || r2 === 0);
    const f = Math.sqrt((-2 * Math.log(r2)) / r2);
    this.gauss = f * x1;
    return f * x2;
  }
}

export interface NmfResult {
  /** [rows, k] row-major. */
  w: Float64Array;
  /** [k, cols] row-major. */
  h: Float64Array;
  iterations: number;
  /** ||X - W H||_F / ||X||_F. */
  relativeError: number;
}

export interface NmfOptions {
  tolerance?: number;
  maxIterations?: number;
  seed?: number;
}

/**
 * X [rows, cols] (row-major, non-negative) ~ W [rows, k] H [k, cols], W, H >= 0.
 * Start: scikit-learn's init='random', avg = sqrt(mean(X) / k), H then W
 * drawn as |avg * standard_normal| in float32. Iterations: scikit-learn's
 * _fit_coordinate_descent, one cyclic coordinate-descent sweep over W (with
 * H H^T and X H^T) then over H, until the summed projected-gradient
 * violation falls to `tolerance` times the first sweep's.
 */
export function nmf(x: Float32Array | Float64Array, rows: number, cols: number, k: number, options: NmfOptions = {}): NmfResult {
  const tolerance = options.tolerance ?? 1e-4;
  const maxIterations = options.maxIterations ?? 200;
  let total = 0;
  for (const v of x) total += v;
  const avg = Math.fround(Math.sqrt(Math.fround(total / (rows * cols)) / k));
  const rng = new NumpyRandomState(options.seed ?? 0);
  const h = new Float64Array(k * cols);
  for (let i = 0; i < h.length; i++) h[i] = Math.abs(Math.fround(avg * Math.fround(rng.standardNormal())));
  const w = new Float64Array(rows * k);
  for (let i = 0; i < w.length; i++) w[i] = Math.abs(Math.fround(avg * Math.fround(rng.standardNormal())));

  // Ht [cols, k] and Xt are kept so both updates are the same routine.
  const ht = new Float64Array(cols * k);
  for (let t = 0; t < k; t++) for (let j = 0; j < cols; j++) ht[j * k + t] = h[t * cols + j]!;
  const xt = new Float64Array(cols * rows);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) xt[j * rows + i] = x[i * cols + j]!;
  const xr = Float64Array.from(x);

  let first = 0;
  let iterations = 0;
  for (let it = 1; it <= maxIterations; it++) {
    iterations = it;
    let violation = coordinateDescentSweep(xr, rows, cols, w, ht, k);
    violation += coordinateDescentSweep(xt, cols, rows, ht, w, k);
    if (it === 1) first = violation;
    if (first === 0 || violation / first <= tolerance) break;
  }
  for (let t = 0; t < k; t++) for (let j = 0; j < cols; j++) h[t * cols + j] = ht[j * k + t]!;

  let residual = 0;
  let norm = 0;
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      let s = 0;
      for (let t = 0; t < k; t++) s += w[i * k + t]! * h[t * cols + j]!;
      const v = xr[i * cols + j]!;
      residual += (v - s) ** 2;
      norm += v * v;
    }
  }
  return { w, h, iterations, relativeError: norm > 0 ? Math.sqrt(residual / norm) : 0 };
}

/**
 * One sweep of scikit-learn's _update_cdnmf_fast: for W [n, k] with X [n, m]
 * and Ht [m, k], each component t in turn and each row i: the gradient
 * (W HHt - X Ht)[i, t], its projected version adds to the violation, and
 * W[i, t] moves to max(W[i, t] - grad / HHt[t, t], 0).
 */
function coordinateDescentSweep(x: Float64Array, n: number, m: number, w: Float64Array, ht: Float64Array, k: number): number {
  const hht = new Float64Array(k * k);
  for (let j = 0; j < m; j++) {
    for (let a = 0; a < k; a++) {
      const ha = ht[j * k + a]!;
      if (ha === 0) continue;
      for (let b = 0; b < k; b++) hht[a * k + b] = hht[a * k + b]! + ha * ht[j * k + b]!;
    }
  }
  const xht = new Float64Array(n * k);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < m; j++) {
      const v = x[i * m + j]!;
      if (v === 0) continue;
      for (let t = 0; t < k; t++) xht[i * k + t] = xht[i * k + t]! + v * ht[j * k + t]!;
    }
  }
  let violation = 0;
  for (let t = 0; t < k; t++) {
    const hess = hht[t * k + t]!;
    for (let i = 0; i < n; i++) {
      let gradient = -xht[i * k + t]!;
      for (let r = 0; r < k; r++) gradient += hht[t * k + r]! * w[i * k + r]!;
      const current = w[i * k + t]!;
      violation += Math.abs(current === 0 ? Math.min(0, gradient) : gradient);
      if (hess !== 0) w[i * k + t] = Math.max(current - gradient / hess, 0);
    }
  }
  return violation;
}
