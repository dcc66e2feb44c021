import { ArgumentError, ShapeError } from '../tensor/errors.js';
import { Tensor, shapeString } from '../tensor/tensor.js';
import { baselineData, type Baseline } from './baseline.js';
import { checkImages, imageData, type Layout } from './checks.js';
import { channelMean, type OcclusionResult } from './occlusion.js';
import { scoreVariants } from './perturb.js';
import { withScorer } from './scorer.js';
import { gridSegments, slicSegments, type SlicOptions } from './segments.js';
import type { Scorable, ScoringOptions } from './types.js';

/**
 * Feature ablation over superpixels (captum's attr.FeatureAblation with a
 * feature mask): each segment of the image in turn is set to the baseline
 * over all channels, and every pixel of it gets score(input) - score(ablated).
 */

export interface FeatureAblationOptions extends ScoringOptions {
  /**
   * The segments: integer ids [N, H, W] or [H, W] (for every image), a grid
   * ({ grid: cells } or { grid: [rows, cols] }), or SLIC superpixels of each
   * image ({ slic: { segments, compactness } }). Default: SLIC, 50 segments.
   */
  segments?: Tensor | { grid: number | readonly [number, number] } | { slic: SlicOptions };
  /** What ablated pixels are set to (default 0). */
  baseline?: Baseline;
  onProgress?: (progress: { done: number; total: number }) => void;
}

export interface FeatureAblationResult extends OcclusionResult {
  /** [N, H, W]: the segment id of each pixel. */
  segments: Tensor;
}

function segmentsOf(input: Tensor, layout: Layout, options: FeatureAblationOptions, fn: string): Float32Array {
  const { n, channels, height, width, positions } = layout;
  const spec = options.segments ?? { slic: {} };
  const out = new Float32Array(n * positions);
  if (spec instanceof Tensor) {
    const s = spec.shape;
    const shared = s.length === 2 && s[0] === height && s[1] === width;
    const batch = s.length === 3 && s[0] === n && s[1] === height && s[2] === width;
    if (!shared && !batch) throw new ShapeError(`${fn}: segments has shape ${shapeString(s)}; accepted: [${n}, ${height}, ${width}] or [${height}, ${width}] of integer ids`);
    for (const v of spec.data) if (!Number.isInteger(v) || v < 0) throw new ArgumentError(`${fn}: segment ids must be integers >= 0; got ${v}`);
    for (let i = 0; i < n; i++) out.set(shared ? spec.data : spec.data.subarray(i * positions, (i + 1) * positions), i * positions);
    return out;
  }
  if (typeof spec === 'object' && spec !== null && 'grid' in spec) {
    const grid = gridSegments(height, width, spec.grid).data;
    for (let i = 0; i < n; i++) out.set(grid, i * positions);
    return out;
  }
  if (typeof spec === 'object' && spec !== null && 'slic' in spec) {
    for (let i = 0; i < n; i++) out.set(slicSegments(imageData(input, layout, i), channels, height, width, spec.slic).data, i * positions);
    return out;
  }
  throw new ArgumentError(`${fn}: segments must be a Tensor of ids, { grid: cells } or { slic: { segments, compactness } }`);
}

/** featureAblation(model, input, { segments, baseline }): attributions [N, C, H, W], maps [N, H, W]. */
export function featureAblation(model: Scorable, input: Tensor, options: FeatureAblationOptions = {}): FeatureAblationResult {
  const fn = 'featureAblation';
  const layout = checkImages(input, fn);
  const { n, channels, positions } = layout;
  const segments = segmentsOf(input, layout, options, fn);
  const baseline = baselineData(options.baseline, input, layout, fn);
  // Every (image, segment id) pair present is one ablation.
  const jobs: { image: number; id: number }[] = [];
  for (let i = 0; i < n; i++) {
    const ids = [...new Set(segments.subarray(i * positions, (i + 1) * positions))].sort((a, b) => a - b);
    for (const id of ids) jobs.push({ image: i, id });
  }
  const size = channels * positions;
  return withScorer(model, input, options, fn, (scorer) => {
    const scores = scoreVariants(
      scorer,
      layout,
      jobs.length,
      (k, out) => {
        const { image, id } = jobs[k]!;
        const seg = segments.subarray(image * positions, (image + 1) * positions);
        const src = imageData(input, layout, image);
        const base = baseline.subarray(image * size, (image + 1) * size);
        for (let c = 0; c < channels; c++) {
          for (let p = 0; p < positions; p++) out[c * positions + p] = seg[p] === id ? base[c * positions + p]! : src[c * positions + p]!;
        }
        return image;
      },
      (done, total) => options.onProgress?.({ done, total }),
    );
    const drops = new Map<string, number>();
    jobs.forEach((job, k) => drops.set(`${job.image}:${job.id}`, scorer.before[job.image]! - scores[k]!));
    const attributions = new Float32Array(input.size);
    for (let i = 0; i < n; i++) {
      for (let p = 0; p < positions; p++) {
        const drop = drops.get(`${i}:${segments[i * positions + p]}`)!;
        for (let c = 0; c < channels; c++) attributions[i * size + c * positions + p] = drop;
      }
    }
    return {
      attributions: new Tensor(attributions, input.shape),
      maps: channelMean(attributions, layout),
      segments: new Tensor(segments, [n, layout.height, layout.width]),
      targets: scorer.classes,
      scoreBefore: scorer.before,
      cost: { ...scorer.cost },
    };
  });
}
