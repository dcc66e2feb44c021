import { ArgumentError } from '../tensor/errors.js';
import { GLYPH_ADVANCE, GLYPH_HEIGHT, GLYPH_WIDTH, glyphOf } from './font.js';
import type { RgbaImage } from './types.js';
import { checkColour, checkImage, checkInteger } from './validate.js';

export type Rgba = readonly [number, number, number, number];

/** Positions may lie outside the picture (drawing is clipped) but must be whole numbers: NaN would address byte 0. */
function checkPosition(fn: string, x: unknown, y: unknown): void {
  if (typeof x !== 'number' || typeof y !== 'number' || !Number.isSafeInteger(x) || !Number.isSafeInteger(y)) {
    throw new ArgumentError(`${fn}: x and y must be integers, got ${String(x)}, ${String(y)}`);
  }
}

/** Fills a rectangle (clipped to the image). */
export function fillRect(img: RgbaImage, x: number, y: number, w: number, h: number, colour: Rgba): void {
  checkImage('fillRect', img);
  checkPosition('fillRect', x, y);
  checkInteger('fillRect', 'width', w, 0);
  checkInteger('fillRect', 'height', h, 0);
  checkColour('fillRect', 'colour', colour);
  fill(img, x, y, w, h, colour);
}

function fill(img: RgbaImage, x: number, y: number, w: number, h: number, colour: Rgba): void {
  const x0 = Math.max(0, x);
  const y0 = Math.max(0, y);
  const x1 = Math.min(img.width, x + w);
  const y1 = Math.min(img.height, y + h);
  for (let yy = y0; yy < y1; yy++) {
    for (let xx = x0; xx < x1; xx++) img.data.set(colour, (yy * img.width + xx) * 4);
  }
}

/** Copies `src` into `dst` with its top-left corner at (x, y) (clipped). */
export function blit(dst: RgbaImage, src: RgbaImage, x: number, y: number): void {
  checkImage('blit (destination)', dst);
  checkImage('blit (source)', src);
  checkPosition('blit', x, y);
  for (let sy = 0; sy < src.height; sy++) {
    const dy = y + sy;
    if (dy < 0 || dy >= dst.height) continue;
    const sx0 = Math.max(0, -x);
    const sx1 = Math.min(src.width, dst.width - x);
    if (sx1 <= sx0) continue;
    dst.data.set(src.data.subarray((sy * src.width + sx0) * 4, (sy * src.width + sx1) * 4), (dy * dst.width + x + sx0) * 4);
  }
}

/** Draws `text` with the 5x7 font, each font pixel a scale x scale square; (x, y) is the top-left. */
export function drawText(img: RgbaImage, text: string, x: number, y: number, colour: Rgba, scale = 1): void {
  checkImage('drawText', img);
  if (typeof text !== 'string') throw new ArgumentError(`drawText: text must be a string, got ${typeof text}`);
  checkPosition('drawText', x, y);
  checkColour('drawText', 'colour', colour);
  checkInteger('drawText', 'scale', scale, 1);
  let cx = x;
  for (const ch of text) {
    const glyph = glyphOf(ch);
    for (let row = 0; row < GLYPH_HEIGHT; row++) {
      for (let col = 0; col < GLYPH_WIDTH; col++) {
        if ((glyph[row]! >> (GLYPH_WIDTH - 1 - col)) & 1) fill(img, cx + col * scale, y + row * scale, scale, scale, colour);
      }
    }
    cx += GLYPH_ADVANCE * scale;
  }
}
