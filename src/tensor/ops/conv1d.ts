import { ShapeError } from '../errors.js';
import { Tensor, shapeString } from '../tensor.js';
import { conv2d, convTranspose2d } from './conv.js';
import { reshape } from './shape.js';

/**
 * 1-D convolution and transposed convolution ([N, C, L] signals) as conv2d
 * on [N, C, 1, L] with a [.., .., 1, k] kernel: the 2-D kernels do the work
 * (and get their speed-ups), and the reshapes carry the gradients.
 */

export interface Conv1dOptions {
  stride?: number;
  /** Zeros on both ends, or [begin, end]. */
  padding?: number | readonly [number, number];
  dilation?: number;
  groups?: number;
}

export interface ConvTranspose1dOptions extends Conv1dOptions {
  outputPadding?: number;
}

function expect3d(t: Tensor, what: string, layout: string, op: string): void {
  if (t.ndim !== 3) throw new ShapeError(`${op}: ${what} must be 3-D ${layout}, got shape ${shapeString(t.shape)}`);
}

function sides(padding: Conv1dOptions['padding']): { top: number; bottom: number; left: number; right: number } {
  const [begin, end] = typeof padding === 'number' || padding === undefined ? [padding ?? 0, padding ?? 0] : padding;
  return { top: 0, bottom: 0, left: begin, right: end };
}

const as2d = (t: Tensor): Tensor => reshape(t, [t.shape[0]!, t.shape[1]!, 1, t.shape[2]!]);
const as1d = (t: Tensor): Tensor => reshape(t, [t.shape[0]!, t.shape[1]!, t.shape[3]!]);

/** 1-D convolution (F.conv1d): input [N, C, L], weight [Cout, C/groups, k], bias [Cout]. */
export function conv1d(x: Tensor, weight: Tensor, bias?: Tensor | null, options: Conv1dOptions = {}): Tensor {
  expect3d(x, 'input', '[N, C, L]', 'conv1d');
  expect3d(weight, 'weight', '[out, in, k]', 'conv1d');
  return as1d(conv2d(as2d(x), as2d(weight), bias, {
    stride: [1, options.stride ?? 1],
    dilation: [1, options.dilation ?? 1],
    groups: options.groups ?? 1,
    padding: sides(options.padding),
  }));
}

/** 1-D transposed convolution (F.conv_transpose1d): weight [Cin, Cout/groups, k]. */
export function convTranspose1d(x: Tensor, weight: Tensor, bias?: Tensor | null, options: ConvTranspose1dOptions = {}): Tensor {
  expect3d(x, 'input', '[N, C, L]', 'convTranspose1d');
  expect3d(weight, 'weight', '[in, out/groups, k]', 'convTranspose1d');
  return as1d(convTranspose2d(as2d(x), as2d(weight), bias, {
    stride: [1, options.stride ?? 1],
    dilation: [1, options.dilation ?? 1],
    groups: options.groups ?? 1,
    padding: sides(options.padding),
    outputPadding: [0, options.outputPadding ?? 0],
  }));
}
