/**
 * The CAM family. One capture mechanism (capture.ts), one post-processing
 * (postprocess.ts), and one small file per method in methods/, named after
 * its paper. Map methods are called `method(model, input, { layer, target })`
 * and return `{ maps, layers, targets, logits }`; input-gradient methods
 * return `{ gradients, targets, logits }`. See docs/methods.md.
 */
export { NonFiniteError, TargetError } from './errors.js';
export type {
  GradientOptions,
  GradientResult,
  LayerResult,
  LayerSpec,
  MapOptions,
  MapResult,
  OutputOptions,
  PostprocessOptions,
  ReshapeTransform,
  Target,
  TargetFunction,
} from './types.js';
export { closestLayerNames, locateDefaultLayer } from './layers.js';
export { layerMap, postprocess, resizeMaps } from './postprocess.js';
export {
  binaryTarget,
  classifierTarget,
  rawTarget,
  restTarget,
  segmentationTarget,
  similarityTarget,
  softmaxTarget,
  type ClassChoice,
} from './targetHelpers.js';
export { boxTarget, type Box, type BoxFormat, type BoxTargetOptions } from './boxTarget.js';
export { swinReshape, vitReshape, type SwinReshapeOptions, type TokenGrid, type VitReshapeOptions } from './reshape.js';
export { targetScorer, type Scorer } from './scorer.js';
export { captureLayers, inEvalMode, type Capture, type CaptureOptions, type LayerCapture } from './capture.js';
export { explainWith, type LayerMapResult, type LayerMethod, type MethodSpec } from './explain.js';
export { cam, type CamOptions } from './methods/cam.js';
export { gradCam } from './methods/gradCam.js';
export { gradCamMaxNorm, seedGradCam } from './methods/gradCamMaxNorm.js';
export { hiResCam } from './methods/hiResCam.js';
export { gradCamElementWise } from './methods/gradCamElementWise.js';
export { gradCamPlusPlus } from './methods/gradCamPlusPlus.js';
export { xGradCam } from './methods/xGradCam.js';
export { layerCam } from './methods/layerCam.js';
export { scoreCam, type ScoreCamOptions, type ScoreCamProgress, type ScoreCamLayerResult } from './methods/scoreCam.js';
export { ablationCam, type AblationCamLayerResult, type AblationCamOptions } from './methods/ablationCam.js';
export { eigenCam } from './methods/eigenCam.js';
export { eigenGradCam } from './methods/eigenGradCam.js';
export { guidedBackprop } from './methods/guidedBackprop.js';
export { deconvnet } from './methods/deconvnet.js';
export { guidedGradCam } from './methods/guidedGradCam.js';
export { saliency, type SaliencyOptions } from './methods/saliency.js';
export { inputXGradient } from './methods/inputXGradient.js';
export { integratedGradients, type IntegratedGradientsOptions } from './methods/integratedGradients.js';
export { smoothGrad, type GradientMethod, type SmoothGradOptions } from './methods/smoothGrad.js';
export { fem, type FemOptions } from './methods/fem.js';
export { randomCam, type RandomCamOptions } from './methods/randomCam.js';
export { segEigenCam } from './methods/segEigenCam.js';
export { kpcaCam, type KpcaCamOptions, type KpcaKernel } from './methods/kpcaCam.js';
export { finerCam, finerWeightedTarget, type FinerBaseMethod, type FinerCamOptions, type FinerCamResult } from './methods/finerCam.js';
export { refineCam, type RefineBaseMethod, type RefineCamOptions, type RefineCamResult } from './methods/refineCam.js';
export { fullGrad, type FullGradOptions, type FullGradResult } from './methods/fullGrad.js';
export { shapleyCam, type HvpMethod, type ShapleyCamLayerResult, type ShapleyCamOptions } from './methods/shapleyCam.js';
export { sobelCam } from './methods/sobelCam.js';
export {
  deepFeatureFactorization,
  type DeepFeatureFactorizationOptions,
  type DeepFeatureFactorizationResult,
} from './methods/deepFeatureFactorization.js';
export { ssCam, type SsCamLayerResult, type SsCamOptions } from './methods/ssCam.js';
export { isCam, type IsCamLayerResult, type IsCamOptions } from './methods/isCam.js';
export { smoothGradCamPlusPlus, type SmoothGradCamPlusPlusOptions } from './methods/smoothGradCamPlusPlus.js';
export type { AttributionResult } from './attribution.js';
export { deepLift, type DeepLiftOptions } from './methods/deepLift.js';
export { deepLiftShap, type DeepLiftShapOptions } from './methods/deepLiftShap.js';
export { gradientShap, type GradientShapOptions } from './methods/gradientShap.js';
export { lrp, type LrpOptions, type LrpRule, type LrpRuleName } from './methods/lrp.js';
