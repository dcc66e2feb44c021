/**
 * Baseline JPEG encoder (JFIF, YCbCr 4:4:4, the standard Annex K tables with
 * IJG quality scaling). Written here because jpeg-js's encoder returns a
 * Node Buffer whenever `module` exists, which is also true inside bundles for
 * browsers and edge runtimes, where Buffer is not defined.
 */
import { ArgumentError } from '../tensor/errors.js';
import { AC_CHROMA, AC_LUMA, CHROMA_QUANT, DC_CHROMA, DC_LUMA, LUMA_QUANT, ZIGZAG } from './jpeg-tables.js';
import type { RgbaImage } from './types.js';
import { checkImage } from './validate.js';

export interface EncodeJpegOptions {
  /** 1 (smallest) to 100 (best), default 90. */
  quality?: number;
}

interface HuffmanSpec {
  counts: number[];
  symbols: number[];
}

/** code and length per symbol, from the canonical code construction of T.81 Annex C. */
function huffmanCodes(spec: HuffmanSpec): { code: Uint16Array; size: Uint8Array } {
  const code = new Uint16Array(256);
  const size = new Uint8Array(256);
  let next = 0;
  let k = 0;
  for (let length = 1; length <= 16; length++) {
    for (let i = 0; i < spec.counts[length - 1]!; i++) {
      const symbol = spec.symbols[k++]!;
      code[symbol] = next++;
      size[symbol] = length;
    }
    next <<= 1;
  }
  return { code, size };
}

/** IJG's quality scaling of a base table; result in natural order. */
function scaledQuant(base: number[], quality: number): Uint8Array {
  const scale = quality < 50 ? Math.floor(5000 / quality) : 200 - quality * 2;
  const out = new Uint8Array(64);
  for (let i = 0; i < 64; i++) out[i] = Math.min(255, Math.max(1, Math.floor((base[i]! * scale + 50) / 100)));
  return out;
}

// COS[u * 8 + x] = c(u)/2 * cos((2x+1)uπ/16): the orthonormal 1-D DCT-II basis.
const COS = /* @__PURE__ */ (() => {
  const t = new Float64Array(64);
  for (let u = 0; u < 8; u++) {
    const c = u === 0 ? Math.SQRT1_2 : 1;
    for (let x = 0; x < 8; x++) t[u * 8 + x] = (c / 2) * Math.cos(((2 * x + 1) * u * Math.PI) / 16);
  }
  return t;
})();

/** 2-D DCT of an 8x8 block (level-shifted samples), in place through `tmp`. */
function fdct(block: Float64Array, tmp: Float64Array): void {
  for (let y = 0; y < 8; y++) {
    for (let u = 0; u < 8; u++) {
      let s = 0;
      for (let x = 0; x < 8; x++) s += COS[u * 8 + x]! * block[y * 8 + x]!;
      tmp[y * 8 + u] = s;
    }
  }
  for (let u = 0; u < 8; u++) {
    for (let v = 0; v < 8; v++) {
      let s = 0;
      for (let y = 0; y < 8; y++) s += COS[v * 8 + y]! * tmp[y * 8 + u]!;
      block[v * 8 + u] = s;
    }
  }
}

/** Growable byte sink with JPEG's bit packing (0xFF followed by a stuffed 0x00 inside entropy data). */
class ByteWriter {
  bytes = new Uint8Array(1 << 16);
  length = 0;
  private bitBuffer = 0;
  private bitCount = 0;

  byte(b: number): void {
    if (this.length === this.bytes.length) {
      const bigger = new Uint8Array(this.bytes.length * 2);
      bigger.set(this.bytes);
      this.bytes = bigger;
    }
    this.bytes[this.length++] = b;
  }
  word(w: number): void {
    this.byte(w >> 8);
    this.byte(w & 255);
  }
  bits(value: number, count: number): void {
    for (let i = count - 1; i >= 0; i--) {
      this.bitBuffer = (this.bitBuffer << 1) | ((value >> i) & 1);
      if (++this.bitCount === 8) {
        this.byte(this.bitBuffer);
        if (this.bitBuffer === 0xff) this.byte(0);
        this.bitBuffer = 0;
        this.bitCount = 0;
      }
    }
  }
  /** Pads the last byte with 1-bits, as T.81 asks. */
  flushBits(): void {
    if (this.bitCount > 0) this.bits((1 << (8 - this.bitCount)) - 1, 8 - this.bitCount);
  }
}

function writeHuffmanTable(w: ByteWriter, tableClass: number, id: number, spec: HuffmanSpec): void {
  w.byte((tableClass << 4) | id);
  for (const c of spec.counts) w.byte(c);
  for (const s of spec.symbols) w.byte(s);
}

/** Number of bits of |v| (JPEG's magnitude category). */
function category(v: number): number {
  let a = v < 0 ? -v : v;
  let n = 0;
  while (a) {
    n++;
    a >>= 1;
  }
  return n;
}

