import { ArgumentError, ShapeError } from '../tensor/errors.js';
import { interpolate } from '../tensor/ops/interpolate.js';
import { reshape } from '../tensor/ops/shape.js';
import { Tensor, shapeString } from '../tensor/tensor.js';
import { isImage, planesToRgba, rgbaToPlanes } from './convert.js';
import type { RgbaImage } from './types.js';
import { checkBoolean, checkImage } from './validate.js';

export interface ResizeOptions {
  width: number;
  height: number;
  /**
   * Widen the bilinear filter when shrinking, as torchvision's Resize
   * (antialias=True) and PIL do. Default false: plain bilinear with
   * half-pixel centres = PyTorch align_corners=False = OpenCV INTER_LINEAR.
   */
  antialias?: boolean;
}

function checkSize(fn: string, o: ResizeOptions): void {
  if (!o || typeof o !== 'object' || !Number.isInteger(o.width) || !Number.isInteger(o.height) || o.width < 1 || o.height < 1) {
    throw new ArgumentError(`${fn}: width and height must be positive integers, got ${o?.width}x${o?.height}`);
  }
}

/**
 * Bilinear resize with the engine's interpolate. An RGBA image is resized on
 * its 0..255 values and rounded (half to even) back to bytes, as torchvision
 * does for uint8 tensors. A tensor [H, W], [N, H, W] or [N, C, H, W] (a map,
 * a batch of maps, an image tensor) keeps its rank and stays differentiable
 * unless antialias is on.
 */
export function resize(image: RgbaImage, options: ResizeOptions): RgbaImage;
export function resize(map: Tensor, options: ResizeOptions): Tensor;
export function resize(input: RgbaImage | Tensor, options: ResizeOptions): RgbaImage | Tensor {
  checkSize('resize', options);
  const antialias = checkBoolean('resize', 'antialias', options.antialias) ?? false;
  const size = [options.height, options.width] as const;
  const interp = { size, mode: 'bilinear', alignCorners: false, antialias } as const;
  if (input instanceof Tensor) {
    const s = input.shape;
    if (s.length < 2 || s.length > 4) {
      throw new ShapeError(`resize: expected a map [H, W], [N, H, W] or [N, C, H, W], got ${shapeString(s)}`);
    }
    const as4d = s.length === 4 ? input : reshape(input, s.length === 3 ? [s[0]!, 1, s[1]!, s[2]!] : [1, 1, s[0]!, s[1]!]);
    const out = interpolate(as4d, interp);
    return s.length === 4 ? out : reshape(out, s.length === 3 ? [s[0]!, size[0], size[1]] : [...size]);
  }
  if (!isImage(input)) throw new ArgumentError('resize: expected an RGBA image { width, height, data } or a Tensor');
  checkImage('resize', input);
  if (input.width === options.width && input.height === options.height) {
    return { width: input.width, height: input.height, data: new Uint8ClampedArray(input.data) };
  }
  return planesToRgba(interpolate(rgbaToPlanes(input), interp));
}

/**
 * The size torchvision's Resize(size) gives when `size` is one number: the
 * shorter side becomes `size`, the longer keeps the aspect ratio (truncated).
 */
export function shorterSideSize(width: number, height: number, size: number): { width: number; height: number } {
  if (!Number.isInteger(size) || size < 1) throw new ArgumentError(`resize: the shorter-side size must be a positive integer, got ${size}`);
  if (width <= height) return { width: size, height: Math.trunc((size * height) / width) };
  return { width: Math.trunc((size * width) / height), height: size };
}
