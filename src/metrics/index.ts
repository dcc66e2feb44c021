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
export { deletion, insertion, type CausalOptions, type CausalResult, type Substrate } from './causal.js';
export { riseBlur, gaussianKernel1d, type BlurOptions } from './blur.js';
export {
  energyPointingGame,
  pointingGame,
  relevanceMass,
  relevanceRank,
  type LocalisationResult,
  type PointingGameOptions,
  type PointingGameResult,
  type RegionOptions,
  type RelevanceOptions,
} from './localisation.js';
export { averageRanks, pearsonCorrelation, spearmanCorrelation, ssim } from './statistics.js';
export {
  modelParameterRandomisation,
  type RandomisationOptions,
  type RandomisationResult,
  type RandomisationStep,
} from './randomisation.js';
export { rise, riseMasks, riseMaskFromGrid, type BlackBoxResult, type RiseOptions, type RiseResult } from './rise.js';
export { occlusion, type OcclusionResult, type OcclusionOptions } from './occlusion.js';
export { featureAblation, type FeatureAblationOptions, type FeatureAblationResult } from './featureAblation.js';
export { gridSegments, slicSegments, type SlicOptions } from './segments.js';
export type { Baseline } from './baseline.js';
export { linearImpute, type ImputeOptions } from './imputer.js';
export { percentile } from './percentile.js';
export {
  ALL_METRICS,
  COMPARE_METHODS,
  DEFAULT_COMPARE_METHODS,
  METRIC_INFO,
  compareMethods,
  type ComparedMethod,
  type CompareOptions,
  type Comparison,
  type MethodComparison,
  type MetricName,
} from './compare.js';
