import {
  ablationCam, cam, eigenCam, eigenGradCam, gradCam, gradCamElementWise, gradCamPlusPlus, hiResCam, layerCam, scoreCam, gradCamMaxNorm, xGradCam,
  deepLift, fem, finerCam, fullGrad, isCam, kpcaCam, lrp, postprocess, randomCam, refineCam, segEigenCam, shapleyCam, smoothGradCamPlusPlus,
  sobelCam, ssCam,
} from '../cam/index.js';
import type { GradientResult, MapOptions, MapResult } from '../cam/types.js';
import type { Module } from '../layers/module.js';
import { sum } from '../tensor/ops/reduce.js';
import type { Tensor } from '../tensor/tensor.js';

/**
 * An input attribution (DeepLIFT, LRP) as a map: summed over the input's
 * channels (signed: evidence for and against cancel), then the map methods'
 * post-processing (ReLU, min-max), so the overlay shows what raised the score.
 */
function attributionMap(result: GradientResult): MapResult {
  const raw = sum(result.gradients, 1);
  const { perLayer, maps } = postprocess([raw], raw.shape.slice(1), {});
  return { maps, layers: [{ name: 'input', raw, weights: null, map: perLayer[0]! }], targets: result.targets, logits: result.logits, output: result.output };
}

type MapMethod = (model: Module, input: Tensor, options: MapOptions & { onProgress?: (progress: { done: number; total: number }) => void }) => MapResult;

/** The map methods the command offers, by the names people type (pytorch-grad-cam's, lower-case). */
export const MAP_METHODS: Readonly<Record<string, { run: MapMethod; about: string }>> = {
  gradcam: { run: gradCam, about: 'Grad-CAM: channels weighted by their mean gradient (Selvaraju et al. 2017)' },
  'gradcam++': { run: gradCamPlusPlus, about: 'Grad-CAM++: second-order weights, better for several objects (Chattopadhyay et al. 2018)' },
  gradcampp: { run: gradCamPlusPlus, about: 'alias of gradcam++' },
  xgradcam: { run: xGradCam, about: 'XGrad-CAM: activation-normalised gradient weights (Fu et al. 2020)' },
  layercam: { run: layerCam, about: 'LayerCAM: positive gradients times activations, per location (Jiang et al. 2021)' },
  hirescam: { run: hiResCam, about: 'HiResCAM: gradient times activation, summed over channels (Draelos & Carin 2020)' },
  gradcamelementwise: { run: gradCamElementWise, about: 'Grad-CAM element-wise: ReLU of gradient times activation per location' },
  scorecam: { run: scoreCam as MapMethod, about: 'Score-CAM: channels weighted by the score of the masked input; gradient-free, slow (Wang et al. 2020)' },
  ablationcam: { run: ablationCam as MapMethod, about: 'Ablation-CAM: channels weighted by the score drop when removed (Desai & Ramaswamy 2020)' },
  eigencam: { run: eigenCam, about: "Eigen-CAM: first principal component of the activations; ignores the target (Muhammad & Yeasin 2020)" },
  eigengradcam: { run: eigenGradCam, about: 'Eigen-Grad-CAM: first principal component of gradient times activation' },
  cam: { run: cam as MapMethod, about: 'CAM: the classifier weights on a GAP+FC model (Zhou et al. 2016)' },
  maxnorm: { run: gradCamMaxNorm, about: 'Grad-CAM divided by its maximum instead of min-max scaled' },
  seed: { run: gradCamMaxNorm, about: 'old name of maxnorm' },
  fullgrad: { run: (m, x, o) => fullGrad(m, x, o), about: 'FullGrad: input gradient and every bias gradient, all layers at once (Srinivas & Fleuret 2019)' },
  finercam: { run: finerCam, about: 'Finer-CAM: Grad-CAM of the class against the classes the model finds most alike (Zhang et al. 2025)' },
  refinecam: { run: refineCam, about: 'RefineCAM: product of the Grad-CAM++ maps of the layers given with --layer (pytorch-grad-cam)' },
  fem: { run: fem, about: 'FEM: channels weighted by how often they exceed mean + 2 std; gradient-free (Fuad et al. 2020)' },
  shapleycam: { run: shapleyCam, about: 'ShapleyCAM: Grad-CAM with a Hessian-vector-product correction (Cai et al. 2025)' },
  kpcacam: { run: kpcaCam, about: 'KPCA-CAM: first kernel principal component of the activations (Karmani et al. 2024)' },
  segeigencam: { run: segEigenCam, about: 'Seg-Eigen-CAM: Eigen-CAM of |gradient| x activation, sign fixed (Chung & Ying 2025)' },
  randomcam: { run: randomCam, about: 'RandomCAM: random channel weights, seeded; a sanity baseline' },
  sobelcam: { run: sobelCam, about: 'SobelCAM: edges of the image, no model; a sanity baseline' },
  sscam: { run: ssCam as MapMethod, about: 'SS-CAM: Score-CAM with noisy masks, 35 samples; slow (Wang et al. 2020, torch-cam)' },
  iscam: { run: isCam as MapMethod, about: 'IS-CAM: Score-CAM integrated over 10 mask scales; slow (Naidu et al. 2020, torch-cam)' },
  smoothgradcampp: { run: smoothGradCamPlusPlus, about: 'Smooth Grad-CAM++: Grad-CAM++ from gradients of noisy inputs (Omeiza et al. 2019, torch-cam)' },
  deeplift: { run: (m, x, o) => attributionMap(deepLift(m, x, o)), about: 'DeepLIFT (rescale rule, zero baseline), summed over colour channels (Shrikumar et al. 2017)' },
  lrp: { run: (m, x, o) => attributionMap(lrp(m, x, o)), about: 'LRP: gamma on convolutions, epsilon on dense layers, summed over colour channels (Montavon et al. 2019)' },
};
