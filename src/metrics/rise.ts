import { ArgumentError, ShapeError } from '../tensor/errors.js';
import { Rng } from '../tensor/random.js';
import { Tensor, shapeString } from '../tensor/tensor.js';
import { checkImages, imageData, positiveInteger, type Layout } from './checks.js';
import { multiplyInto } from './perturb.js';
import { withScorer } from './scorer.js';
import type { Scorable, ScoringOptions } from './types.js';

/**
 * RISE, Randomized Input Sampling for Explanation (Petsiuk et al. 2018, as
 * eclique/RISE's explanations.py): score the image multiplied by N random
 * smooth masks; the saliency of a pixel is the score-weighted sum of the
 * masks over it, divided by N p. Needs only scores: explains any model.
 *
 * Masks (RISE's generate_masks): a cells x cells grid of 0/1 cells, each 1
 * with probability p, upsampled bilinearly (skimage's resize, order 1, mode
 * 'reflect': half-pixel centres, mirrored edges) to (cells + 1) x the cell
 * size ceil(H / cells), then cropped to H x W at a random shift of up to one
 * cell.
 */

export interface RiseOptions extends ScoringOptions {
  /** The number of random masks (default 4000), or the masks themselves [M, H, W] (e.g. exported from Python), used for every image. */
  masks?: number | Tensor;
  /** Grid cells per side (default 7). */
  cells?: number;
  /** Probability that a grid cell is on (default 0.5); also the normaliser of passed-in masks. */
  probability?: number;
  /** Seed of the masks (default 0). */
  seed?: number;
  /** Called after every model call. */
  onProgress?: (progress: { done: number; total: number }) => void;
}

export interface BlackBoxResult {
  /** [N, H, W] in the model's score units (not normalised). */
  maps: Tensor;
  /** The class explained for each image, or null for a target function. */
  targets: number[] | null;
  /** The target score of each unperturbed image. */
  scoreBefore: Float32Array;
  cost: { forwardPasses: number; inputs: number };
}

export interface RiseResult extends BlackBoxResult {
  /** [N, M]: the score of each masked image. */
  scores: Tensor;
}

interface MaskSource {
  count: number;
  /** Writes mask k (H x W) into out. */
  write(k: number, out: Float32Array): void;
}

/** skimage resize(order=1, mode='reflect') of one axis: source index pairs and weights for each output position. */
function axisWeights(inSize: number, outSize: number): { lo: Int32Array; hi: Int32Array; t: Float64Array } {
  const lo = new Int32Array(outSize);
  const hi = new Int32Array(outSize);
  const t = new Float64Array(outSize);
  const mirror = (i: number): number => {
    if (inSize === 1) return 0;
    const period = 2 * (inSize - 1);
    let m = ((i % period) + period) % period;
    if (m >= inSize) m = period - m;
    return m;
  };
  const scale = inSize / outSize;
  for (let o = 0; o < outSize; o++) {
    const x = (o + 0.5) * scale - 0.5;
    const f = Math.floor(x);
    lo[o] = mirror(f);
    hi[o] = mirror(f + 1);
    t[o] = x - f;
  }
  return { lo, hi, t };
}

/**
 * One RISE mask: the cells x cells grid (row-major, values 0/1) upsampled as
 * skimage's resize(order=1, mode='reflect', anti_aliasing=False) to
 * (cells + 1) x ceil(H / cells) by (cells + 1) x ceil(W / cells), cropped at
 * (shiftY, shiftX) to H x W, written into `out`.
 */
export function riseMaskFromGrid(grid: ArrayLike<number>, cells: number, height: number, width: number, shiftY: number, shiftX: number, out = new Float32Array(height * width)): Float32Array {
  const ys = axisWeights(cells, (cells + 1) * Math.ceil(height / cells));
  const xs = axisWeights(cells, (cells + 1) * Math.ceil(width / cells));
  writeMask(grid, cells, ys, xs, height, width, shiftY, shiftX, out);
  return out;
}

type Axis = ReturnType<typeof axisWeights>;

function writeMask(grid: ArrayLike<number>, cells: number, ys: Axis, xs: Axis, height: number, width: number, dy: number, dx: number, out: Float32Array): void {
  for (let y = 0; y < height; y++) {
    const yy = y + dy;
    const r0 = ys.lo[yy]! * cells;
    const r1 = ys.hi[yy]! * cells;
    const ty = ys.t[yy]!;
    for (let x = 0; x < width; x++) {
      const xx = x + dx;
      const c0 = xs.lo[xx]!;
      const c1 = xs.hi[xx]!;
      const tx = xs.t[xx]!;
      const top = grid[r0 + c0]! + (grid[r0 + c1]! - grid[r0 + c0]!) * tx;
      const bottom = grid[r1 + c0]! + (grid[r1 + c1]! - grid[r1 + c0]!) * tx;
      out[y * width + x] = top + (bottom - top) * ty;
    }
  }
}

