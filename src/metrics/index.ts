/**
 * Can I trust this map? Faithfulness, localisation and sanity metrics, and
 * black-box methods that explain any scoring function. Every metric is
 * `metric(model, input, maps, { target, ...options })` and returns
 * `{ value, ... }` with one value per image; `model` is a tinycam Module or a
 * scoring function (batch: Tensor) => Float32Array | Tensor.
 */
export { ScoreError } from './errors.js';
export type { MetricResult, Scorable, ScoreFunction, ScoringOptions } from './types.js';
export {
  averageDrop,
  confidenceChange,
  dropInConfidence,
  increaseInConfidence,
  type AverageDropResult,
  type ConfidenceResult,
  type DropOptions,
  type IncreaseResult,
} from './confidence.js';
export {
  road,
  roadCombined,
  type RoadCombinedOptions,
  type RoadCombinedResult,
  type RoadNoiseOptions,
  type RoadOptions,
  type RoadOrder,
  type RoadResult,
} from './road.js';
export { arcc, type ArccOptions, type ArccResult, type ExplainFunction } from './arcc.js';
