import { permute } from '../tensor/ops/shape.js';
import { ShapeError } from '../tensor/errors.js';
import { shapeString, type Tensor } from '../tensor/tensor.js';

/**
 * Inputs for TensorFlow.js models. tinycam/image's `preprocess` gives
 * [N, 3, H, W] with (pixel / 255 - mean) / std; these presets are the mean
 * and std of the usual TensorFlow.js scalings, and `toChannelsLast` turns the
 * result into the NHWC tensor the model takes:
 *
 *   const x = toChannelsLast(preprocess(image, { resize: { width: 224, height: 224 }, ...TFJS_SCALING.mobilenet }));
 */
export const TFJS_SCALING = {
  /** Keras MobileNet's preprocess_input: pixel / 127.5 - 1, in [-1, 1]. */
  mobilenet: { mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] },
  /** Teachable Machine's image models: pixel / 127 - 1 (its capture() divides by 127). */
  teachableMachine: { mean: [127 / 255, 127 / 255, 127 / 255], std: [127 / 255, 127 / 255, 127 / 255] },
  /** nsfwjs and other [0, 1] models: pixel / 255. */
  unit: { mean: [0, 0, 0], std: [1, 1, 1] },
} as const;

/** [N, C, H, W] -> [N, H, W, C] (differentiable). */
export function toChannelsLast(x: Tensor): Tensor {
  if (x.ndim !== 4) throw new ShapeError(`toChannelsLast: expected a 4-D [N, C, H, W] tensor, got shape ${shapeString(x.shape)}`);
  return permute(x, [0, 2, 3, 1]);
}

/** [N, H, W, C] -> [N, C, H, W] (differentiable): a map or gradient of an NHWC input back to tinycam/image's layout. */
export function toChannelsFirst(x: Tensor): Tensor {
  if (x.ndim !== 4) throw new ShapeError(`toChannelsFirst: expected a 4-D [N, H, W, C] tensor, got shape ${shapeString(x.shape)}`);
  return permute(x, [0, 3, 1, 2]);
}
