import { ArgumentError, ShapeError } from '../tensor/errors.js';
import { softmax } from '../tensor/ops/softmax.js';
import { noGrad } from '../tensor/autograd.js';
import { Tensor, shapeString } from '../tensor/tensor.js';
import type { Module } from '../layers/module.js';
import { inEvalMode } from '../cam/capture.js';
import { normalizeImages } from '../cam/postprocess.js';
import type { LayerSpec } from '../cam/types.js';
import { ablationCam, eigenCam, gradCam, gradCamPlusPlus, hiResCam, layerCam, scoreCam, xGradCam } from '../cam/index.js';
import { deletion, insertion } from './causal.js';
import { confidenceChange } from './confidence.js';
import { featureAblation } from './featureAblation.js';
import { occlusion } from './occlusion.js';
import { rise } from './rise.js';
import { roadCombined } from './road.js';

/**
 * The data of a comparison report: every method's map of one image, the
 * time it took, and its scores on the faithfulness metrics, with the
 * model's top classes. `tinycam compare` renders it as one HTML page.
 */

/** A method to compare: anything that maps (model, input, { target, layer }) to maps [1, H, W]. */
export interface ComparedMethod {
  name: string;
  run: (model: Module, input: Tensor, options: { target: number; layer?: LayerSpec | readonly LayerSpec[] }) => { maps: Tensor };
}

export type MetricName = 'confidenceChange' | 'dropInConfidence' | 'increaseInConfidence' | 'averageDrop' | 'roadCombined' | 'deletion' | 'insertion';

/** What each metric column means and which way is better. */
export const METRIC_INFO: Readonly<Record<MetricName, { label: string; better: 'higher' | 'lower'; about: string }>> = {
  confidenceChange: { label: 'confidence change', better: 'higher', about: "score(image x map) - score(image), pytorch-grad-cam's CamMultImageConfidenceChange" },
  dropInConfidence: { label: 'drop', better: 'lower', about: "max(score(image) - score(image x map), 0), pytorch-grad-cam's DropInConfidence" },
  increaseInConfidence: { label: 'increase', better: 'higher', about: '1 if score(image x map) > score(image), else 0' },
  averageDrop: { label: 'average drop', better: 'lower', about: "the drop divided by the score, Grad-CAM++'s and torch-cam's Average Drop" },
  roadCombined: { label: 'ROAD', better: 'higher', about: "pytorch-grad-cam's ROADCombined at percentiles 20, 40, 60, 80 (noise 0): (LeRF - MoRF) / 2" },
  deletion: { label: 'deletion AUC', better: 'lower', about: "RISE's deletion game (torch-cam's 20 steps, zero substrate)" },
  insertion: { label: 'insertion AUC', better: 'higher', about: "RISE's insertion game (torch-cam's 20 steps, blurred substrate)" },
};

// The /* @__PURE__ */ marks let a bundler drop these tables (and every method
// they name) from an app that never calls compareMethods.
export const ALL_METRICS: readonly MetricName[] = /* @__PURE__ */ Object.keys(METRIC_INFO) as MetricName[];

type MapsMethod = (model: Module, input: Tensor, options: object) => { maps: Tensor };

/** Methods by name; the black-box ones get their maps min-max scaled to [0, 1]. */
export const COMPARE_METHODS: Readonly<Record<string, ComparedMethod['run']>> = {
  gradCam: gradCam as MapsMethod,
  gradCamPlusPlus: gradCamPlusPlus as MapsMethod,
  xGradCam: xGradCam as MapsMethod,
  layerCam: layerCam as MapsMethod,
  hiResCam: hiResCam as MapsMethod,
  eigenCam: eigenCam as MapsMethod,
  scoreCam: scoreCam as MapsMethod,
  ablationCam: ablationCam as MapsMethod,
  rise: (model, input, { target }) => ({ maps: scaled(rise(model, input, { target, masks: 2000 }).maps) }),
  occlusion: (model, input, { target }) => {
    // An 8 x 8 grid of windows: 64 model calls.
    const side = Math.max(1, Math.round(Math.min(input.shape[2]!, input.shape[3]!) / 8));
    return { maps: scaled(occlusion(model, input, { target, window: side, stride: side }).maps) };
  },
  featureAblation: (model, input, { target }) => ({ maps: scaled(featureAblation(model, input, { target }).maps) }),
};

