import {
  ablationCam, cam, deconvnet, eigenCam, eigenGradCam, gradCam, gradCamElementWise, gradCamPlusPlus, guidedBackprop, hiResCam,
  gradCamMaxNorm, inputXGradient, integratedGradients, layerCam, saliency, scoreCam, smoothGrad, xGradCam,
  deepLift, fem, finerCam, fullGrad, isCam, kpcaCam, lrp, postprocess, randomCam, refineCam, segEigenCam, shapleyCam, smoothGradCamPlusPlus,
  sobelCam, ssCam,
} from '../cam/index.js';
import type { GradientOptions, GradientResult, MapOptions, MapResult } from '../cam/types.js';
import type { Module } from '../layers/module.js';
import { sum } from '../tensor/ops/reduce.js';
import type { Tensor } from '../tensor/tensor.js';

type Progress = { onProgress?: (progress: { done: number; total: number }) => void };
export type MapMethod = (model: Module, input: Tensor, options: MapOptions & Progress) => MapResult;
export type GradientMethod = (model: Module, input: Tensor, options: GradientOptions) => GradientResult;

/**
 * How a gradient method's [C, H, W] result becomes a picture: 'heat' sums
 * the channels and shows the magnitude as a heat map over the image
 * (captum's visualize_image_attr default); 'rgb' shows the gradient itself
 * as colours (pytorch-grad-cam's deprocess_image, the usual picture of
 * guided backpropagation and the deconvnet).
 */
export type GradientPicture = 'heat' | 'rgb';

export type MethodSpec =
  | { kind: 'map'; run: MapMethod; about: string }
  | { kind: 'gradient'; run: GradientMethod; picture: GradientPicture; about: string };

/**
 * An input attribution (DeepLIFT, LRP) as a map: summed over the input's
 * channels (signed: evidence for and against cancel), then the map methods'
 * post-processing (ReLU, min-max), so the overlay shows what raised the score.
 */
function signedAttributionMap(result: GradientResult): MapResult {
  const raw = sum(result.gradients, 1);
  const { perLayer, maps } = postprocess([raw], raw.shape.slice(1), {});
  return { maps, layers: [{ name: 'input', raw, weights: null, map: perLayer[0]! }], targets: result.targets, logits: result.logits, output: result.output };
}

const map = (run: MapMethod, about: string): MethodSpec => ({ kind: 'map', run, about });
const gradient = (run: GradientMethod, picture: GradientPicture, about: string): MethodSpec => ({ kind: 'gradient', run, picture, about });

/**
 * The methods the command offers, by the names people type (pytorch-grad-cam's
 * and captum's, lower-case). A Map, so that '__proto__' or 'constructor'
 * are unknown names like any other.
 */
