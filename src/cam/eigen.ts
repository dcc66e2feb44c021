import { Tensor } from '../tensor/tensor.js';
import { positions } from './spatial.js';

/**
 * The leading eigenvector of a symmetric matrix by the cyclic Jacobi method
 * in float64: deterministic (no random start), accurate even when the two
 * largest eigenvalues are close, which is where power iteration crawls.
 * `matrix` is n x n row-major and is overwritten.
 */
export function leadingEigenvector(matrix: Float64Array, n: number): { value: number; vector: Float64Array } {
  const a = matrix;
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  let total = 0;
  for (let i = 0; i < n * n; i++) total += a[i]! * a[i]!;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += a[p * n + q]! * a[p * n + q]!;
    if (off <= 1e-30 * total || off === 0) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q]!;
        if (apq === 0) continue;
        const app = a[p * n + p]!;
        const aqq = a[q * n + q]!;
        // Rotation angle that zeroes a[p][q] (Golub & Van Loan, sym.schur2).
        const theta = (aqq - app) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = a[k * n + p]!;
          const akq = a[k * n + q]!;
          a[k * n + p] = c * akp - s * akq;
          a[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p * n + k]!;
          const aqk = a[q * n + k]!;
          a[p * n + k] = c * apk - s * aqk;
          a[q * n + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p]!;
          const vkq = v[k * n + q]!;
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  let best = 0;
  for (let i = 1; i < n; i++) if (a[i * n + i]! > a[best * n + best]!) best = i;
  const vector = new Float64Array(n);
  for (let k = 0; k < n; k++) vector[k] = v[k * n + best]!;
  return { value: a[best * n + best]!, vector };
}

/**
 * The projection of one image's activations on their first principal
 * component, as pytorch-grad-cam's get_2d_projection: M = the [hw, C]
 * activations with each channel's mean removed, raw = M v1 with v1 the first
 * right singular vector of M. Works on the smaller of the two Gram matrices
 * (C x C, or hw x hw where M v1 = s1 u1).
 *
 * Sign rule (SVD leaves it open; `orientation: 'none'` leaves the solver's
 * sign for callers with their own rule): the projection is oriented so that it
 * correlates positively with the channel sum of the uncentred activations
 * (the map points where the layer is active); if that correlation is 0,
 * its largest-magnitude entry (first on ties) is made positive.
 */
export function firstComponentProjection(
  values: Float32Array,
  channels: number,
  positions: number,
  orientation: 'activity' | 'none' = 'activity',
): Float64Array {
  const c = channels;
  const hw = positions;
  // m[p * c + k]: position p, channel k, centred over positions.
  const m = new Float64Array(hw * c);
  for (let k = 0; k < c; k++) {
    let mean = 0;
    for (let p = 0; p < hw; p++) mean += values[k * hw + p]!;
    mean /= hw;
    for (let p = 0; p < hw; p++) m[p * c + k] = values[k * hw + p]! - mean;
  }
  const projection = new Float64Array(hw);
  if (c <= hw) {
    const gram = new Float64Array(c * c);
    for (let p = 0; p < hw; p++) {
      for (let i = 0; i < c; i++) {
        const mi = m[p * c + i]!;
        if (mi === 0) continue;
        for (let j = i; j < c; j++) gram[i * c + j] = gram[i * c + j]! + mi * m[p * c + j]!;
      }
    }
    for (let i = 0; i < c; i++) for (let j = 0; j < i; j++) gram[i * c + j] = gram[j * c + i]!;
    const { vector } = leadingEigenvector(gram, c);
    for (let p = 0; p < hw; p++) {
      let s = 0;
      for (let k = 0; k < c; k++) s += m[p * c + k]! * vector[k]!;
      projection[p] = s;
    }
  } else {
    const gram = new Float64Array(hw * hw);
    for (let p = 0; p < hw; p++) {
      for (let q = p; q < hw; q++) {
        let s = 0;
        for (let k = 0; k < c; k++) s += m[p * c + k]! * m[q * c + k]!;
        gram[p * hw + q] = s;
        gram[q * hw + p] = s;
      }
    }
    const { value, vector } = leadingEigenvector(gram, hw);
    const sigma = Math.sqrt(Math.max(value, 0));
    for (let p = 0; p < hw; p++) projection[p] = sigma * vector[p]!;
  }
  if (orientation === 'activity') orient(projection, values, c, hw);
  return projection;
}

