/**
 * PNG encoder: 8-bit RGBA, lossless, one IDAT, each row filtered with the
 * filter that minimises the sum of absolute differences (libpng's heuristic).
 * fflate does the deflating; no Node built-ins, so it runs on edge runtimes.
 */
import { zlibSync } from 'fflate';
import { crc32 } from './crc32.js';
import { PNG_SIGNATURE } from './png-decode.js';
import type { RgbaImage } from './types.js';
import { checkImage } from './validate.js';

function writeChunk(out: Uint8Array, p: number, type: string, data: Uint8Array): number {
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  view.setUint32(p, data.length);
  for (let i = 0; i < 4; i++) out[p + 4 + i] = type.charCodeAt(i);
  out.set(data, p + 8);
  view.setUint32(p + 8 + data.length, crc32(out, p + 4, p + 8 + data.length));
  return p + 12 + data.length;
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/** Filters every row of RGBA8 pixels: [filter byte, filtered row] * height. */
function filterRows(px: Uint8ClampedArray, width: number, height: number): Uint8Array {
  const stride = width * 4;
  const out = new Uint8Array(height * (stride + 1));
  const trial = new Uint8Array(stride);
  for (let y = 0; y < height; y++) {
    const row = y * stride;
    const up = row - stride; // only read when y > 0
    let bestScore = Infinity;
    for (let f = 0; f < 5; f++) {
      let score = 0;
      for (let i = 0; i < stride; i++) {
        const x = px[row + i]!;
        const a = i >= 4 ? px[row + i - 4]! : 0;
        const b = y > 0 ? px[up + i]! : 0;
        const c = i >= 4 && y > 0 ? px[up + i - 4]! : 0;
        const v = (f === 0 ? x : f === 1 ? x - a : f === 2 ? x - b : f === 3 ? x - ((a + b) >> 1) : x - paeth(a, b, c)) & 255;
        trial[i] = v;
        score += v < 128 ? v : 256 - v;
      }
      if (score < bestScore) {
        bestScore = score;
        out[y * (stride + 1)] = f;
        out.set(trial, y * (stride + 1) + 1);
      }
    }
  }
  return out;
}

/** Encodes an RGBA image as an 8-bit RGBA PNG (lossless). */
export function encodePng(image: RgbaImage): Uint8Array {
  checkImage('encodePng', image);
  const { width, height } = image;
  const ihdr = new Uint8Array(13);
  const v = new DataView(ihdr.buffer);
  v.setUint32(0, width);
  v.setUint32(4, height);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 6; // RGBA
  const idat = zlibSync(filterRows(image.data, width, height), { level: 6 });
  const out = new Uint8Array(8 + 25 + 12 + idat.length + 12);
  out.set(PNG_SIGNATURE, 0);
  let p = writeChunk(out, 8, 'IHDR', ihdr);
  p = writeChunk(out, p, 'IDAT', idat);
  writeChunk(out, p, 'IEND', new Uint8Array(0));
  return out;
}
