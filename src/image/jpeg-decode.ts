/**
 * JPEG decoding: our own walk over the markers up to the frame header (SOF)
 * checks the size limits and reads the EXIF orientation before any pixel is
 * decoded; jpeg-js (typed-array mode, no Buffer) then decodes baseline and
 * progressive Huffman JPEGs, and any exception it throws becomes an
 * ImageDecodeError.
 */
import decodeJpegJs from 'jpeg-js/lib/decoder.js';
import { ImageDecodeError, ImageLimitError } from './errors.js';
import { exifOrientation } from './exif.js';
import { checkLimits, type ResolvedLimits } from './limits.js';
import type { RgbaImage } from './types.js';

const FN = 'decodeImage';

export interface JpegHeader {
  width: number;
  height: number;
  components: number;
  progressive: boolean;
  /** EXIF orientation 1-8 (1 when absent). */
  orientation: number;
  /** Bytes of the largest component planes jpeg-js keeps, padded to whole MCUs. */
  workingBytes: number;
}

function fail(what: string): never {
  throw new ImageDecodeError(`${FN}: corrupt JPEG: ${what}`);
}

function unsupported(what: string): never {
  throw new ImageDecodeError(`${FN}: unsupported JPEG: ${what}; baseline and progressive Huffman JPEGs with 8-bit samples are supported`);
}

const SOF_NAMES: Record<number, string> = {
  0xc3: 'lossless (SOF3)',
  0xc5: 'hierarchical (SOF5)',
  0xc6: 'hierarchical progressive (SOF6)',
  0xc7: 'hierarchical lossless (SOF7)',
  0xc9: 'arithmetic-coded (SOF9)',
  0xca: 'arithmetic-coded progressive (SOF10)',
  0xcb: 'arithmetic-coded lossless (SOF11)',
  0xcd: 'hierarchical arithmetic (SOF13)',
  0xce: 'hierarchical arithmetic progressive (SOF14)',
  0xcf: 'hierarchical arithmetic lossless (SOF15)',
};

/** Walks the marker segments from SOI to the frame header and reads it. */
export function readJpegHeader(bytes: Uint8Array): JpegHeader {
  if (bytes.length < 4 || bytes[0] !== 0xff || bytes[1] !== 0xd8) fail('no SOI marker');
  let orientation = 1;
  let p = 2;
  for (;;) {
    // Markers may be preceded by any number of 0xFF fill bytes.
    if (p >= bytes.length) fail('the file ends before the frame header (SOF)');
    if (bytes[p] !== 0xff) fail(`expected a marker at byte ${p}, found 0x${bytes[p]!.toString(16)}`);
    while (p < bytes.length && bytes[p] === 0xff) p++;
    if (p >= bytes.length) fail('the file ends inside a marker');
    const marker = bytes[p++]!;
    if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) continue; // no length
    if (marker === 0xd9 || marker === 0xda) fail(`found ${marker === 0xd9 ? 'EOI' : 'SOS'} before the frame header`);
    if (p + 2 > bytes.length) fail('the file ends inside a segment length');
    const length = (bytes[p]! << 8) | bytes[p + 1]!;
    if (length < 2) fail(`segment 0xFF${marker.toString(16)} declares length ${length}`);
    if (p + length > bytes.length) fail(`segment 0xFF${marker.toString(16)} at byte ${p} declares ${length} bytes; only ${bytes.length - p} remain`);
    const data = bytes.subarray(p + 2, p + length);
    if (marker === 0xe1 && orientation === 1) orientation = exifOrientation(data);
    if (SOF_NAMES[marker]) unsupported(SOF_NAMES[marker]!);
    if (marker === 0xc0 || marker === 0xc1 || marker === 0xc2) {
      const header = readFrame(data, marker === 0xc2, orientation);
      requireScan(bytes, p + length);
      return header;
    }
    p += length;
  }
}