function orient(projection: Float64Array, values: Float32Array, c: number, hw: number): void {
  let correlation = 0;
  for (let p = 0; p < hw; p++) {
    let activity = 0;
    for (let k = 0; k < c; k++) activity += values[k * hw + p]!;
    correlation += activity * projection[p]!;
  }
  let flip = correlation < 0;
  if (correlation === 0) {
    let largest = 0;
    for (let p = 1; p < hw; p++) if (Math.abs(projection[p]!) > Math.abs(projection[largest]!)) largest = p;
    flip = projection[largest]! < 0;
  }
  if (flip) for (let p = 0; p < hw; p++) projection[p] = -projection[p]!;
}

/** raw[n] = projection of values[n] ([C, ...spatial]) on its first principal component. */
export function projectFirstComponent(values: Tensor): Tensor {
  const [n, c] = values.shape as [number, number];
  const hw = positions(values);
  const out = new Float32Array(n * hw);
  for (let i = 0; i < n; i++) {
    const projection = firstComponentProjection(values.data.subarray(i * c * hw, (i + 1) * c * hw), c, hw);
    for (let p = 0; p < hw; p++) out[i * hw + p] = projection[p]!;
  }
  return new Tensor(out, [n, ...values.shape.slice(2)]);
}

/**
 * The largest eigenvalue of a symmetric matrix and a unit eigenvector for it,
 * in float64, for matrices too large for Jacobi sweeps (kernel PCA's n x n
 * kernel over positions): Householder reduction to tridiagonal form and the
 * implicit QL algorithm for the eigenvalues (EISPACK tred2 / tql1, as JAMA
 * writes them), then inverse iteration on the tridiagonal matrix for the
 * eigenvector, mapped back through the Householder transformations. About
 * 3 n^3 flops. `matrix` is n x n row-major and is overwritten.
 */
export function topEigenpair(matrix: Float64Array, n: number): { value: number; vector: Float64Array } {
  if (n === 1) return { value: matrix[0]!, vector: Float64Array.of(1) };
  const v = matrix; // becomes the orthogonal Q with A = Q T Q^T
  const d = new Float64Array(n);
  const e = new Float64Array(n);
  tridiagonalize(v, d, e, n);
  // T: diagonal d, off-diagonal e[i] between i - 1 and i (e[0] = 0).
  const diagonal = d.slice();
  const offDiagonal = e.slice();
  const value = largestTridiagonalEigenvalue(d, e, n);
  const y = tridiagonalEigenvector(diagonal, offDiagonal, value, n);
  const vector = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    const yj = y[j]!;
    for (let i = 0; i < n; i++) vector[i] = vector[i]! + v[j * n + i]! * yj;
  }
  let norm = 0;
  for (const x of vector) norm += x * x;
  norm = Math.sqrt(norm);
  for (let i = 0; i < n; i++) vector[i] = vector[i]! / norm;
  return { value, vector };
}