export const METHODS: ReadonlyMap<string, MethodSpec> = new Map([
  ['gradcam', map(gradCam, 'Grad-CAM: channels weighted by their mean gradient (Selvaraju et al. 2017)')],
  ['gradcam++', map(gradCamPlusPlus, 'Grad-CAM++: second-order weights, better for several objects (Chattopadhyay et al. 2018)')],
  ['gradcampp', map(gradCamPlusPlus, 'alias of gradcam++')],
  ['xgradcam', map(xGradCam, 'XGrad-CAM: activation-normalised gradient weights (Fu et al. 2020)')],
  ['layercam', map(layerCam, 'LayerCAM: positive gradients times activations, per location (Jiang et al. 2021)')],
  ['hirescam', map(hiResCam, 'HiResCAM: gradient times activation, summed over channels (Draelos & Carin 2020)')],
  ['gradcamelementwise', map(gradCamElementWise, 'Grad-CAM element-wise: ReLU of gradient times activation per location')],
  ['scorecam', map(scoreCam as MapMethod, 'Score-CAM: channels weighted by the score of the masked input; gradient-free, slow (Wang et al. 2020)')],
  ['ablationcam', map(ablationCam as MapMethod, 'Ablation-CAM: channels weighted by the score drop when removed (Desai & Ramaswamy 2020)')],
  ['eigencam', map(eigenCam, 'Eigen-CAM: first principal component of the activations; ignores the target (Muhammad & Yeasin 2020)')],
  ['eigengradcam', map(eigenGradCam, 'Eigen-Grad-CAM: first principal component of gradient times activation')],
  ['cam', map(cam as MapMethod, 'CAM: the classifier weights on a GAP+FC model (Zhou et al. 2016)')],
  ['maxnorm', map(gradCamMaxNorm, 'Grad-CAM divided by its maximum instead of min-max scaled')],
  ['seed', map(gradCamMaxNorm, 'old name of maxnorm')],
  ['fullgrad', map((m, x, o) => fullGrad(m, x, o), 'FullGrad: input gradient and every bias gradient, all layers at once (Srinivas & Fleuret 2019)')],
  ['finercam', map(finerCam, 'Finer-CAM: Grad-CAM of the class against the classes the model finds most alike (Zhang et al. 2025)')],
  ['refinecam', map(refineCam, 'RefineCAM: product of the Grad-CAM++ maps of the layers given with --layer (pytorch-grad-cam)')],
  ['fem', map(fem, 'FEM: channels weighted by how often they exceed mean + 2 std; gradient-free (Fuad et al. 2020)')],
  ['shapleycam', map(shapleyCam, 'ShapleyCAM: Grad-CAM with a Hessian-vector-product correction (Cai et al. 2025)')],
  ['kpcacam', map(kpcaCam, 'KPCA-CAM: first kernel principal component of the activations (Karmani et al. 2024)')],
  ['segeigencam', map(segEigenCam, 'Seg-Eigen-CAM: Eigen-CAM of |gradient| x activation, sign fixed (Chung & Ying 2025)')],
  ['randomcam', map(randomCam, 'RandomCAM: random channel weights, seeded; a sanity baseline')],
  ['sobelcam', map(sobelCam, 'SobelCAM: edges of the image, no model; a sanity baseline')],
  ['sscam', map(ssCam as MapMethod, 'SS-CAM: Score-CAM with noisy masks, 35 samples; slow (Wang et al. 2020, torch-cam)')],
  ['iscam', map(isCam as MapMethod, 'IS-CAM: Score-CAM integrated over 10 mask scales; slow (Naidu et al. 2020, torch-cam)')],
  ['smoothgradcampp', map(smoothGradCamPlusPlus, 'Smooth Grad-CAM++: Grad-CAM++ from gradients of noisy inputs (Omeiza et al. 2019, torch-cam)')],
  ['deeplift', map((m, x, o) => signedAttributionMap(deepLift(m, x, o)), 'DeepLIFT (rescale rule, zero baseline), summed over colour channels (Shrikumar et al. 2017)')],
  ['lrp', map((m, x, o) => signedAttributionMap(lrp(m, x, o)), 'LRP: gamma on convolutions, epsilon on dense layers, summed over colour channels (Montavon et al. 2019)')],
  ['saliency', gradient(saliency, 'heat', 'Saliency: the gradient of the score with respect to the input pixels (Simonyan et al. 2014)')],
  ['inputxgradient', gradient(inputXGradient, 'heat', 'Input x gradient: the input times its gradient (Shrikumar et al. 2016)')],
  ['integratedgradients', gradient(integratedGradients, 'heat', 'Integrated gradients: gradients along the path from a black image (Sundararajan et al. 2017)')],
  ['smoothgrad', gradient(smoothGrad, 'heat', 'SmoothGrad: saliency averaged over noisy copies of the input (Smilkov et al. 2017)')],
  ['guidedbackprop', gradient(guidedBackprop, 'rgb', 'Guided backpropagation: input gradient through ReLUs that pass only positive gradients (Springenberg et al. 2015)')],
  ['deconvnet', gradient(deconvnet, 'rgb', 'Deconvnet: input gradient through ReLUs applied to the gradient (Zeiler & Fergus 2014)')],
]);

/** The method of a name as typed (case and '-' / '_' ignored: 'Grad-CAM++', 'input_x_gradient'), or undefined. */
export function methodByName(name: string): { key: string; spec: MethodSpec } | undefined {
  const key = name.toLowerCase().replace(/[-_\s]/g, '');
  const spec = METHODS.get(key);
  return spec ? { key, spec } : undefined;
}
