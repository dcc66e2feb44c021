import { noGrad } from '../../tensor/autograd.js';
import { abs, add, mul } from '../../tensor/ops/elementwise.js';
import { conv2d } from '../../tensor/ops/conv.js';
import { pad } from '../../tensor/ops/shape.js';
import { ShapeError } from '../../tensor/errors.js';
import { Tensor, shapeString } from '../../tensor/tensor.js';
import type { Module } from '../../layers/module.js';
import { checkInput, inEvalMode } from '../capture.js';
import { layerMap, postprocess } from '../postprocess.js';
import { runForExplanation } from '../output.js';
import { resolveClassTargets } from '../targets.js';
import type { MapOptions, MapResult } from '../types.js';

const SOBEL_X = [-1, 0, 1, -2, 0, 2, -1, 0, 1];
const SOBEL_Y = [-1, -2, -1, 0, 0, 0, 1, 2, 1];

/**
 * pytorch-grad-cam's sobel_cam (pytorch_grad_cam/sobel_cam.py at 084273b):
 * the image's edges, a baseline that knows nothing about the model. Grey
 * = 0.299 R + 0.587 G + 0.114 B (OpenCV's RGB2GRAY; the channel mean for
 * other channel counts), Sobel derivatives in x and y with 3x3 kernels and
 * OpenCV's default border (reflect-101), map = |gx| / 2 + |gy| / 2.
 * Computed on the input tensor as given (pytorch-grad-cam runs it on the
 * uint8 RGB image, rounding and saturating at 255: the same map up to that
 * quantisation and a scale, which the normalisation removes). `layers[0]`
 * is the input itself ('input'); the model runs once for `logits`/`targets`.
 */
export function sobelCam(model: Module, input: Tensor, options: MapOptions = {}): MapResult {
  const fn = 'sobelCam';
  checkInput(input, fn);
  if (input.ndim !== 4) throw new ShapeError(`${fn}: input has shape ${shapeString(input.shape)}; SobelCAM works on images [N, C, H, W]`);
  const [n, channels, height, width] = input.shape as [number, number, number, number];
  const run = inEvalMode(model, () => noGrad(() => runForExplanation(model, input, options, fn)));
  const targets = resolveClassTargets(options.target, run.explained, n, fn);
  const raw = noGrad(() => {
    const weights = channels === 3 ? [0.299, 0.587, 0.114] : new Array<number>(channels).fill(1 / channels);
    const grey = conv2d(input, new Tensor(Float32Array.from(weights), [1, channels, 1, 1]));
    // reflect-101 needs two values along an axis; a 1-pixel axis is padded by repeating it
    const padded = pad(grey, [1, 1, 1, 1], { mode: height > 1 && width > 1 ? 'reflect' : 'replicate' });
    const gx = conv2d(padded, new Tensor(Float32Array.from(SOBEL_X), [1, 1, 3, 3]));
    const gy = conv2d(padded, new Tensor(Float32Array.from(SOBEL_Y), [1, 1, 3, 3]));
    return mul(add(abs(gx), abs(gy)), 0.5);
  });
  const map = new Tensor(raw.data, [n, height, width]);
  const { maps } = postprocess([map], [height, width], options);
  return { maps, layers: [{ name: 'input', raw: map, weights: null, map: layerMap(map, options) }], targets, logits: run.logits.detach(), output: run.name };
}