/** Householder tridiagonalisation (tred2): on return v holds Q (column-major), d the diagonal, e the sub-diagonal (e[i] couples i - 1 and i). */
function tridiagonalize(v: Float64Array, d: Float64Array, e: Float64Array, n: number): void {
  // JAMA's V[i][j] is stored at v[j * n + i] (column-major), so that its
  // inner loops, which run down columns, read memory in order.
  const at = (i: number, j: number): number => v[j * n + i]!;
  const set = (i: number, j: number, x: number): void => {
    v[j * n + i] = x;
  };
  for (let j = 0; j < n; j++) d[j] = at(n - 1, j);
  for (let i = n - 1; i > 0; i--) {
    let scale = 0;
    let h = 0;
    for (let k = 0; k < i; k++) scale += Math.abs(d[k]!);
    if (scale === 0) {
      e[i] = d[i - 1]!;
      for (let j = 0; j < i; j++) {
        d[j] = at(i - 1, j);
        set(i, j, 0);
        set(j, i, 0);
      }
    } else {
      for (let k = 0; k < i; k++) {
        d[k] = d[k]! / scale;
        h += d[k]! * d[k]!;
      }
      let f = d[i - 1]!;
      let g = Math.sqrt(h);
      if (f > 0) g = -g;
      e[i] = scale * g;
      h -= f * g;
      d[i - 1] = f - g;
      for (let j = 0; j < i; j++) e[j] = 0;
      for (let j = 0; j < i; j++) {
        f = d[j]!;
        set(j, i, f);
        g = e[j]! + at(j, j) * f;
        for (let k = j + 1; k <= i - 1; k++) {
          g += at(k, j) * d[k]!;
          e[k] = e[k]! + at(k, j) * f;
        }
        e[j] = g;
      }
      f = 0;
      for (let j = 0; j < i; j++) {
        e[j] = e[j]! / h;
        f += e[j]! * d[j]!;
      }
      const hh = f / (h + h);
      for (let j = 0; j < i; j++) e[j] = e[j]! - hh * d[j]!;
      for (let j = 0; j < i; j++) {
        f = d[j]!;
        g = e[j]!;
        for (let k = j; k <= i - 1; k++) set(k, j, at(k, j) - (f * e[k]! + g * d[k]!));
        d[j] = at(i - 1, j);
        set(i, j, 0);
      }
    }
    d[i] = h;
  }
  for (let i = 0; i < n - 1; i++) {
    set(n - 1, i, at(i, i));
    set(i, i, 1);
    const h = d[i + 1]!;
    if (h !== 0) {
      for (let k = 0; k <= i; k++) d[k] = at(k, i + 1) / h;
      for (let j = 0; j <= i; j++) {
        let g = 0;
        for (let k = 0; k <= i; k++) g += at(k, i + 1) * at(k, j);
        for (let k = 0; k <= i; k++) set(k, j, at(k, j) - g * d[k]!);
      }
    }
    for (let k = 0; k <= i; k++) set(k, i + 1, 0);
  }
  for (let j = 0; j < n; j++) {
    d[j] = at(n - 1, j);
    set(n - 1, j, 0);
  }
  set(n - 1, n - 1, 1);
  e[0] = 0;
}

/** The eigenvalues of the tridiagonal (d, e) by implicit QL (tql1), returning the largest. d and e are overwritten. */
function largestTridiagonalEigenvalue(d: Float64Array, e: Float64Array, n: number): number {
  for (let i = 1; i < n; i++) e[i - 1] = e[i]!;
  e[n - 1] = 0;
  let f = 0;
  let tst1 = 0;
  const eps = 2 ** -52;
  for (let l = 0; l < n; l++) {
    tst1 = Math.max(tst1, Math.abs(d[l]!) + Math.abs(e[l]!));
    let m = l;
    while (m < n - 1 && Math.abs(e[m]!) > eps * tst1) m++;
    if (m > l) {
      for (let iter = 0; iter < 60 && Math.abs(e[l]!) > eps * tst1; iter++) {
        let g = d[l]!;
        let p = (d[l + 1]! - g) / (2 * e[l]!);
        let r = Math.hypot(p, 1);
        if (p < 0) r = -r;
        d[l] = e[l]! / (p + r);
        d[l + 1] = e[l]! * (p + r);
        const dl1 = d[l + 1]!;
        let h = g - d[l]!;
        for (let i = l + 2; i < n; i++) d[i] = d[i]! - h;
        f += h;
        p = d[m]!;
        let c = 1;
        let c2 = c;
        let c3 = c;
        const el1 = e[l + 1]!;
        let s = 0;
        let s2 = 0;
        for (let i = m - 1; i >= l; i--) {
          c3 = c2;
          c2 = c;
          s2 = s;
          g = c * e[i]!;
          h = c * p;
          r = Math.hypot(p, e[i]!);
          e[i + 1] = s * r;
          s = e[i]! / r;
          c = p / r;
          p = c * d[i]! - s * g;
          d[i + 1] = h + s * (c * g + s * d[i]!);
        }
        p = (-s * s2 * c3 * el1 * e[l]!) / dl1;
        e[l] = s * p;
        d[l] = c * p;
      }
    }
    d[l] = d[l]! + f;
    e[l] = 0;
  }
  let best = -Infinity;
  for (const x of d) best = Math.max(best, x);
  return best;
}

