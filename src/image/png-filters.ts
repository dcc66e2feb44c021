/**
 * PNG's five row filters (none, sub, up, average, Paeth), both ways: the
 * decoder undoes them, the encoder tries each and keeps the cheapest.
 */
import { ImageDecodeError } from './errors.js';

/** The Paeth predictor: whichever of left, up, up-left is closest to left + up - up-left. */
function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/** Undoes the per-row filters of one pass in place; `start` is the pass's first filter byte. */
export function unfilter(raw: Uint8Array, start: number, rows: number, rowBytes: number, bpp: number): void {
  let prev = -1; // offset of the previous row's first data byte, -1 for none
  for (let y = 0; y < rows; y++) {
    const f = raw[start + y * (rowBytes + 1)]!;
    const row = start + y * (rowBytes + 1) + 1;
    switch (f) {
      case 0:
        break;
      case 1:
        for (let i = bpp; i < rowBytes; i++) raw[row + i] = (raw[row + i]! + raw[row + i - bpp]!) & 255;
        break;
      case 2:
        if (prev >= 0) for (let i = 0; i < rowBytes; i++) raw[row + i] = (raw[row + i]! + raw[prev + i]!) & 255;
        break;
      case 3:
        for (let i = 0; i < rowBytes; i++) {
          const left = i >= bpp ? raw[row + i - bpp]! : 0;
          const up = prev >= 0 ? raw[prev + i]! : 0;
          raw[row + i] = (raw[row + i]! + ((left + up) >> 1)) & 255;
        }
        break;
      case 4:
        for (let i = 0; i < rowBytes; i++) {
          const left = i >= bpp ? raw[row + i - bpp]! : 0;
          const up = prev >= 0 ? raw[prev + i]! : 0;
          const upLeft = i >= bpp && prev >= 0 ? raw[prev + i - bpp]! : 0;
          raw[row + i] = (raw[row + i]! + paeth(left, up, upLeft)) & 255;
        }
        break;
      default:
        throw new ImageDecodeError(`decodeImage: corrupt PNG: row ${y} uses filter type ${f}; PNG has filter types 0-4`);
    }
    prev = row;
  }
}

/** Writes `cur` filtered with filter `f` (0-4) into `dst`; `prev` is the row above (zeros for the first). */
export function applyFilter(f: number, cur: Uint8Array, prev: Uint8Array, dst: Uint8Array): void {
  const n = cur.length;
  // The first pixel (4 bytes) has no left neighbour; Uint8Array stores wrap mod 256.
  switch (f) {
    case 0:
      dst.set(cur);
      break;
    case 1:
      for (let i = 0; i < 4; i++) dst[i] = cur[i]!;
      for (let i = 4; i < n; i++) dst[i] = cur[i]! - cur[i - 4]!;
      break;
    case 2:
      for (let i = 0; i < n; i++) dst[i] = cur[i]! - prev[i]!;
      break;
    case 3:
      for (let i = 0; i < 4; i++) dst[i] = cur[i]! - (prev[i]! >> 1);
      for (let i = 4; i < n; i++) dst[i] = cur[i]! - ((cur[i - 4]! + prev[i]!) >> 1);
      break;
    default:
      for (let i = 0; i < 4; i++) dst[i] = cur[i]! - prev[i]!; // paeth(0, b, 0) = b
      for (let i = 4; i < n; i++) dst[i] = cur[i]! - paeth(cur[i - 4]!, prev[i]!, prev[i - 4]!);
  }
}

/** libpng's heuristic: the sum of the filtered bytes read as signed magnitudes. */
export function filterScore(row: Uint8Array): number {
  let s = 0;
  for (let i = 0; i < row.length; i++) {
    const v = row[i]!;
    s += v < 128 ? v : 256 - v;
  }
  return s;
}
