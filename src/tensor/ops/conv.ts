import { Tensor } from '../tensor.js';
import { notImplemented } from '../todo.js';

/** A size per spatial axis: one number for both, or [height, width]. */
export type Pair = number | readonly [number, number];

/** Symmetric padding (number or [h, w]) or asymmetric per side (ONNX-style pads). */
export type Padding2d = Pair | { top: number; bottom: number; left: number; right: number };

export interface Conv2dOptions {
  stride?: Pair;
  padding?: Padding2d;
  dilation?: Pair;
  groups?: number;
}

/** 2-D convolution, NCHW input, OIHW weight [Cout, Cin/groups, kh, kw], bias [Cout]. */
export function conv2d(x: Tensor, weight: Tensor, bias?: Tensor | null, options: Conv2dOptions = {}): Tensor { return notImplemented('conv2d', x, weight, bias, options); }

export interface ConvTranspose2dOptions extends Conv2dOptions {
  outputPadding?: Pair;
}

/** Transposed convolution, weight [Cin, Cout/groups, kh, kw] (PyTorch layout), bias [Cout]. */
export function convTranspose2d(x: Tensor, weight: Tensor, bias?: Tensor | null, options: ConvTranspose2dOptions = {}): Tensor { return notImplemented('convTranspose2d', x, weight, bias, options); }
