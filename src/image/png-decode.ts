/**
 * PNG decoder (all colour types, bit depths 1-16, Adam7 interlacing, tRNS) to
 * 8-bit RGBA. It is written here rather than taken from pngjs or fast-png so
 * that the decompressed size can be capped: the output buffer is sized from
 * IHDR (after the limits are checked) and inflation stops when it is full, so
 * a small file that inflates to gigabytes cannot fill memory.
 */
import { Unzlib } from 'fflate';
import { adler32 } from './adler32.js';
import { crc32 } from './crc32.js';
import { unfilter } from './png-filters.js';
import { ArgumentError } from '../tensor/errors.js';
import { ImageDecodeError } from './errors.js';
import { checkLimits, type ResolvedLimits } from './limits.js';
import { createImage, type RgbaImage } from './types.js';

const FN = 'decodeImage';
export const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a] as const;

export interface PngHeader {
  width: number;
  height: number;
  bitDepth: number;
  colorType: number;
  interlaced: boolean;
}

/** Samples per pixel of each PNG colour type, and the bit depths it allows. */
const COLOR_TYPES: Record<number, { channels: number; depths: number[]; name: string }> = {
  0: { channels: 1, depths: [1, 2, 4, 8, 16], name: 'grey' },
  2: { channels: 3, depths: [8, 16], name: 'RGB' },
  3: { channels: 1, depths: [1, 2, 4, 8], name: 'palette' },
  4: { channels: 2, depths: [8, 16], name: 'grey+alpha' },
  6: { channels: 4, depths: [8, 16], name: 'RGBA' },
};

// Adam7 passes: x0, y0, dx, dy.
const ADAM7 = [
  [0, 0, 8, 8],
  [4, 0, 8, 8],
  [0, 4, 4, 8],
  [2, 0, 4, 4],
  [0, 2, 2, 4],
  [1, 0, 2, 2],
  [0, 1, 1, 2],
] as const;

function fail(what: string): never {
  throw new ImageDecodeError(`${FN}: corrupt PNG: ${what}`);
}

