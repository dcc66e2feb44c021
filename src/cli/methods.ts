import {
  ablationCam, cam, eigenCam, eigenGradCam, gradCam, gradCamElementWise, gradCamPlusPlus, hiResCam, layerCam, scoreCam, gradCamMaxNorm, xGradCam,
} from '../cam/index.js';
import type { MapOptions, MapResult } from '../cam/types.js';
import type { Module } from '../layers/module.js';
import type { Tensor } from '../tensor/tensor.js';

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
};