/**
 * A unit eigenvector of the tridiagonal (diagonal, off) for `value`, by
 * inverse iteration: three solves of (T - value I) y = y_prev with
 * tridiagonal LU and partial pivoting (LAPACK's dgttrf / dgtts2), tiny
 * pivots replaced so the near-singular system stays solvable.
 */
function tridiagonalEigenvector(diagonal: Float64Array, off: Float64Array, value: number, n: number): Float64Array {
  let norm = 0;
  for (let i = 0; i < n; i++) norm = Math.max(norm, Math.abs(diagonal[i]!) + Math.abs(off[i]!) + (i + 1 < n ? Math.abs(off[i + 1]!) : 0));
  const tiny = Math.max(norm, 1e-300) * 2 ** -52;
  // sub[i] = super[i] = T[i + 1][i] = off[i + 1]
  const dd = new Float64Array(n);
  const du = new Float64Array(n);
  const dl = new Float64Array(n);
  const du2 = new Float64Array(n);
  const swapped = new Uint8Array(n);
  for (let i = 0; i < n; i++) dd[i] = diagonal[i]! - value;
  for (let i = 0; i + 1 < n; i++) {
    du[i] = off[i + 1]!;
    dl[i] = off[i + 1]!;
  }
  for (let i = 0; i + 1 < n; i++) {
    if (Math.abs(dd[i]!) >= Math.abs(dl[i]!)) {
      if (dd[i] === 0) dd[i] = tiny;
      const fact = dl[i]! / dd[i]!;
      dl[i] = fact;
      dd[i + 1] = dd[i + 1]! - fact * du[i]!;
    } else {
      const fact = dd[i]! / dl[i]!;
      dd[i] = dl[i]!;
      dl[i] = fact;
      const temp = du[i]!;
      du[i] = dd[i + 1]!;
      dd[i + 1] = temp - fact * dd[i + 1]!;
      if (i + 2 < n) {
        du2[i] = du[i + 1]!;
        du[i + 1] = -fact * du[i + 1]!;
      }
      swapped[i] = 1;
    }
  }
  for (let i = 0; i < n; i++) if (Math.abs(dd[i]!) < tiny) dd[i] = dd[i]! < 0 ? -tiny : tiny;
  // A fixed start with no special structure (so it is not orthogonal to the answer).
  let y = Float64Array.from({ length: n }, (_, i) => 1 + 0.5 * Math.sin(1 + 7 * i));
  for (let iteration = 0; iteration < 3; iteration++) {
    const b = y.slice();
    for (let i = 0; i + 1 < n; i++) {
      if (!swapped[i]) b[i + 1] = b[i + 1]! - dl[i]! * b[i]!;
      else {
        const temp = b[i]!;
        b[i] = b[i + 1]!;
        b[i + 1] = temp - dl[i]! * b[i]!;
      }
    }
    b[n - 1] = b[n - 1]! / dd[n - 1]!;
    if (n > 1) b[n - 2] = (b[n - 2]! - du[n - 2]! * b[n - 1]!) / dd[n - 2]!;
    for (let i = n - 3; i >= 0; i--) b[i] = (b[i]! - du[i]! * b[i + 1]! - du2[i]! * b[i + 2]!) / dd[i]!;
    let s = 0;
    for (const x of b) s += x * x;
    s = Math.sqrt(s);
    y = b.map((x) => x / s);
  }
  return y;
}
