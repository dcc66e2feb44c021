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
 * Sign rule (SVD leaves it open): the projection is oriented so that it
 * correlates positively with the channel sum of the uncentred activations
 * (the map points where the layer is active); if that correlation is 0,
 * its largest-magnitude entry (first on ties) is made positive.
 */
export function firstComponentProjection(values: Float32Array, channels: number, positions: number): Float64Array {
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
  orient(projection, values, c, hw);
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
