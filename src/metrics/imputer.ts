import { Rng } from '../tensor/random.js';
import type { Layout } from './checks.js';

/**
 * ROAD's noisy linear imputation (Rong et al. 2022; tleemann/road_evaluation,
 * copied into pytorch-grad-cam's metrics/road.py): every removed pixel takes
 * the weighted mean of its 8 neighbours inside the image,
 *
 *   sum_j w_j (x_j - x_i) = 0,  w = 1/6 (edge neighbours), 1/12 (diagonal),
 *
 * with known neighbours on the right-hand side: one sparse linear system per
 * image, shared by its channels. pytorch-grad-cam solves it with scipy's
 * spsolve (SuperLU, float64) and writes float32. The matrix (negated) is
 * symmetric positive definite wherever a group of removed pixels touches a
 * kept one, so here it is solved as exactly with a sparse (envelope)
 * Cholesky factorisation in float64; it is positive definite as soon as one
 * pixel is kept (the image grid is connected, so every group of removed
 * pixels then borders a kept one). When every pixel is removed there is
 * nothing to interpolate from: the system is singular with a zero right-hand
 * side, spsolve returns 0 everywhere (fixtures2 records this), and so does this.
 * `noise` adds noise * N(0, 1) to every imputed value afterwards
 * (pytorch-grad-cam's default is 0.01; 0 makes the result reproducible).
 */

/** (dy, dx, weight) of the 8 neighbours. */
const NEIGHBOURS: readonly (readonly [number, number, number])[] = [
  [1, 1, 1 / 12],
  [0, 1, 1 / 6],
  [-1, 1, 1 / 12],
  [1, -1, 1 / 12],
  [0, -1, 1 / 6],
  [-1, -1, 1 / 12],
  [1, 0, 1 / 6],
  [-1, 0, 1 / 6],
];

export interface ImputeOptions {
  /** Standard deviation of the Gaussian noise added to imputed values (default 0). */
  noise?: number;
  /** Generator for the noise (default: a fresh one seeded with 0). */
  rng?: Rng;
}

/**
 * A copy of `image` (C x H x W) where every pixel with keep[p] == 0 is
 * replaced by the linear infill of the kept ones.
 */
export function linearImpute(image: Float32Array, keep: ArrayLike<number>, layout: Layout, options: ImputeOptions = {}): Float32Array {
  const { channels, height, width, positions } = layout;
  const out = image.slice();
  // Number the unknowns along the shorter image axis first: the envelope of
  // the matrix is then about min(H, W) wide.
  const byColumn = width > height;
  const order = new Int32Array(positions); // k-th pixel in elimination order
  {
    let k = 0;
    if (byColumn) for (let x = 0; x < width; x++) for (let y = 0; y < height; y++) order[k++] = y * width + x;
    else for (let p = 0; p < positions; p++) order[p] = p;
  }
  const index = new Int32Array(positions).fill(-1); // pixel -> unknown number
  let n = 0;
  for (let k = 0; k < positions; k++) if (!keep[order[k]!]) index[order[k]!] = n++;
  if (n === 0) return out;
  const pixelOf = new Int32Array(n);
  for (let p = 0; p < positions; p++) if (index[p]! >= 0) pixelOf[index[p]!] = p;

  // Every pixel removed: spsolve's answer to the singular system is 0.
  if (n === positions) {
    out.fill(0);
    return addNoise(out, options);
  }
  const m = n;

  // Neighbour lists of each unknown, and the row envelope.
  const diag = new Float64Array(m);
  const rhs = new Float64Array(m * channels);
  const first = new Int32Array(m);
  const neighbours: { j: number; w: number }[][] = [];
  for (let r = 0; r < m; r++) {
    const p = pixelOf[r]!;
    const y = Math.floor(p / width);
    const x = p - y * width;
    let total = 0;
    let lowest = r;
    const list: { j: number; w: number }[] = [];
    for (const [dy, dx, w] of NEIGHBOURS) {
      const yy = y + dy;
      const xx = x + dx;
      if (yy < 0 || xx < 0 || yy >= height || xx >= width) continue;
      total += w;
      const q = yy * width + xx;
      if (keep[q]) {
        for (let c = 0; c < channels; c++) rhs[r * channels + c] = rhs[r * channels + c]! + w * image[c * positions + q]!;
      } else {
        const j = index[q]!;
        list.push({ j, w });
        if (j < lowest) lowest = j;
      }
    }
    diag[r] = total;
    first[r] = lowest;
    neighbours.push(list);
  }

  // Envelope Cholesky: row r of L is stored from column first[r] to r.
  const start = new Float64Array(m + 1);
  for (let r = 0; r < m; r++) start[r + 1] = start[r]! + (r - first[r]! + 1);
  const L = new Float64Array(start[m]!);
  for (let r = 0; r < m; r++) {
    const base = start[r]! - first[r]!; // L[r][j] at base + j
    L[base + r] = diag[r]!;
    for (const { j, w } of neighbours[r]!) if (j < r) L[base + j] = -w;
    for (let j = first[r]!; j <= r; j++) {
      const jBase = start[j]! - first[j]!;
      let s = L[base + j]!;
      for (let k = Math.max(first[r]!, first[j]!); k < j; k++) s -= L[base + k]! * L[jBase + k]!;
      L[base + j] = j === r ? Math.sqrt(s) : s / L[jBase + j]!;
    }
  }

  // Solve L L^T x = rhs for every channel.
  const solution = new Float64Array(m);
  const noise = options.noise ?? 0;
  const rng = noise !== 0 ? (options.rng ?? new Rng(0)) : null;
  for (let c = 0; c < channels; c++) {
    for (let r = 0; r < m; r++) {
      const base = start[r]! - first[r]!;
      let s = rhs[r * channels + c]!;
      for (let k = first[r]!; k < r; k++) s -= L[base + k]! * solution[k]!;
      solution[r] = s / L[base + r]!;
    }
    for (let r = m - 1; r >= 0; r--) {
      const base = start[r]! - first[r]!;
      const value = solution[r]! / L[base + r]!;
      solution[r] = value;
      for (let k = first[r]!; k < r; k++) solution[k] = solution[k]! - L[base + k]! * value;
    }
    const plane = c * positions;
    for (let i = 0; i < n; i++) {
      const value = Math.fround(solution[i]!);
      out[plane + pixelOf[i]!] = rng ? value + noise * rng.normal() : value;
    }
  }
  return out;
}

/** pytorch-grad-cam's noise (noise * N(0, 1) on every imputed value) for the all-removed case. */
function addNoise(out: Float32Array, options: ImputeOptions): Float32Array {
  const noise = options.noise ?? 0;
  if (noise !== 0) {
    const rng = options.rng ?? new Rng(0);
    for (let i = 0; i < out.length; i++) out[i] = out[i]! + noise * rng.normal();
  }
  return out;
}