/** Encodes an RGBA image as a baseline JPEG (alpha is dropped). */
export function encodeJpeg(image: RgbaImage, options: EncodeJpegOptions = {}): Uint8Array {
  checkImage('encodeJpeg', image);
  const quality = options.quality ?? 90;
  if (!(quality >= 1 && quality <= 100)) {
    throw new ArgumentError(`encodeJpeg: quality must be a number from 1 to 100, got ${String(options.quality)}`);
  }
  const { width, height, data } = image;
  if (width > 65535 || height > 65535) {
    throw new ArgumentError(`encodeJpeg: JPEG holds at most 65535x65535 pixels, got ${width}x${height}`);
  }
  const q = Math.round(quality);
  const quant = [scaledQuant(LUMA_QUANT, q), scaledQuant(CHROMA_QUANT, q)];
  const dc = [huffmanCodes(DC_LUMA), huffmanCodes(DC_CHROMA)];
  const ac = [huffmanCodes(AC_LUMA), huffmanCodes(AC_CHROMA)];

  const w = new ByteWriter();
  w.word(0xffd8); // SOI
  w.word(0xffe0); // APP0 JFIF 1.01, no density
  w.word(16);
  for (const b of [0x4a, 0x46, 0x49, 0x46, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0]) w.byte(b);
  w.word(0xffdb); // DQT: two 8-bit tables in zig-zag order
  w.word(2 + 2 * 65);
  for (let t = 0; t < 2; t++) {
    w.byte(t);
    for (let k = 0; k < 64; k++) w.byte(quant[t]![ZIGZAG[k]!]!);
  }
  w.word(0xffc0); // SOF0: 8-bit, 3 components, 1x1 sampling
  w.word(17);
  w.byte(8);
  w.word(height);
  w.word(width);
  w.byte(3);
  for (let c = 0; c < 3; c++) {
    w.byte(c + 1);
    w.byte(0x11);
    w.byte(c === 0 ? 0 : 1);
  }
  w.word(0xffc4); // DHT
  w.word(2 + [DC_LUMA, AC_LUMA, DC_CHROMA, AC_CHROMA].reduce((n, s) => n + 17 + s.symbols.length, 0));
  writeHuffmanTable(w, 0, 0, DC_LUMA);
  writeHuffmanTable(w, 1, 0, AC_LUMA);
  writeHuffmanTable(w, 0, 1, DC_CHROMA);
  writeHuffmanTable(w, 1, 1, AC_CHROMA);
  w.word(0xffda); // SOS
  w.word(12);
  w.byte(3);
  for (let c = 0; c < 3; c++) {
    w.byte(c + 1);
    w.byte(c === 0 ? 0x00 : 0x11);
  }
  w.byte(0);
  w.byte(63);
  w.byte(0);

  const block = new Float64Array(64);
  const tmp = new Float64Array(64);
  const coef = new Int32Array(64);
  const previousDc = [0, 0, 0];
  for (let by = 0; by < height; by += 8) {
    for (let bx = 0; bx < width; bx += 8) {
      for (let c = 0; c < 3; c++) {
        // Level-shifted Y, Cb or Cr (JFIF's full-range BT.601), edge pixels repeated.
        for (let y = 0; y < 8; y++) {
          const sy = Math.min(by + y, height - 1);
          for (let x = 0; x < 8; x++) {
            const p = (sy * width + Math.min(bx + x, width - 1)) * 4;
            const r = data[p]!;
            const g = data[p + 1]!;
            const b = data[p + 2]!;
            block[y * 8 + x] =
              c === 0
                ? 0.299 * r + 0.587 * g + 0.114 * b - 128
                : c === 1
                  ? -0.168736 * r - 0.331264 * g + 0.5 * b
                  : 0.5 * r - 0.418688 * g - 0.081312 * b;
          }
        }
        fdct(block, tmp);
        const t = c === 0 ? 0 : 1;
        // Baseline Huffman tables code AC magnitudes up to 10 bits: clamp to ±1023.
        for (let k = 0; k < 64; k++) {
          const v = Math.round(block[ZIGZAG[k]!]! / quant[t]![ZIGZAG[k]!]!);
          coef[k] = v > 1023 ? 1023 : v < -1023 ? -1023 : v;
        }
        // DC difference, then run-length coded AC coefficients.
        const diff = coef[0]! - previousDc[c]!;
        previousDc[c] = coef[0]!;
        let n = category(diff);
        w.bits(dc[t]!.code[n]!, dc[t]!.size[n]!);
        if (n) w.bits(diff < 0 ? diff + (1 << n) - 1 : diff, n);
        let run = 0;
        for (let k = 1; k < 64; k++) {
          const v = coef[k]!;
          if (v === 0) {
            run++;
            continue;
          }
          while (run > 15) {
            w.bits(ac[t]!.code[0xf0]!, ac[t]!.size[0xf0]!); // ZRL: sixteen zeros
            run -= 16;
          }
          n = category(v);
          const symbol = (run << 4) | n;
          w.bits(ac[t]!.code[symbol]!, ac[t]!.size[symbol]!);
          w.bits(v < 0 ? v + (1 << n) - 1 : v, n);
          run = 0;
        }
        if (run > 0) w.bits(ac[t]!.code[0]!, ac[t]!.size[0]!); // EOB
      }
    }
  }
  w.flushBits();
  w.word(0xffd9); // EOI
  return w.bytes.slice(0, w.length);
}
