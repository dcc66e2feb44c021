import { ArgumentError, ShapeError } from '../tensor/errors.js';
import { Tensor, shapeString } from '../tensor/tensor.js';
import { createImage, type RgbaImage } from './types.js';
import { checkImage } from './validate.js';

/**
 * torchvision's ToTensor: the RGB channels as a float32 [1, 3, H, W] tensor
 * in [0, 1] (value / 255); alpha is dropped.
 */
export function toTensor(image: RgbaImage): Tensor {
  checkImage('toTensor', image);
  const { width: W, height: H, data } = image;
  const plane = W * H;
  const out = new Float32Array(3 * plane);
  for (let i = 0; i < plane; i++) {
    out[i] = data[i * 4]! / 255;
    out[plane + i] = data[i * 4 + 1]! / 255;
    out[2 * plane + i] = data[i * 4 + 2]! / 255;
  }
  return new Tensor(out, [1, 3, H, W]);
}

/** All four RGBA channels as raw 0..255 floats, [1, 4, H, W] (the form resize works on). */
export function rgbaToPlanes(image: RgbaImage): Tensor {
  const { width: W, height: H, data } = image;
  const plane = W * H;
  const out = new Float32Array(4 * plane);
  for (let i = 0; i < plane; i++) {
    for (let c = 0; c < 4; c++) out[c * plane + i] = data[i * 4 + c]!;
  }
  return new Tensor(out, [1, 4, H, W]);
}

/** torch.round: halves go to the even neighbour. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** [1, 4, H, W] raw 0..255 planes back to RGBA bytes, rounded (half to even) and clamped as torchvision does for uint8. */
export function planesToRgba(planes: Tensor): RgbaImage {
  const [, , H, W] = planes.shape as [number, number, number, number];
  const image = createImage(W, H);
  const plane = W * H;
  const src = planes.data;
  const dst = image.data;
  for (let i = 0; i < plane; i++) {
    for (let c = 0; c < 4; c++) dst[i * 4 + c] = roundHalfEven(src[c * plane + i]!);
  }
  return image;
}

/**
 * An image from a [1, 3|4, H, W], [3|4, H, W] or [H, W] tensor of values in
 * [0, 1] (the inverse of toTensor; grey for [H, W]). Values are scaled by
 * 255, rounded and clamped; alpha is 255 unless given.
 */
export function tensorToImage(t: Tensor): RgbaImage {
  if (!(t instanceof Tensor)) throw new ArgumentError('tensorToImage: expected a Tensor [H, W], [3|4, H, W] or [1, 3|4, H, W]');
  const s = t.shape;
  let C: number;
  let H: number;
  let W: number;
  if (s.length === 2) [C, H, W] = [1, s[0]!, s[1]!];
  else if (s.length === 3 && (s[0] === 3 || s[0] === 4)) [C, H, W] = [s[0]!, s[1]!, s[2]!];
  else if (s.length === 4 && s[0] === 1 && (s[1] === 3 || s[1] === 4)) [C, H, W] = [s[1]!, s[2]!, s[3]!];
  else throw new ShapeError(`tensorToImage: expected [H, W], [3|4, H, W] or [1, 3|4, H, W], got ${shapeString(s)}`);
  if (H < 1 || W < 1) throw new ArgumentError(`tensorToImage: the tensor ${shapeString(s)} has no pixels`);
  const image = createImage(W, H);
  const plane = W * H;
  for (let i = 0; i < plane; i++) {
    for (let c = 0; c < 3; c++) image.data[i * 4 + c] = roundHalfEven(t.data[(C === 1 ? 0 : c) * plane + i]! * 255);
    image.data[i * 4 + 3] = C === 4 ? roundHalfEven(t.data[3 * plane + i]! * 255) : 255;
  }
  return image;
}

export function isImage(x: unknown): x is RgbaImage {
  return typeof x === 'object' && x !== null && !(x instanceof Tensor) && 'data' in x && 'width' in x && 'height' in x;
}