/** Fails unless a start-of-scan follows the frame header: a file cut before it has no pixels at all. */
function requireScan(bytes: Uint8Array, from: number): void {
  let p = from;
  for (;;) {
    while (p < bytes.length && bytes[p] === 0xff) p++;
    if (p >= bytes.length) fail('the file ends before the first scan (SOS): it holds no image data');
    const marker = bytes[p++]!;
    if (marker === 0xda) return;
    if (marker === 0xd9) fail('EOI comes before the first scan (SOS): the file holds no image data');
    if (p + 2 > bytes.length) fail('the file ends before the first scan (SOS): it holds no image data');
    p += (bytes[p]! << 8) | bytes[p + 1]!;
  }
}

function readFrame(sof: Uint8Array, progressive: boolean, orientation: number): JpegHeader {
  if (sof.length < 6) fail(`the frame header has ${sof.length} bytes; it needs at least 6`);
  const precision = sof[0]!;
  const height = (sof[1]! << 8) | sof[2]!;
  const width = (sof[3]! << 8) | sof[4]!;
  const components = sof[5]!;
  if (precision !== 8) unsupported(`${precision}-bit samples`);
  if (height === 0) unsupported('the height is defined later by a DNL marker (height 0 in SOF)');
  if (width === 0) fail('the frame header declares width 0');
  if (components !== 1 && components !== 3 && components !== 4) unsupported(`${components} colour components (1, 3 or 4 are read)`);
  if (sof.length < 6 + components * 3) fail(`the frame header is too short for ${components} components`);
  let hMax = 1;
  let vMax = 1;
  const factors: [number, number][] = [];
  for (let i = 0; i < components; i++) {
    const hv = sof[6 + i * 3 + 1]!;
    const h = hv >> 4;
    const v = hv & 15;
    if (h < 1 || h > 4 || v < 1 || v > 4) fail(`component ${i} has sampling factors ${h}x${v}; each must be 1-4`);
    factors.push([h, v]);
    hMax = Math.max(hMax, h);
    vMax = Math.max(vMax, v);
  }
  // jpeg-js keeps 32-bit coefficients for every block of every component
  // (padded to whole MCUs) plus one byte per sample of each output plane.
  const mcusX = Math.ceil(width / (8 * hMax));
  const mcusY = Math.ceil(height / (8 * vMax));
  let workingBytes = width * height * 4 * 2; // RGBA output, and a copy if rotated
  for (const [h, v] of factors) workingBytes += mcusX * h * 8 * mcusY * v * 8 * 5;
  return { width, height, components, progressive, orientation, workingBytes };
}

/** Decodes a JPEG to RGBA8 (without applying the orientation; see decodeImage). */
export function decodeJpegRgba(bytes: Uint8Array, limits: ResolvedLimits): { image: RgbaImage; header: JpegHeader } {
  const header = readJpegHeader(bytes);
  checkLimits(FN, 'JPEG', header.width, header.height, header.workingBytes, limits);
  let decoded: { width: number; height: number; data: Uint8Array };
  try {
    decoded = decodeJpegJs(bytes, {
      useTArray: true,
      formatAsRGBA: true,
      tolerantDecoding: true,
      maxResolutionInMP: limits.maxPixels / 1e6,
      maxMemoryUsageInMB: limits.maxMemoryBytes / (1024 * 1024),
    });
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    if (/limit exceeded/.test(message)) throw new ImageLimitError(`${FN}: JPEG decoding stopped: ${message}`);
    fail(message);
  }
  if (decoded.width !== header.width || decoded.height !== header.height || decoded.data.length !== header.width * header.height * 4) {
    fail(`the decoder produced ${decoded.width}x${decoded.height}, not the ${header.width}x${header.height} of the frame header`);
  }
  const data = new Uint8ClampedArray(decoded.data.buffer, decoded.data.byteOffset, decoded.data.length);
  return { image: { width: decoded.width, height: decoded.height, data }, header };
}
