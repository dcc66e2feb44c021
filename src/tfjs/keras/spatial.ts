import { noGrad } from '../../tensor/autograd.js';
import { permute } from '../../tensor/ops/shape.js';
import type { Pads } from '../../tensor/ops/spatial.js';
import { Parameter, type Tensor } from '../../tensor/tensor.js';
import { TfjsError } from '../errors.js';
import type { Config } from '../json.js';
import type { KerasShape, LayerContext } from './layer.js';

/**
 * What the 2-D Keras layers share: data_format, TensorFlow's padding rule,
 * output sizes, the image axes of a Keras shape, and weights turned into
 * tinycam's layouts.
 */

/** Whether the layer's data_format is channels_last (Keras's default). */
export function channelsLastOf(config: Config): boolean {
  return config.choice('data_format', ['channels_last', 'channels_first'], 'channels_last') === 'channels_last';
}

export type PaddingKind = 'same' | 'valid';

export function paddingOf(config: Config): PaddingKind {
  return config.choice('padding', ['valid', 'same'], 'valid');
}

/**
 * TensorFlow's padding for one axis: 'valid' none; 'same' an output of
 * ceil(in / stride) with the total padding split so that the odd pixel goes
 * after (bottom / right), unlike PyTorch's symmetric padding.
 */
export function padsOf(kind: PaddingKind, size: number, kernel: number, stride: number, dilation = 1): [number, number] {
  if (kind === 'valid') return [0, 0];
  const out = Math.ceil(size / stride);
  const total = Math.max((out - 1) * stride + (kernel - 1) * dilation + 1 - size, 0);
  const before = Math.floor(total / 2);
  return [before, total - before];
}

/** Per-side pads for an [.., H, W] input. */
export function pads2d(kind: PaddingKind, h: number, w: number, kernel: readonly number[], stride: readonly number[], dilation: readonly number[] = [1, 1]): Pads {
  const [top, bottom] = padsOf(kind, h, kernel[0]!, stride[0]!, dilation[0]!);
  const [left, right] = padsOf(kind, w, kernel[1]!, stride[1]!, dilation[1]!);
  return { top, bottom, left, right };
}

/** Output size of a conv or pool along one axis (null stays null). */
export function outSize(kind: PaddingKind, size: number | null, kernel: number, stride: number, dilation = 1): number | null {
  if (size === null) return null;
  if (kind === 'same') return Math.ceil(size / stride);
  return Math.floor((size - ((kernel - 1) * dilation + 1)) / stride) + 1;
}

/** The 4-D input shape of an image layer as {h, w, c}, checked. */
export function imageInput(context: LayerContext, channelsLast: boolean, index = 0): { n: number | null; h: number | null; w: number | null; c: number | null } {
  const shape = context.inputShapes[index];
  if (!shape || shape.length !== 4) {
    throw new TfjsError(
      `loadTfjsModel: layer '${context.name}' (${context.className}) takes a 4-D image input; its input has shape ${shape ? `[${shape.map((d) => d ?? 'null').join(', ')}]` : 'none'}`,
    );
  }
  const [n, a, b, c] = shape as [number | null, number | null, number | null, number | null];
  return channelsLast ? { n, h: a, w: b, c } : { n, h: b, w: c, c: a };
}

/** A Keras image shape from its parts in the layer's data_format. */
export function imageShape(n: number | null, h: number | null, w: number | null, c: number | null, channelsLast: boolean): KerasShape {
  return channelsLast ? [n, h, w, c] : [n, c, h, w];
}

/** A Parameter holding `t` permuted (computed once, without a graph). */
export function permutedParameter(t: Tensor, dims: readonly number[]): Parameter {
  const p = noGrad(() => permute(t, dims));
  return new Parameter(p.data, p.shape);
}

/** A Parameter holding `t` as it is. */
export function parameter(t: Tensor, shape: readonly number[] = t.shape): Parameter {
  return new Parameter(t.data, shape);
}

/** A positive-integer pair (kernel_size, strides, dilation_rate, pool_size) from a config field. */
export function pairOf(config: Config, name: string, fallback?: [number, number]): [number, number] {
  const p = config.integers(name, 2, fallback, 1);
  return [p[0]!, p[1]!];
}
