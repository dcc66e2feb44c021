import { permute } from '../tensor/ops/shape.js';
import { axisIndex, type Tensor } from '../tensor/tensor.js';
import { TfjsError } from './errors.js';

/**
 * How tinycam stores the tensors of a TensorFlow.js model.
 *
 * TensorFlow.js models are usually NHWC (channels_last). tinycam's engine and
 * its CAM methods are NCHW. So inside a channels_last model every 4-D
 * activation is stored channels-first: the tensor TensorFlow.js calls
 * [N, H, W, C] is held as [N, C, H, W]. Convolutions, pooling, batch norm
 * and resizing then run without transposes, hooks on any layer see
 * [N, C, h, w] (what the CAM methods read), and a layer that needs the true
 * TensorFlow layout (Flatten, Reshape, Dense on a 4-D input, an axis given
 * in NHWC) converts at that point, differentiably. Inputs and outputs keep
 * the model's own layout: an NHWC model takes and returns NHWC tensors.
 *
 * In a channels_first model the stored tensor is the TensorFlow tensor.
 */
export class Layout {
  /** Whether the model's own 4-D tensors are NHWC. */
  readonly channelsLast: boolean;

  constructor(channelsLast: boolean) {
    this.channelsLast = channelsLast;
  }

  /** Whether a tensor of this rank is stored permuted. */
  permuted(rank: number): boolean {
    return this.channelsLast && rank === 4;
  }

  /** The model's tensor (NHWC for a channels_last model) as stored (NCHW). */
  store(x: Tensor): Tensor {
    return this.permuted(x.ndim) ? permute(x, [0, 3, 1, 2]) : x;
  }

  /** A stored tensor back in the model's own layout. */
  restore(x: Tensor): Tensor {
    return this.permuted(x.ndim) ? permute(x, [0, 2, 3, 1]) : x;
  }

  /** The stored shape of a tensor with the model's shape. */
  storedShape(shape: readonly number[]): number[] {
    return this.permuted(shape.length) ? [shape[0]!, shape[3]!, shape[1]!, shape[2]!] : [...shape];
  }

  /** The model's shape of a stored tensor. */
  modelShape(shape: readonly number[]): number[] {
    return this.permuted(shape.length) ? [shape[0]!, shape[2]!, shape[3]!, shape[1]!] : [...shape];
  }

  /** The stored axis of the model's axis `axis` (negative counts from the end) of a rank-`rank` tensor. */
  axis(axis: number, rank: number): number {
    const a = axisIndex(axis, rank);
    if (a === undefined) throw new TfjsError(`axis ${axis} is out of range for a tensor of rank ${rank} (accepted: ${-rank} to ${rank - 1})`);
    if (!this.permuted(rank)) return a;
    return [0, 2, 3, 1][a] ?? a;
  }

  /**
   * A stored 4-D tensor as [N, C, H, W] for a layer whose own data_format is
   * `channelsLast` (a channels_first layer in a channels_last model sees its
   * input's axes in the other order).
   */
  toNCHW(x: Tensor, layerChannelsLast: boolean): Tensor {
    if (layerChannelsLast === this.channelsLast) return x;
    // Model NHWC stored NCHW, layer reads the model's tensor as NCHW: undo the store.
    if (this.channelsLast) return permute(x, [0, 2, 3, 1]);
    // Model tensor as stored, layer reads it as NHWC.
    return permute(x, [0, 3, 1, 2]);
  }

  /** A layer's [N, C, H, W] result back to storage (inverse of toNCHW). */
  fromNCHW(y: Tensor, layerChannelsLast: boolean): Tensor {
    if (layerChannelsLast === this.channelsLast) return y;
    if (this.channelsLast) return permute(y, [0, 3, 1, 2]);
    return permute(y, [0, 2, 3, 1]);
  }
}