export const DEFAULT_COMPARE_METHODS: readonly string[] = ['gradCam', 'gradCamPlusPlus', 'xGradCam', 'layerCam', 'hiResCam', 'eigenCam'];

/**
 * Min-max per image, for maps in score units. No ReLU: RISE's saliency of a
 * logit is offset by the mean score and can be negative everywhere; only
 * its variation locates anything.
 */
function scaled(maps: Tensor): Tensor {
  const data = maps.data.slice();
  const [n, ...rest] = maps.shape;
  normalizeImages(data, n!, rest.reduce((a, b) => a * b, 1), 'minmax');
  return new Tensor(data, maps.shape);
}

export interface CompareOptions {
  /** Method names (keys of COMPARE_METHODS) or your own { name, run }; default DEFAULT_COMPARE_METHODS. */
  methods?: readonly (string | ComparedMethod)[];
  /** Layer(s) for the CAM methods (their default when omitted). */
  layer?: LayerSpec | readonly LayerSpec[];
  /** The class to explain (default: the top class). */
  target?: number;
  /** Metrics to score (default all of METRIC_INFO). */
  metrics?: readonly MetricName[];
  /** How many top classes to list (default 5). */
  topK?: number;
  /** Class names, by index. */
  labels?: readonly string[];
  /** Deletion / insertion intervals (default 20, torch-cam's). */
  steps?: number;
  /** Inputs per model call for the metrics (default 32). */
  batchSize?: number;
  /** Told what is being computed. */
  onProgress?: (message: string) => void;
}

export interface MethodComparison {
  name: string;
  /** [H, W] in [0, 1]; all zeros when the method failed. */
  map: Tensor;
  /** Time of the method itself, and of its metrics. */
  timeMs: number;
  metricTimeMs: number;
  /** The metric values (NaN for a metric that was not computed). */
  metrics: Partial<Record<MetricName, number>>;
  /** The error message when the method threw (its metrics are then absent). */
  error?: string;
}

export interface Comparison {
  height: number;
  width: number;
  /** The class explained. */
  target: number;
  targetLabel: string;
  top: { index: number; label: string; logit: number; probability: number }[];
  metrics: { name: MetricName; label: string; better: 'higher' | 'lower'; about: string }[];
  methods: MethodComparison[];
}

/**
 * compareMethods(model, input, options): run each method on one image
 * [1, C, H, W], time it, and score its map with each metric. A method that
 * throws is reported with its error instead of stopping the comparison.
 */
