import { ArgumentError } from '../tensor/errors.js';
import { Tensor } from '../tensor/tensor.js';

/**
 * RISE's blurred substrate (eclique/RISE evaluation.py): gkern(klen, nsig) is
 * scipy.ndimage.gaussian_filter(dirac, nsig) on a klen x klen grid (mode
 * 'reflect', truncate 4), and the image is convolved with it per channel with
 * zero padding klen // 2 (RISE uses klen 11, nsig 5).
 */

/** One axis of gkern: gaussian_filter1d of a centred dirac of length `size`, scipy's 'reflect' boundary. */
export function gaussianKernel1d(size: number, sigma: number): Float64Array {
  const radius = Math.floor(4 * sigma + 0.5);
  const weights = new Float64Array(2 * radius + 1);
  let total = 0;
  for (let t = -radius; t <= radius; t++) total += weights[t + radius] = Math.exp((-0.5 * t * t) / (sigma * sigma));
  for (let t = 0; t < weights.length; t++) weights[t] = weights[t]! / total;
  const centre = Math.floor(size / 2);
  // 'reflect' (d c b a | a b c d | d c b a): index j of the extended axis reads reflect(j).
  const reflect = (j: number): number => {
    const period = 2 * size;
    let m = ((j % period) + period) % period;
    if (m >= size) m = period - 1 - m;
    return m;
  };
  const out = new Float64Array(size);
  for (let i = 0; i < size; i++) {
    let s = 0;
    for (let t = -radius; t <= radius; t++) if (reflect(i + t) === centre) s += weights[t + radius]!;
    out[i] = s;
  }
  return out;
}

export interface BlurOptions {
  /** Kernel width (odd, default 11 as RISE). */
  size?: number;
  /** Gaussian sigma (default 5 as RISE). */
  sigma?: number;
}

/** RISE's blur of a batch [N, C, H, W]: each channel convolved with gkern(size, sigma), zero padding. */
export function riseBlur(input: Tensor, options: BlurOptions = {}): Tensor {
  const size = options.size ?? 11;
  const sigma = options.sigma ?? 5;
  if (!Number.isInteger(size) || size < 1 || size % 2 === 0) throw new ArgumentError(`riseBlur: size must be an odd positive integer; got ${size}`);
  if (!(sigma > 0) || !Number.isFinite(sigma)) throw new ArgumentError(`riseBlur: sigma must be a positive number; got ${sigma}`);
  const g = gaussianKernel1d(size, sigma);
  // The 2-D kernel is the outer product g g^T, rounded to float32 as RISE stores it.
  const kernel = new Float32Array(size * size);
  for (let i = 0; i < size; i++) for (let j = 0; j < size; j++) kernel[i * size + j] = g[i]! * g[j]!;
  const [n, c, h, w] = input.shape as [number, number, number, number];
  const r = Math.floor(size / 2);
  const out = new Float32Array(input.size);
  for (let plane = 0; plane < n * c; plane++) {
    const src = input.data.subarray(plane * h * w, (plane + 1) * h * w);
    const dst = out.subarray(plane * h * w, (plane + 1) * h * w);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        let s = 0;
        for (let i = Math.max(0, r - y); i < Math.min(size, h - y + r); i++) {
          const row = (y + i - r) * w;
          const krow = i * size;
          for (let j = Math.max(0, r - x); j < Math.min(size, w - x + r); j++) s += kernel[krow + j]! * src[row + x + j - r]!;
        }
        dst[y * w + x] = s;
      }
    }
  }
  return new Tensor(out, input.shape);
}
