/**
 * One explanation, from a decoded picture to a map and the top classes, the
 * way the CLI does it (`tinycam explain`): the shorter side resized to the
 * model's input size and centre-cropped (torchvision's eval transform), the
 * model's normalisation, one CAM method at one layer, the predicted or
 * chosen class. The web page's worker and every deploy example call this, so
 * they all compute the same map; it imports tinycam by its entry points only.
 */
import {
  ablationCam, eigenCam, eigenGradCam, gradCam, gradCamElementWise, gradCamPlusPlus, hiResCam, layerCam, noGrad, scoreCam, softmax, xGradCam,
  cam as classActivationMap,
  Tensor, type MapOptions, type MapResult, type Module,
} from 'tinycam';
import { centerCrop, resize, shorterSideSize, preprocess, type RgbaImage } from 'tinycam/image';

export interface MethodInfo {
  label: string;
  run: (model: Module, input: Tensor, options: MapOptions & { onProgress?: (p: { done: number; total: number }) => void }) => MapResult;
  /** Runs the model once per group of channels: worth a progress bar. */
  multipass: boolean;
  about: string;
}

/** The map methods offered, by the CLI's names. */
export const METHODS: Readonly<Record<string, MethodInfo>> = {
  gradcam: { label: 'Grad-CAM', run: gradCam, multipass: false, about: 'channels weighted by their mean gradient' },
  'gradcam++': { label: 'Grad-CAM++', run: gradCamPlusPlus, multipass: false, about: 'second-order weights, better for several objects' },
  xgradcam: { label: 'XGrad-CAM', run: xGradCam, multipass: false, about: 'activation-normalised gradient weights' },
  layercam: { label: 'LayerCAM', run: layerCam, multipass: false, about: 'positive gradients times activations, per location' },
  hirescam: { label: 'HiResCAM', run: hiResCam, multipass: false, about: 'gradient times activation, summed over channels' },
  gradcamelementwise: { label: 'Grad-CAM element-wise', run: gradCamElementWise, multipass: false, about: 'ReLU of gradient times activation' },
  eigencam: { label: 'Eigen-CAM', run: eigenCam, multipass: false, about: 'first principal component of the activations (ignores the class)' },
  eigengradcam: { label: 'Eigen-Grad-CAM', run: eigenGradCam, multipass: false, about: 'first principal component of gradient times activation' },
  cam: { label: 'CAM', run: classActivationMap as MethodInfo['run'], multipass: false, about: 'classifier weights; GAP+FC models only' },
  scorecam: { label: 'Score-CAM', run: scoreCam as MethodInfo['run'], multipass: true, about: 'channels weighted by the score of the masked input (one pass per 16 channels)' },
  ablationcam: { label: 'Ablation-CAM', run: ablationCam as MethodInfo['run'], multipass: true, about: 'score drop when a channel is removed (one pass per 32 channels)' },
};

/** How pixels become model inputs. */
export type Normalization = 'imagenet' | 'unit' | 'symmetric';

const NORMALIZATIONS: Readonly<Record<Normalization, { mean: number[]; std: number[] }>> = {
  imagenet: { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
  unit: { mean: [0, 0, 0], std: [1, 1, 1] },
  symmetric: { mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] },
};

/** A model ready to explain, with what the pipeline needs to know about it. */
export interface Explainable {
  model: Module;
  /** What the page and the handlers call it. */
  name: string;
  /** [height, width] of the model's input. */
  inputSize: [number, number];
  normalization: Normalization;
  /** Class names by index, when known. */
  labels?: readonly string[];
  /** Where CAM methods look unless told otherwise. */
  camLayer?: string;
}

/** The picture the model sees: shorter side resized to the input size (antialiased), centre-cropped. */
export function modelView(image: RgbaImage, [height, width]: [number, number]): RgbaImage {
  const side = Math.max(height, width);
  return centerCrop(resize(image, { ...shorterSideSize(image.width, image.height, side), antialias: true }), { width, height });
}

/** The seen picture as the model's input [1,3,H,W]. */
export function toInput(seen: RgbaImage, normalization: Normalization): Tensor {
  return preprocess(seen, NORMALIZATIONS[normalization]);
}

export interface Ranked {
  index: number;
  label: string;
  probability: number;
  logit: number;
}

/** The k best classes of the first image's logits, best first, with softmax probabilities. */
export function topK(logits: Tensor, k: number, labels?: readonly string[]): Ranked[] {
  const count = logits.shape[logits.shape.length - 1]!;
  const row = logits.data.subarray(0, count);
  const probabilities = softmax(new Tensor(row.slice(), [count]), -1).data;
  return [...Array(count).keys()]
    .sort((a, b) => row[b]! - row[a]! || a - b)
    .slice(0, Math.min(k, count))
    .map((index) => ({ index, label: labels?.[index] ?? `class ${index}`, probability: probabilities[index]!, logit: row[index]! }));
}

/** The model's logits for one input, without gradients. */
export function predict(model: Module, input: Tensor): Tensor {
  return noGrad(() => model.forward(input));
}

export interface Explanation {
  method: string;
  /** The map at the input's resolution, row-major [height, width], values in [0, 1]. */
  map: Float32Array;
  width: number;
  height: number;
  /** The class explained. */
  target: number | null;
  layers: string[];
  logits: Tensor;
}

export interface ExplainOptions {
  method: string;
  layer?: string;
  target?: number;
  onProgress?: (progress: { done: number; total: number }) => void;
}

/** One method's map for one input [1,3,H,W]. */
export function explain(subject: Explainable, input: Tensor, options: ExplainOptions): Explanation {
  const info = METHODS[options.method];
  if (!info) throw new Error(`unknown method '${options.method}'; accepted: ${Object.keys(METHODS).join(', ')}`);
  const layer = options.layer ?? subject.camLayer;
  const result = info.run(subject.model, input, {
    ...(layer !== undefined ? { layer } : {}),
    ...(options.target !== undefined ? { target: options.target } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  });
  const [, height, width] = result.maps.shape as [number, number, number];
  return {
    method: options.method,
    map: result.maps.data.slice(0, height * width),
    width,
    height,
    target: result.targets?.[0] ?? null,
    layers: result.layers.map((l) => l.name),
    logits: result.logits,
  };
}

/** A map as the [H, W] tensor tinycam/image's overlay takes. */
export function mapTensor(explanation: { map: Float32Array; width: number; height: number }): Tensor {
  return new Tensor(explanation.map, [explanation.height, explanation.width]);
}

/** Bytes as base64, without Buffer (absent in browsers and workers). */
export function toBase64(bytes: Uint8Array): string {
  let text = '';
  const chunk = 0x8000;
  for (let i = 0; i < bytes.length; i += chunk) text += String.fromCharCode(...bytes.subarray(i, i + chunk));
  return btoa(text);
}
