import { ArgumentError } from '../tensor/errors.js';
import { Tensor } from '../tensor/tensor.js';

/**
 * Superpixels for feature ablation: a regular grid, or a simple SLIC
 * (Achanta et al. 2012): k-means over colour and position, each centre
 * searching a 2S x 2S window, then small disconnected pieces merged into a
 * neighbour. Segment ids run 0..K-1 in raster order of first appearance.
 */

/** [H, W] ids of a rows x cols grid of nearly equal cells. */
export function gridSegments(height: number, width: number, cells: number | readonly [number, number]): Tensor {
  const [rows, cols] = typeof cells === 'number' ? [cells, cells] : cells;
  if (![height, width, rows, cols].every((v) => Number.isInteger(v) && v >= 1)) {
    throw new ArgumentError(`gridSegments: height, width and cells must be positive integers; got ${height}x${width}, cells ${JSON.stringify(cells)}`);
  }
  const out = new Float32Array(height * width);
  for (let y = 0; y < height; y++) {
    const r = Math.min(rows - 1, Math.floor((y * rows) / height));
    for (let x = 0; x < width; x++) out[y * width + x] = r * cols + Math.min(cols - 1, Math.floor((x * cols) / width));
  }
  return new Tensor(out, [height, width]);
}

export interface SlicOptions {
  /** About how many superpixels (default 50). */
  segments?: number;
  /**
   * Weight of position against colour (default 0.1). Colours are compared on
   * the image scaled to [0, 1] over all channels, so 0.1 here plays the part
   * of skimage's 10 on CIELAB's 0-100 range.
   */
  compactness?: number;
  /** k-means iterations (default 10, skimage's). */
  iterations?: number;
}

/** SLIC superpixels [H, W] of one image `values` (C x H x W). */
export function slicSegments(values: Float32Array, channels: number, height: number, width: number, options: SlicOptions = {}): Tensor {
  const fn = 'slicSegments';
  const k = options.segments ?? 50;
  const m = options.compactness ?? 0.1;
  const iterations = options.iterations ?? 10;
  if (!Number.isInteger(k) || k < 1) throw new ArgumentError(`${fn}: segments must be a positive integer; got ${k}`);
  if (!(m >= 0) || !Number.isFinite(m)) throw new ArgumentError(`${fn}: compactness must be a number >= 0; got ${m}`);
  if (!Number.isInteger(iterations) || iterations < 1) throw new ArgumentError(`${fn}: iterations must be a positive integer; got ${iterations}`);
  const positions = height * width;
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  const scale = hi > lo ? 1 / (hi - lo) : 0;
  const colour = Float64Array.from(values, (v) => (v - lo) * scale);
  const ny = Math.max(1, Math.min(height, Math.round(height / Math.sqrt(positions / k))));
  const nx = Math.max(1, Math.min(width, Math.round(width / Math.sqrt(positions / k))));
  const step = Math.sqrt((height / ny) * (width / nx));
  const centres: { y: number; x: number; c: Float64Array }[] = [];
  for (let j = 0; j < ny; j++) {
    for (let i = 0; i < nx; i++) {
      const y = ((j + 0.5) * height) / ny;
      const x = ((i + 0.5) * width) / nx;
      const p = Math.min(height - 1, Math.floor(y)) * width + Math.min(width - 1, Math.floor(x));
      centres.push({ y, x, c: Float64Array.from({ length: channels }, (_, ch) => colour[ch * positions + p]!) });
    }
  }
  const label = new Int32Array(positions);
  const best = new Float64Array(positions);
  const weight = (m / step) ** 2;
  for (let it = 0; it < iterations; it++) {
    best.fill(Infinity);
    centres.forEach((centre, ci) => {
      const y0 = Math.max(0, Math.floor(centre.y - 2 * step));
      const y1 = Math.min(height - 1, Math.ceil(centre.y + 2 * step));
      const x0 = Math.max(0, Math.floor(centre.x - 2 * step));
      const x1 = Math.min(width - 1, Math.ceil(centre.x + 2 * step));
      for (let y = y0; y <= y1; y++) {
        for (let x = x0; x <= x1; x++) {
          const p = y * width + x;
          let d = 0;
          for (let ch = 0; ch < channels; ch++) d += (colour[ch * positions + p]! - centre.c[ch]!) ** 2;
          d += weight * ((y - centre.y) ** 2 + (x - centre.x) ** 2);
          if (d < best[p]!) {
            best[p] = d;
            label[p] = ci;
          }
        }
      }
    });
    const sums = centres.map(() => ({ n: 0, y: 0, x: 0, c: new Float64Array(channels) }));
    for (let p = 0; p < positions; p++) {
      const s = sums[label[p]!]!;
      s.n++;
      s.y += Math.floor(p / width);
      s.x += p % width;
      for (let ch = 0; ch < channels; ch++) s.c[ch] = s.c[ch]! + colour[ch * positions + p]!;
    }
    sums.forEach((s, ci) => {
      if (s.n === 0) return;
      const centre = centres[ci]!;
      centre.y = s.y / s.n;
      centre.x = s.x / s.n;
      for (let ch = 0; ch < channels; ch++) centre.c[ch] = s.c[ch]! / s.n;
    });
  }
  return new Tensor(connected(label, height, width, Math.max(1, Math.floor(positions / centres.length / 4))), [height, width]);
}

/**
 * Relabel 4-connected pieces 0..K-1 in raster order; a piece smaller than
 * `minSize` joins the piece above or to the left of its first pixel (as
 * skimage's _enforce_label_connectivity joins small pieces to an adjacent one).
 */
function connected(label: Int32Array, height: number, width: number, minSize: number): Float32Array {
  const positions = height * width;
  const out = new Int32Array(positions).fill(-1);
  const queue = new Int32Array(positions);
  let next = 0;
  for (let start = 0; start < positions; start++) {
    if (out[start]! >= 0) continue;
    const id = next++;
    out[start] = id;
    let tail = 0;
    queue[tail++] = start;
    for (let head = 0; head < tail; head++) {
      const p = queue[head]!;
      const y = Math.floor(p / width);
      const x = p - y * width;
      const around = [y > 0 ? p - width : -1, y < height - 1 ? p + width : -1, x > 0 ? p - 1 : -1, x < width - 1 ? p + 1 : -1];
      for (const q of around) {
        if (q >= 0 && out[q] === -1 && label[q] === label[start]) {
          out[q] = id;
          queue[tail++] = q;
        }
      }
    }
    if (tail < minSize && id > 0) {
      const y = Math.floor(start / width);
      const neighbour = start % width > 0 ? start - 1 : y > 0 ? start - width : -1;
      if (neighbour >= 0) {
        const into = out[neighbour]!;
        for (let q = 0; q < tail; q++) out[queue[q]!] = into;
        next--;
      }
    }
  }
  return Float32Array.from(out);
}
