/**
 * Every function of tinycam/image refuses invalid arguments and options
 * with an ArgumentError that names the function and the option, instead of
 * a TypeError, a RangeError, or a result computed from NaN.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  applyColormap,
  applyExifOrientation,
  blit,
  centerCrop,
  colormap,
  createImage,
  decodeImage,
  detectImageFormat,
  drawText,
  encodeJpeg,
  fillRect,
  grid,
  normalize,
  overlay,
  preprocess,
  readJpegHeader,
  readPngHeader,
  resize,
  tensorToImage,
  textWidth,
  type RgbaImage,
} from '../src/image/index.js';
import { ArgumentError } from '../src/tensor/errors.js';
import { Tensor } from '../src/tensor/tensor.js';

const DATA = join(import.meta.dirname, 'data/images');
const png = new Uint8Array(readFileSync(join(DATA, 'src-rgb.png')));
const jpg = new Uint8Array(readFileSync(join(DATA, 'photo-420.jpg')));
const image: RgbaImage = decodeImage(png);
const map = new Tensor(new Float32Array(6).fill(0.5), [2, 3]);
const x = new Tensor(new Float32Array(12), [1, 3, 2, 2]);

/** [what is called, the call, the message it must give]. */
const CASES: [string, () => unknown, RegExp][] = [
  ['decodeImage options null', () => decodeImage(png, null as never), /decodeImage: options must be an object, got null/],
  ['decodeImage maxPixels NaN', () => decodeImage(png, { maxPixels: NaN }), /maxPixels must be a positive number, got NaN/],
  ['decodeImage maxPixels as a string', () => decodeImage(png, { maxPixels: '1e6' as never }), /maxPixels must be a positive number/],
  ['decodeImage maxMemoryBytes -1', () => decodeImage(png, { maxMemoryBytes: -1 }), /maxMemoryBytes must be a positive number, got -1/],
  ['decodeImage applyOrientation "no"', () => decodeImage(jpg, { applyOrientation: 'no' as never }), /applyOrientation must be true or false, got "no"/],
  ['detectImageFormat(null)', () => detectImageFormat(null as never), /detectImageFormat: expected the file's first bytes as a Uint8Array/],
  ['readPngHeader(a string)', () => readPngHeader('x.png' as never), /readPngHeader: expected the file as a Uint8Array/],
  ['readJpegHeader(undefined)', () => readJpegHeader(undefined as never), /readJpegHeader: expected the file as a Uint8Array/],
  ['colormap "bogus"', () => colormap('bogus' as never), /unknown colormap 'bogus'; accepted: 'jet', 'turbo'/],
  ['colormap "constructor"', () => colormap('constructor' as never), /unknown colormap 'constructor'/],
  ['colormap "toString"', () => applyColormap(map, 'toString' as never), /applyColormap: unknown colormap 'toString'/],
  ['overlay colormap "__proto__"', () => overlay(image, map, { colormap: '__proto__' as never }), /overlay: unknown colormap '__proto__'/],
  ['overlay alpha NaN', () => overlay(image, map, { alpha: NaN }), /alpha must be in \[0, 1\], got NaN/],
  ['overlay alpha "0.5"', () => overlay(image, map, { alpha: '0.5' as never }), /alpha must be in \[0, 1\], got "0.5"/],
  ['overlay blend "bogus"', () => overlay(image, map, { blend: 'bogus' as never }), /unknown blend 'bogus'/],
  ['overlay options 3', () => overlay(image, map, 3 as never), /overlay: options must be an object/],
  ['encodeJpeg quality NaN', () => encodeJpeg(image, { quality: NaN }), /quality must be a number from 1 to 100, got NaN/],
  ['encodeJpeg quality "90"', () => encodeJpeg(image, { quality: '90' as never }), /quality must be a number from 1 to 100, got "90"/],
  ['resize width NaN', () => resize(image, { width: NaN, height: 4 }), /resize: width and height must be positive integers/],
  ['resize height Infinity', () => resize(map, { width: 4, height: Infinity }), /width and height must be positive integers/],
  ['resize antialias "yes"', () => resize(image, { width: 4, height: 4, antialias: 'yes' as never }), /resize: antialias must be true or false/],
  ['preprocess resize NaN', () => preprocess(image, { resize: NaN }), /shorter-side size must be a positive integer, got NaN/],
  ['preprocess resize 2.5', () => preprocess(image, { resize: 2.5 }), /positive integer, got 2.5/],
  ['preprocess crop NaN', () => preprocess(image, { crop: NaN }), /centerCrop: size must be a positive integer/],
  ['preprocess antialias 1', () => preprocess(image, { antialias: 1 as never }), /preprocess: antialias must be true or false/],
  ['preprocess mean [NaN]', () => preprocess(image, { mean: [NaN, 0, 0] }), /normalize: mean must be an array of finite numbers/],
  ['preprocess options "x"', () => preprocess(image, 'x' as never), /preprocess: options must be an object/],
  ['normalize std [0, 1, 1]', () => normalize(x, { std: [0, 1, 1] }), /std values must be finite and non-zero/],
  ['normalize mean a number', () => normalize(x, { mean: 0.5 as never }), /mean must be an array of finite numbers/],
  ['normalize of an image', () => normalize(image as never), /normalize: expected a Tensor/],
  ['centerCrop size Infinity', () => centerCrop(image, Infinity), /size must be a positive integer/],
  ['tensorToImage(an image)', () => tensorToImage(image as never), /tensorToImage: expected a Tensor/],
  ['grid gap NaN', () => grid([{ name: 'a', image, map }], { gap: NaN }), /grid: gap must be an integer >= 0, got NaN/],
  ['grid gap -4', () => grid([{ name: 'a', image, map }], { gap: -4 }), /gap must be an integer >= 0, got -4/],
  ['grid textScale 0.5', () => grid([{ name: 'a', image, map }], { textScale: 0.5 }), /textScale must be a positive integer/],
  ['grid background [0, 0, 0]', () => grid([{ name: 'a', image, map }], { background: [0, 0, 0] as never }), /background must be \[r, g, b, a\]/],
  ['grid textColour with NaN', () => grid([{ name: 'a', image, map }], { textColour: [NaN, 0, 0, 255] }), /textColour must be \[r, g, b, a\]/],
  ['grid headers "no"', () => grid([{ name: 'a', image, map }], { headers: 'no' as never }), /headers must be true or false/],
  ['grid colormap "bogus"', () => grid([{ name: 'a', image, map }], { colormap: 'bogus' as never }), /unknown colormap 'bogus'/],
  ['applyExifOrientation NaN', () => applyExifOrientation(image, NaN), /orientation must be an EXIF orientation, an integer from 1 to 8, got NaN/],
  ['applyExifOrientation 9', () => applyExifOrientation(image, 9), /from 1 to 8, got 9/],
  ['applyExifOrientation 2.5', () => applyExifOrientation(image, 2.5), /got 2.5/],
  ['createImage NaN', () => createImage(NaN, 4), /createImage: width and height must be positive integers, got NaNx4/],
  ['createImage 0', () => createImage(4, 0), /positive integers, got 4x0/],
  ['fillRect x NaN', () => fillRect(image, NaN, 0, 2, 2, [0, 0, 0, 255]), /fillRect: x and y must be integers, got NaN, 0/],
  ['fillRect colour "red"', () => fillRect(image, 0, 0, 2, 2, 'red' as never), /fillRect: colour must be \[r, g, b, a\]/],
  ['blit y 1.5', () => blit(image, image, 0, 1.5), /blit: x and y must be integers/],
  ['drawText scale 0', () => drawText(image, 'a', 0, 0, [255, 255, 255, 255], 0), /drawText: scale must be an integer >= 1, got 0/],
  ['drawText text 42', () => drawText(image, 42 as never, 0, 0, [255, 255, 255, 255]), /drawText: text must be a string/],
  ['textWidth scale NaN', () => textWidth('abc', NaN), /textWidth: scale must be an integer >= 1, got NaN/],
];

describe('invalid arguments and options of tinycam/image', () => {
  it.each(CASES)('%s', (_, call, pattern) => {
    let error: unknown;
    try {
      call();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ArgumentError);
    expect((error as Error).message).toMatch(pattern);
  });

  it('the same calls with valid values work (the control)', () => {
    expect(decodeImage(png, { maxPixels: 1e6, applyOrientation: false }).width).toBe(40);
    expect(colormap('magma').length).toBe(768);
    expect(overlay(image, map, { alpha: 0.3, colormap: 'turbo' }).width).toBe(40);
    expect(resize(image, { width: 4, height: 4, antialias: true }).width).toBe(4);
    expect(preprocess(image, { resize: 8, crop: 8, antialias: false }).shape).toEqual([1, 3, 8, 8]);
    expect(grid([{ name: 'a', image, map }], { gap: 0, headers: false, rowLabels: false, background: [0, 0, 0, 255] }).width).toBe(120);
    expect(applyExifOrientation(image, 6).width).toBe(24);
    const canvas = createImage(8, 8);
    fillRect(canvas, -2, -2, 4, 4, [1, 2, 3, 4]);
    expect(Array.from(canvas.data.subarray(0, 4))).toEqual([1, 2, 3, 4]);
    drawText(canvas, 'A', -1, 0, [9, 9, 9, 255], 1);
    expect(textWidth('abc', 2)).toBe(34);
  });
});
