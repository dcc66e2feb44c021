/**
 * Similarity of two maps, as the sanity checks compare them: Spearman's rank
 * correlation (scipy.stats.spearmanr: average ranks for ties, Pearson of the
 * ranks) and SSIM (skimage.metrics.structural_similarity's defaults: a 7 x 7
 * uniform window, K1 0.01, K2 0.03, sample covariance, the mean over the
 * positions whose window lies inside the image).
 */

/** Ranks 1..n with ties given their average rank. */
export function averageRanks(values: ArrayLike<number>): Float64Array {
  const n = values.length;
  const order = Int32Array.from({ length: n }, (_, i) => i).sort((a, b) => values[a]! - values[b]!);
  const ranks = new Float64Array(n);
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && values[order[j + 1]!] === values[order[i]!]) j++;
    const rank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) ranks[order[k]!] = rank;
    i = j + 1;
  }
  return ranks;
}

/** Sums of centred products in float64: sum((a - mean a)(b - mean b)), sum((a - mean a)^2), sum((b - mean b)^2). */
export function centredSums(a: ArrayLike<number>, b: ArrayLike<number>): { ab: number; aa: number; bb: number } {
  const n = a.length;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i]!;
    mb += b[i]!;
  }
  ma /= n;
  mb /= n;
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < n; i++) {
    const x = a[i]! - ma;
    const y = b[i]! - mb;
    ab += x * y;
    aa += x * x;
    bb += y * y;
  }
  return { ab, aa, bb };
}

/** Pearson's correlation in float64; 0 when either side is constant (scipy gives NaN there). */
export function pearsonCorrelation(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const { ab, aa, bb } = centredSums(a, b);
  if (aa === 0 || bb === 0) return 0;
  return Math.max(-1, Math.min(1, ab / Math.sqrt(aa * bb)));
}

/**
 * Spearman's rank correlation. Two constant maps that are equal count as
 * perfectly correlated (1); a constant map against a varying one as 0 (scipy: NaN).
 */
export function spearmanCorrelation(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (identical(a, b)) return 1;
  return pearsonCorrelation(averageRanks(a), averageRanks(b));
}

function identical(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Box sums of a height x width image over a size x size window, at every window position. */
function windowMeans(x: Float64Array, height: number, width: number, size: number): Float64Array {
  const oh = height - size + 1;
  const ow = width - size + 1;
  const out = new Float64Array(oh * ow);
  for (let y = 0; y < oh; y++) {
    for (let xx = 0; xx < ow; xx++) {
      let s = 0;
      for (let i = 0; i < size; i++) for (let j = 0; j < size; j++) s += x[(y + i) * width + xx + j]!;
      out[y * ow + xx] = s / (size * size);
    }
  }
  return out;
}

/**
 * SSIM of two height x width maps with skimage's defaults. `dataRange`
 * defaults to max - min over both maps (Quantus's choice). The window is 7,
 * or the largest odd size that fits a smaller map. Equal maps give 1.
 */
export function ssim(a: ArrayLike<number>, b: ArrayLike<number>, height: number, width: number, dataRange?: number): number {
  if (identical(a, b)) return 1;
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < a.length; i++) {
    lo = Math.min(lo, a[i]!, b[i]!);
    hi = Math.max(hi, a[i]!, b[i]!);
  }
  const range = dataRange ?? hi - lo;
  let size = Math.min(7, height, width);
  if (size % 2 === 0) size--;
  const x = Float64Array.from(a);
  const y = Float64Array.from(b);
  const product = (p: Float64Array, q: Float64Array) => p.map((v, i) => v * q[i]!);
  const ux = windowMeans(x, height, width, size);
  const uy = windowMeans(y, height, width, size);
  const uxx = windowMeans(product(x, x), height, width, size);
  const uyy = windowMeans(product(y, y), height, width, size);
  const uxy = windowMeans(product(x, y), height, width, size);
  const np = size * size;
  const covNorm = np > 1 ? np / (np - 1) : 1;
  const c1 = (0.01 * range) ** 2;
  const c2 = (0.03 * range) ** 2;
  let total = 0;
  for (let i = 0; i < ux.length; i++) {
    const vx = covNorm * (uxx[i]! - ux[i]! * ux[i]!);
    const vy = covNorm * (uyy[i]! - uy[i]! * uy[i]!);
    const vxy = covNorm * (uxy[i]! - ux[i]! * uy[i]!);
    const num = (2 * ux[i]! * uy[i]! + c1) * (2 * vxy + c2);
    const den = (ux[i]! ** 2 + uy[i]! ** 2 + c1) * (vx + vy + c2);
    total += den === 0 ? 1 : num / den;
  }
  return total / ux.length;
}
