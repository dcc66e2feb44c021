import { ArgumentError, ShapeError } from '../tensor/errors.js';
import { pad } from '../tensor/ops/shape.js';
import { Tensor, shapeString } from '../tensor/tensor.js';
import { isImage } from './convert.js';
import { createImage, type RgbaImage } from './types.js';
import { checkImage } from './validate.js';

/** A square side or { width, height }. */
export type CropSize = number | { width: number; height: number };

function cropSize(fn: string, size: CropSize): { width: number; height: number } {
  const s = typeof size === 'number' ? { width: size, height: size } : size;
  if (!s || !Number.isInteger(s.width) || !Number.isInteger(s.height) || s.width < 1 || s.height < 1) {
    throw new ArgumentError(`${fn}: size must be a positive integer or { width, height } of positive integers, got ${JSON.stringify(size)}`);
  }
  return s;
}

/** Python's round(): halves go to the even neighbour. */
function pyRound(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * torchvision's CenterCrop offsets: top = round((H - h) / 2), left =
 * round((W - w) / 2) with Python's rounding; where the crop is larger than
 * the input, torchvision first pads with zeros ((d // 2) before, the rest
 * after), which is the same as a negative offset here.
 */
function offset(inSize: number, outSize: number): number {
  if (outSize > inSize) return -Math.floor((outSize - inSize) / 2);
  return pyRound((inSize - outSize) / 2);
}

/**
 * Cuts the centre of an image or of a tensor's last two axes, as
 * torchvision's CenterCrop (zero padding where it is larger). On a tensor it
 * is the engine's pad, so gradients flow.
 */
export function centerCrop(image: RgbaImage, size: CropSize): RgbaImage;
export function centerCrop(t: Tensor, size: CropSize): Tensor;
export function centerCrop(input: RgbaImage | Tensor, size: CropSize): RgbaImage | Tensor {
  const { width: w, height: h } = cropSize('centerCrop', size);
  if (input instanceof Tensor) {
    const s = input.shape;
    if (s.length < 2) throw new ShapeError(`centerCrop: expected a tensor with at least 2 axes [..., H, W], got ${shapeString(s)}`);
    const H = s[s.length - 2]!;
    const W = s[s.length - 1]!;
    const top = offset(H, h);
    const left = offset(W, w);
    // One differentiable pad: negative amounts cut, positive ones add zeros.
    return pad(input, [-left, w - W + left, -top, h - H + top]);
  }
  if (!isImage(input)) throw new ArgumentError('centerCrop: expected an RGBA image { width, height, data } or a Tensor');
  checkImage('centerCrop', input);
  const out = createImage(w, h);
  copyWindow(input.data, out.data, input.height, input.width, h, w, offset(input.height, h), offset(input.width, w));
  return out;
}

/** Copies the RGBA window at (top, left) of `src` (H x W) into `dst` (h x w); outside the input stays 0. */
function copyWindow(src: Uint8ClampedArray, dst: Uint8ClampedArray, H: number, W: number, h: number, w: number, top: number, left: number): void {
  for (let y = 0; y < h; y++) {
    const sy = y + top;
    if (sy < 0 || sy >= H) continue;
    const x0 = Math.max(0, -left);
    const x1 = Math.min(w, W - left);
    if (x1 > x0) dst.set(src.subarray((sy * W + x0 + left) * 4, (sy * W + x1 + left) * 4), (y * w + x0) * 4);
  }
}