function generatedMasks(count: number, height: number, width: number, cells: number, probability: number, seed: number): MaskSource {
  const rng = new Rng(seed);
  // As RISE: every grid first, then one shift per mask.
  const grids = new Uint8Array(count * cells * cells);
  for (let i = 0; i < grids.length; i++) grids[i] = rng.uniform() < probability ? 1 : 0;
  const cellH = Math.ceil(height / cells);
  const cellW = Math.ceil(width / cells);
  const shifts = new Int32Array(count * 2);
  for (let k = 0; k < count; k++) {
    shifts[2 * k] = rng.int(cellH);
    shifts[2 * k + 1] = rng.int(cellW);
  }
  const ys = axisWeights(cells, (cells + 1) * cellH);
  const xs = axisWeights(cells, (cells + 1) * cellW);
  return {
    count,
    write: (k, out) => writeMask(grids.subarray(k * cells * cells, (k + 1) * cells * cells), cells, ys, xs, height, width, shifts[2 * k]!, shifts[2 * k + 1]!, out),
  };
}

function checkProbability(value: unknown, fn: string): number {
  if (typeof value !== 'number' || !(value > 0 && value <= 1)) throw new ArgumentError(`${fn}: probability must be a number in (0, 1]; got ${String(value)}`);
  return value;
}

function maskSource(options: RiseOptions, layout: Layout, fn: string): MaskSource {
  const { height, width, positions } = layout;
  const masks = options.masks ?? 4000;
  if (masks instanceof Tensor) {
    const s = masks.shape;
    const fits = (s.length === 3 && s[1] === height && s[2] === width) || (s.length === 4 && s[1] === 1 && s[2] === height && s[3] === width);
    if (!fits || s[0]! < 1) throw new ShapeError(`${fn}: masks has shape ${shapeString(s)}; accepted: [M, ${height}, ${width}] or [M, 1, ${height}, ${width}], at the input's size`);
    for (let i = 0; i < masks.size; i++) {
      if (!Number.isFinite(masks.data[i]!)) throw new ArgumentError(`${fn}: masks hold ${masks.data[i]}; masks must be finite numbers`);
    }
    return { count: s[0]!, write: (k, out) => out.set(masks.data.subarray(k * positions, (k + 1) * positions)) };
  }
  const count = positiveInteger(masks, 'masks (a count)', fn);
  const cells = positiveInteger(options.cells ?? 7, 'cells', fn);
  return generatedMasks(count, height, width, cells, checkProbability(options.probability ?? 0.5, fn), options.seed ?? 0);
}

/** RISE's random masks [count, H, W] for an H x W input (what `rise` uses with the same options). */
export function riseMasks(count: number, height: number, width: number, options: Pick<RiseOptions, 'cells' | 'probability' | 'seed'> = {}): Tensor {
  const fn = 'riseMasks';
  positiveInteger(count, 'count', fn);
  positiveInteger(height, 'height', fn);
  positiveInteger(width, 'width', fn);
  const source = generatedMasks(count, height, width, positiveInteger(options.cells ?? 7, 'cells', fn), checkProbability(options.probability ?? 0.5, fn), options.seed ?? 0);
  const out = new Float32Array(count * height * width);
  for (let k = 0; k < count; k++) source.write(k, out.subarray(k * height * width, (k + 1) * height * width));
  return new Tensor(out, [count, height, width]);
}

/**
 * rise(model, input, { masks, cells, probability, seed }): saliency [N, H, W]
 * = sum_k score(input * mask_k) mask_k / (M p). Each batch's masks are made,
 * scored and added up before the next, so 4000 masks never sit in memory at once.
 */
export function rise(model: Scorable, input: Tensor, options: RiseOptions = {}): RiseResult {
  const fn = 'rise';
  const layout = checkImages(input, fn);
  const source = maskSource(options, layout, fn);
  const probability = checkProbability(options.probability ?? 0.5, fn);
  return withScorer(model, input, options, fn, (scorer) => {
    const { n, channels, height, width, positions } = layout;
    const M = source.count;
    const size = channels * positions;
    const saliency = new Float64Array(n * positions);
    const scores = new Float32Array(n * M);
    const total = n * M;
    let done = 0;
    for (let i = 0; i < n; i++) {
      const image = imageData(input, layout, i);
      for (let start = 0; start < M; start += scorer.batchSize) {
        const rows = Math.min(scorer.batchSize, M - start);
        const masks = new Float32Array(rows * positions);
        const batch = new Float32Array(rows * size);
        for (let r = 0; r < rows; r++) {
          const mask = masks.subarray(r * positions, (r + 1) * positions);
          source.write(start + r, mask);
          multiplyInto(batch.subarray(r * size, (r + 1) * size), image, mask, layout);
        }
        const s = scorer.score(new Tensor(batch, [rows, channels, height, width]), new Array<number>(rows).fill(i));
        scores.set(s, i * M + start);
        const acc = saliency.subarray(i * positions, (i + 1) * positions);
        for (let r = 0; r < rows; r++) {
          const w = s[r]!;
          const base = r * positions;
          for (let p = 0; p < positions; p++) acc[p] = acc[p]! + w * masks[base + p]!;
        }
        done += rows;
        options.onProgress?.({ done, total });
      }
    }
    const maps = Float32Array.from(saliency, (v) => v / M / probability);
    return {
      maps: new Tensor(maps, [n, height, width]),
      scores: new Tensor(scores, [n, M]),
      targets: scorer.classes,
      scoreBefore: scorer.before,
      cost: { ...scorer.cost },
    };
  });
}