export function compareMethods(model: Module, input: Tensor, options: CompareOptions = {}): Comparison {
  const fn = 'compareMethods';
  if (!(input instanceof Tensor) || input.ndim !== 4 || input.shape[0] !== 1) {
    throw new ShapeError(`${fn}: input must be one image [1, C, H, W]; got ${input instanceof Tensor ? shapeString(input.shape) : typeof input}`);
  }
  const metricNames = [...(options.metrics ?? ALL_METRICS)];
  for (const m of metricNames) if (!(m in METRIC_INFO)) throw new ArgumentError(`${fn}: unknown metric '${m}'; accepted: ${ALL_METRICS.join(', ')}`);
  const methods: ComparedMethod[] = (options.methods ?? DEFAULT_COMPARE_METHODS).map((m) => {
    if (typeof m !== 'string') return m;
    const run = COMPARE_METHODS[m];
    if (!run) throw new ArgumentError(`${fn}: unknown method '${m}'; accepted: ${Object.keys(COMPARE_METHODS).join(', ')}, or { name, run }`);
    return { name: m, run };
  });
  const [, , height, width] = input.shape as [number, number, number, number];
  const logits = inEvalMode(model, () => noGrad(() => model.forward(input)));
  const k = logits.size;
  const probabilities = softmax(new Tensor(logits.data, [1, k]), -1).data;
  let best = 0;
  for (let j = 1; j < k; j++) if (logits.data[j]! > logits.data[best]!) best = j;
  const target = options.target ?? best;
  if (!Number.isInteger(target) || target < 0 || target >= k) throw new ArgumentError(`${fn}: target ${target} is not a class of this model; accepted: 0 to ${k - 1}`);
  const label = (i: number) => options.labels?.[i] ?? `class ${i}`;
  const top = [...Array(k).keys()]
    .sort((a, b) => logits.data[b]! - logits.data[a]!)
    .slice(0, options.topK ?? 5)
    .map((index) => ({ index, label: label(index), logit: logits.data[index]!, probability: probabilities[index]! }));
  const scoring = { target, batchSize: options.batchSize };
  const steps = options.steps ?? 20;

  const results = methods.map((method): MethodComparison => {
    options.onProgress?.(`${method.name}`);
    const started = performance.now();
    let map: Tensor;
    try {
      const maps = method.run(model, input, { target, ...(options.layer !== undefined ? { layer: options.layer } : {}) }).maps;
      if (maps.size !== height * width) throw new ShapeError(`the method returned maps of shape ${shapeString(maps.shape)}; expected [1, ${height}, ${width}]`);
      map = new Tensor(maps.data.map((v) => (Number.isFinite(v) ? v : 0)), [1, height, width]);
    } catch (error) {
      return { name: method.name, map: new Tensor(new Float32Array(height * width), [height, width]), timeMs: performance.now() - started, metricTimeMs: 0, metrics: {}, error: (error as Error).message };
    }
    const timeMs = performance.now() - started;
    const metricsStarted = performance.now();
    const values: Partial<Record<MetricName, number>> = {};
    const wants = (m: MetricName) => metricNames.includes(m);
    if (wants('confidenceChange') || wants('dropInConfidence') || wants('increaseInConfidence') || wants('averageDrop')) {
      options.onProgress?.(`${method.name}: confidence`);
      const r = confidenceChange(model, input, map, scoring);
      const before = r.scoreBefore[0]!;
      const change = r.value[0]!;
      if (wants('confidenceChange')) values.confidenceChange = change;
      if (wants('dropInConfidence')) values.dropInConfidence = Math.max(-change, 0);
      if (wants('increaseInConfidence')) values.increaseInConfidence = change > 0 ? 1 : 0;
      if (wants('averageDrop')) values.averageDrop = Math.max(-change, 0) / (before + 1e-7);
    }
    if (wants('roadCombined')) {
      options.onProgress?.(`${method.name}: ROAD`);
      values.roadCombined = roadCombined(model, input, map, { ...scoring, percentiles: [20, 40, 60, 80], noise: 0 }).value[0]!;
    }
    if (wants('deletion')) {
      options.onProgress?.(`${method.name}: deletion`);
      values.deletion = deletion(model, input, map, { ...scoring, convention: 'torch-cam', steps }).value[0]!;
    }
    if (wants('insertion')) {
      options.onProgress?.(`${method.name}: insertion`);
      values.insertion = insertion(model, input, map, { ...scoring, convention: 'torch-cam', steps, substrate: 'blur' }).value[0]!;
    }
    return { name: method.name, map: new Tensor(map.data, [height, width]), timeMs, metricTimeMs: performance.now() - metricsStarted, metrics: values };
  });
  return {
    height,
    width,
    target,
    targetLabel: label(target),
    top,
    metrics: metricNames.map((name) => ({ name, ...METRIC_INFO[name] })),
    methods: results,
  };
}
