import { ArgumentError } from '../tensor/errors.js';
import { createImage, type RgbaImage } from './types.js';
import { checkImage } from './validate.js';

/**
 * Turns a stored picture upright according to an EXIF orientation 1-8
 * (2 mirror, 3 rotate 180, 4 flip, 5 transpose, 6 rotate 90 clockwise,
 * 7 transverse, 8 rotate 90 counter-clockwise). 5-8 swap width and height.
 */
export function applyExifOrientation(image: RgbaImage, orientation: number): RgbaImage {
  checkImage('applyExifOrientation', image);
  if (!Number.isInteger(orientation) || orientation < 1 || orientation > 8) {
    throw new ArgumentError(`applyExifOrientation: orientation must be an EXIF orientation, an integer from 1 to 8, got ${String(orientation)}`);
  }
  if (orientation === 1) return image;
  const { width: W, height: H, data: src } = image;
  const swap = orientation >= 5;
  const out = createImage(swap ? H : W, swap ? W : H);
  const dst = out.data;
  const ow = out.width;
  const oh = out.height;
  for (let y = 0; y < oh; y++) {
    for (let x = 0; x < ow; x++) {
      let sx: number;
      let sy: number;
      switch (orientation) {
        case 2: sx = W - 1 - x; sy = y; break;
        case 3: sx = W - 1 - x; sy = H - 1 - y; break;
        case 4: sx = x; sy = H - 1 - y; break;
        case 5: sx = y; sy = x; break;
        case 6: sx = y; sy = H - 1 - x; break;
        case 7: sx = W - 1 - y; sy = H - 1 - x; break;
        default: sx = W - 1 - y; sy = x; break; // 8
      }
      const s = (sy * W + sx) * 4;
      const d = (y * ow + x) * 4;
      dst[d] = src[s]!;
      dst[d + 1] = src[s + 1]!;
      dst[d + 2] = src[s + 2]!;
      dst[d + 3] = src[s + 3]!;
    }
  }
  return out;
}
