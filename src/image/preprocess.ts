import { ArgumentError } from '../tensor/errors.js';
import type { Tensor } from '../tensor/tensor.js';
import { toTensor } from './convert.js';
import { centerCrop, type CropSize } from './crop.js';
import { normalize } from './normalize.js';
import { resize, shorterSideSize } from './resize.js';
import type { RgbaImage } from './types.js';
import { checkBoolean, checkImage, optionsOf } from './validate.js';

export interface PreprocessOptions {
  /** A number: the shorter side becomes this (aspect kept), as Resize(256). { width, height }: exactly that size. Unset: no resize. */
  resize?: number | { width: number; height: number };
  /** CenterCrop size (a square side or { width, height }). Unset: no crop. */
  crop?: CropSize;
  /** Shrink with an antialiased filter (default true, as torchvision's Resize). */
  antialias?: boolean;
  mean?: readonly number[];
  std?: readonly number[];
}

/**
 * torchvision's usual eval transform, Resize -> CenterCrop -> ToTensor ->
 * Normalize (ImageNet mean and std by default), giving a [1, 3, H, W] tensor.
 * The resize works on the 8-bit image and rounds back to bytes, as
 * torchvision's Resize does on a uint8 image tensor.
 */
export function preprocess(image: RgbaImage, options?: PreprocessOptions): Tensor {
  checkImage('preprocess', image);
  const o = optionsOf('preprocess', options);
  const antialias = checkBoolean('preprocess', 'antialias', o.antialias) ?? true;
  let img = image;
  if (o.resize !== undefined) {
    const r = o.resize;
    const size = typeof r === 'number' ? shorterSideSize(img.width, img.height, r) : r;
    if (!size || typeof size !== 'object') throw new ArgumentError(`preprocess: resize must be a number or { width, height }, got ${JSON.stringify(r)}`);
    img = resize(img, { width: size.width, height: size.height, antialias });
  }
  if (o.crop !== undefined) img = centerCrop(img, o.crop);
  const norm: { mean?: readonly number[]; std?: readonly number[] } = {};
  if (o.mean !== undefined) norm.mean = o.mean;
  if (o.std !== undefined) norm.std = o.std;
  return normalize(toTensor(img), norm);
}