function u32(b: Uint8Array, p: number): number {
  return ((b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!) >>> 0;
}

function chunkType(b: Uint8Array, p: number): string {
  return String.fromCharCode(b[p]!, b[p + 1]!, b[p + 2]!, b[p + 3]!);
}

interface Chunk {
  type: string;
  start: number; // first data byte
  length: number;
}

const KNOWN_CRITICAL = new Set(['IHDR', 'PLTE', 'IDAT', 'IEND']);

/** Walks the chunk list up to IEND, checking every length and the CRC of critical chunks. */
function readChunks(bytes: Uint8Array): Chunk[] {
  const chunks: Chunk[] = [];
  const seen = new Set<string>();
  let p = 8;
  for (;;) {
    if (p + 12 > bytes.length) fail(`the file ends inside a chunk header at byte ${p} (no IEND chunk)`);
    const length = u32(bytes, p);
    const type = chunkType(bytes, p + 4);
    if (length > 0x7fffffff) fail(`chunk '${type}' declares length ${length}, more than 2^31-1`);
    if (p + 12 + length > bytes.length) {
      fail(`chunk '${type}' at byte ${p} declares ${length} bytes but only ${bytes.length - p - 12} remain`);
    }
    // Bit 5 of the first type byte: 0 = critical (IHDR, PLTE, IDAT, IEND), 1 = ancillary.
    const critical = (bytes[p + 4]! & 0x20) === 0;
    const crcOk = crc32(bytes, p + 4, p + 8 + length) === u32(bytes, p + 8 + length);
    if (critical) {
      if (!crcOk) fail(`chunk '${type}' at byte ${p} has a wrong CRC`);
      if (!KNOWN_CRITICAL.has(type)) fail(`chunk '${type}' at byte ${p} is critical but unknown (PNG 1.2 has IHDR, PLTE, IDAT, IEND)`);
    }
    // As libpng: an ancillary chunk with a wrong CRC is dropped, not fatal.
    if (critical || crcOk) {
      // As libpng: a second IHDR or PLTE, or a PLTE after the image data, is an error.
      if ((type === 'IHDR' || type === 'PLTE') && seen.has(type)) fail(`the file has two ${type} chunks`);
      if (type === 'PLTE' && seen.has('IDAT')) fail('PLTE comes after the image data (IDAT)');
      seen.add(type);
      chunks.push({ type, start: p + 8, length });
    }
    p += 12 + length;
    if (type === 'IEND') return chunks;
  }
}

/** Reads and validates IHDR (the first chunk) without touching the rest of the file. */
export function readPngHeader(bytes: Uint8Array): PngHeader {
  if (!(bytes instanceof Uint8Array)) throw new ArgumentError(`readPngHeader: expected the file as a Uint8Array, got ${Object.prototype.toString.call(bytes)}`);
  for (let i = 0; i < 8; i++) if (bytes[i] !== PNG_SIGNATURE[i]) fail('bad signature');
  if (bytes.length < 33) fail(`the file has ${bytes.length} bytes, too short for a PNG header`);
  if (u32(bytes, 8) !== 13 || chunkType(bytes, 12) !== 'IHDR') fail('the first chunk is not a 13-byte IHDR');
  if (crc32(bytes, 12, 29) !== u32(bytes, 29)) fail('IHDR has a wrong CRC');
  const width = u32(bytes, 16);
  const height = u32(bytes, 20);
  const bitDepth = bytes[24]!;
  const colorType = bytes[25]!;
  if (width === 0 || height === 0 || width > 0x7fffffff || height > 0x7fffffff) {
    fail(`IHDR declares ${width}x${height}; width and height must be 1..2^31-1`);
  }
  const ct = COLOR_TYPES[colorType];
  if (!ct) fail(`IHDR colour type ${colorType} is not one of 0, 2, 3, 4, 6`);
  if (!ct.depths.includes(bitDepth)) {
    fail(`IHDR bit depth ${bitDepth} is not allowed for colour type ${colorType} (${ct.name}; allowed: ${ct.depths.join(', ')})`);
  }
  if (bytes[26] !== 0 || bytes[27] !== 0) fail('IHDR compression and filter methods must be 0');
  if (bytes[28]! > 1) fail(`IHDR interlace method ${bytes[28]} is not 0 or 1`);
  return { width, height, bitDepth, colorType, interlaced: bytes[28] === 1 };
}

interface Pass {
  x0: number;
  y0: number;
  dx: number;
  dy: number;
  w: number; // pixels per row in this pass
  h: number; // rows in this pass
}

function passesOf(h: PngHeader): Pass[] {
  if (!h.interlaced) return [{ x0: 0, y0: 0, dx: 1, dy: 1, w: h.width, h: h.height }];
  const passes: Pass[] = [];
  for (const [x0, y0, dx, dy] of ADAM7) {
    const w = h.width > x0 ? Math.ceil((h.width - x0) / dx) : 0;
    const rows = h.height > y0 ? Math.ceil((h.height - y0) / dy) : 0;
    if (w > 0 && rows > 0) passes.push({ x0, y0, dx, dy, w, h: rows });
  }
  return passes;
}

const rowBytesOf = (w: number, bitsPerPixel: number) => Math.ceil((w * bitsPerPixel) / 8);

/** Bytes of filtered scanlines that IHDR implies (each row has a filter byte). */
function rawSizeOf(h: PngHeader, passes: Pass[]): number {
  const bpp = COLOR_TYPES[h.colorType]!.channels * h.bitDepth;
  let size = 0;
  for (const p of passes) size += p.h * (1 + rowBytesOf(p.w, bpp));
  return size;
}

/** Estimated peak working memory: the filtered data plus the RGBA output. */
function pngWorkingBytes(h: PngHeader): number {
  const bpp = COLOR_TYPES[h.colorType]!.channels * h.bitDepth;
  return h.height * (1 + rowBytesOf(h.width, bpp)) + 7 * h.height + h.width * h.height * 4;
}

const EXTRA = Symbol('extra');
const INFLATE_SLICE = 4096;

/** fflate's error codes in our words. */
const INFLATE_ERRORS: Record<number, string> = {
  0: 'it ends early',
  1: 'it uses an invalid block type',
  2: 'it holds an invalid length or literal code',
  3: 'it holds an invalid distance',
  6: 'its zlib header is invalid',
};

/** The last 4 bytes of the IDAT data, where a zlib stream keeps its Adler-32. */
function storedAdler(bytes: Uint8Array, idat: Chunk[]): number | null {
  const tail: number[] = [];
  for (let i = idat.length - 1; i >= 0 && tail.length < 4; i--) {
    const c = idat[i]!;
    for (let p = c.start + c.length - 1; p >= c.start && tail.length < 4; p--) tail.unshift(bytes[p]!);
  }
  return tail.length === 4 ? ((tail[0]! << 24) | (tail[1]! << 16) | (tail[2]! << 8) | tail[3]!) >>> 0 : null;
}

/**
 * Inflates the IDAT stream into exactly `size` bytes. Data past `size` is
 * ignored without being inflated (as Pillow and libpng stop at the end of
 * the image), so a small file cannot expand to gigabytes. A stream that
 * ends exactly at `size` must carry the right Adler-32, as zlib checks.
 */
function inflateIdat(bytes: Uint8Array, idat: Chunk[], size: number): Uint8Array {
  const out = new Uint8Array(size);
  let filled = 0;
  const inflater = new Unzlib((chunk) => {
    const take = Math.min(chunk.length, size - filled);
    out.set(take === chunk.length ? chunk : chunk.subarray(0, take), filled);
    filled += take;
    if (take < chunk.length) throw EXTRA;
  });
  try {
    // fflate inflates a whole pushed slice before handing it over, so the
    // input goes in small slices: one slice can expand at most ~1032x
    // (deflate's limit), i.e. a few MB, before the cap above stops it.
    for (let i = 0; i < idat.length; i++) {
      const c = idat[i]!;
      const end = c.start + c.length;
      let p = c.start;
      do {
        const stop = Math.min(p + INFLATE_SLICE, end);
        inflater.push(bytes.subarray(p, stop), i === idat.length - 1 && stop === end);
        p = stop;
      } while (p < end);
    }
  } catch (e) {
    if (e === EXTRA) return out;
    if (filled < size) {
      const code = (e as { code?: unknown })?.code;
      fail(`the compressed image data is invalid (${(typeof code === 'number' && INFLATE_ERRORS[code]) || 'it is damaged'})`);
    }
    return out; // the image is whole; only the stream's end is damaged (Pillow reads such files too)
  }
  if (filled < size) fail(`the compressed image data holds ${filled} bytes; the header implies ${size}`);
  if (storedAdler(bytes, idat) !== adler32(out)) fail('the compressed image data has a wrong Adler-32 checksum');
  return out;
}

interface Palette {
  rgba: Uint8Array; // 256 * 4, opaque black beyond `size`
  size: number;
}

function readPalette(bytes: Uint8Array, plte: Chunk | undefined, trns: Chunk | undefined): Palette {
  if (!plte) fail('a palette image has no PLTE chunk');
  if (plte.length % 3 !== 0 || plte.length === 0 || plte.length > 768) fail(`PLTE has ${plte.length} bytes; it needs 3..768, a multiple of 3`);
  const size = plte.length / 3;
  const rgba = new Uint8Array(256 * 4);
  for (let i = 0; i < size; i++) {
    rgba[i * 4] = bytes[plte.start + i * 3]!;
    rgba[i * 4 + 1] = bytes[plte.start + i * 3 + 1]!;
    rgba[i * 4 + 2] = bytes[plte.start + i * 3 + 2]!;
    rgba[i * 4 + 3] = 255;
  }
  if (trns) {
    if (trns.length > size) fail(`tRNS has ${trns.length} entries but the palette only ${size}`);
    for (let i = 0; i < trns.length; i++) rgba[i * 4 + 3] = bytes[trns.start + i]!;
  }
  return { rgba, size };
}

/**
 * Decodes a PNG to RGBA8. 16-bit samples become round(v * 255 / 65535) and
 * low bit depths are scaled to 0..255, as pngjs does; a pixel equal to the
 * tRNS colour of a grey or RGB image becomes transparent black (0,0,0,0), as
 * pngjs (and a canvas, which premultiplies) gives it.
 */
export function decodePngRgba(bytes: Uint8Array, limits: ResolvedLimits): RgbaImage {
  const header = readPngHeader(bytes);
  checkLimits(FN, 'PNG', header.width, header.height, pngWorkingBytes(header), limits);
  const chunks = readChunks(bytes);
  const idat = chunks.filter((c) => c.type === 'IDAT');
  if (idat.length === 0) fail('there is no IDAT chunk');
  const plte = chunks.find((c) => c.type === 'PLTE');
  const trns = chunks.find((c) => c.type === 'tRNS');

  const { width, height, bitDepth: depth, colorType } = header;
  const channels = COLOR_TYPES[colorType]!.channels;
  const palette = colorType === 3 ? readPalette(bytes, plte, trns) : undefined;

  // The tRNS colour of grey / RGB images, in raw sample values.
  let transparent: number[] | undefined;
  if (trns && (colorType === 0 || colorType === 2)) {
    const n = colorType === 0 ? 1 : 3;
    if (trns.length !== 2 * n) fail(`tRNS of colour type ${colorType} must have ${2 * n} bytes, has ${trns.length}`);
    transparent = [];
    for (let i = 0; i < n; i++) transparent.push((bytes[trns.start + 2 * i]! << 8) | bytes[trns.start + 2 * i + 1]!);
  }

  const passes = passesOf(header);
  const rawSize = rawSizeOf(header, passes);
  // Deflate expands at most ~1032:1: refuse before allocating when the data
  // cannot possibly fill the image the header declares.
  const compressed = idat.reduce((n, c) => n + c.length, 0);
  if (compressed * 1032 + 65536 < rawSize) {
    fail(`${compressed} bytes of compressed data cannot inflate to the ${rawSize} bytes a ${width}x${height} image needs`);
  }
  const raw = inflateIdat(bytes, idat, rawSize);
  const image = createImage(width, height);
  const out = image.data;
  const bitsPerPixel = channels * depth;
  const bpp = Math.max(1, bitsPerPixel >> 3);
  const maxSample = (1 << depth) - 1;
  const sample = new Array<number>(4).fill(0);
  // The common case (8-bit grey/RGB/RGBA without palette or colour key) takes a direct path.
  const plain8 = depth === 8 && !palette && !transparent;

  let offset = 0;
  for (const pass of passes) {
    const rowBytes = rowBytesOf(pass.w, bitsPerPixel);
    unfilter(raw, offset, pass.h, rowBytes, bpp);
    for (let py = 0; py < pass.h; py++) {
      const row = offset + py * (rowBytes + 1) + 1;
      const y = pass.y0 + py * pass.dy;
      if (plain8) {
        writePlain8Row(raw, row, pass.w, channels, out, (y * width + pass.x0) * 4, pass.dx * 4);
        continue;
      }
      for (let px = 0; px < pass.w; px++) {
        // Read this pixel's raw samples.
        for (let c = 0; c < channels; c++) {
          const s = px * channels + c;
          if (depth === 8) sample[c] = raw[row + s]!;
          else if (depth === 16) sample[c] = (raw[row + 2 * s]! << 8) | raw[row + 2 * s + 1]!;
          else {
            const bit = s * depth;
            sample[c] = (raw[row + (bit >> 3)]! >> (8 - depth - (bit & 7))) & maxSample;
          }
        }
        const o = ((y * width) + pass.x0 + px * pass.dx) * 4;
        if (palette) {
          const index = sample[0]!;
          if (index >= palette.size) fail(`pixel (${pass.x0 + px * pass.dx}, ${y}) uses palette index ${index}; the palette has ${palette.size} entries`);
          out[o] = palette.rgba[index * 4]!;
          out[o + 1] = palette.rgba[index * 4 + 1]!;
          out[o + 2] = palette.rgba[index * 4 + 2]!;
          out[o + 3] = palette.rgba[index * 4 + 3]!;
          continue;
        }
        if (transparent && sample[0] === transparent[0] && (channels === 1 || (sample[1] === transparent[1] && sample[2] === transparent[2]))) {
          out[o] = out[o + 1] = out[o + 2] = out[o + 3] = 0;
          continue;
        }
        const grey = channels <= 2;
        const r = sample[0]!;
        const g = grey ? r : sample[1]!;
        const b = grey ? r : sample[2]!;
        const a = channels === 2 ? sample[1]! : channels === 4 ? sample[3]! : maxSample;
        if (depth === 8) {
          out[o] = r;
          out[o + 1] = g;
          out[o + 2] = b;
          out[o + 3] = a;
        } else {
          out[o] = Math.floor((r * 255) / maxSample + 0.5);
          out[o + 1] = Math.floor((g * 255) / maxSample + 0.5);
          out[o + 2] = Math.floor((b * 255) / maxSample + 0.5);
          out[o + 3] = Math.floor((a * 255) / maxSample + 0.5);
        }
      }
    }
    offset += pass.h * (rowBytes + 1);
  }
  return image;
}

/** One row of 8-bit grey, grey+alpha, RGB or RGBA samples to RGBA, `step` bytes apart in `out`. */
function writePlain8Row(raw: Uint8Array, row: number, count: number, channels: number, out: Uint8ClampedArray, o: number, step: number): void {
  if (channels === 4 && step === 4) {
    out.set(raw.subarray(row, row + count * 4), o);
    return;
  }
  for (let px = 0, s = row; px < count; px++, o += step, s += channels) {
    if (channels === 3) {
      out[o] = raw[s]!;
      out[o + 1] = raw[s + 1]!;
      out[o + 2] = raw[s + 2]!;
      out[o + 3] = 255;
    } else if (channels === 4) {
      out[o] = raw[s]!;
      out[o + 1] = raw[s + 1]!;
      out[o + 2] = raw[s + 2]!;
      out[o + 3] = raw[s + 3]!;
    } else {
      const v = raw[s]!;
      out[o] = v;
      out[o + 1] = v;
      out[o + 2] = v;
      out[o + 3] = channels === 2 ? raw[s + 1]! : 255;
    }
  }
}
