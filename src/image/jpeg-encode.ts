/**
 * Baseline JPEG encoder (JFIF, YCbCr 4:4:4, the standard Annex K tables with
 * IJG quality scaling). Written here because jpeg-js's encoder returns a
 * Node Buffer whenever `module` exists, which is also true inside bundles for
 * browsers and edge runtimes, where Buffer is not defined.
 */
import { ArgumentError } from '../tensor/errors.js';
import { AC_CHROMA, AC_LUMA, CHROMA_QUANT, DC_CHROMA, DC_LUMA, LUMA_QUANT, ZIGZAG } from './jpeg-tables.js';
import type { RgbaImage } from './types.js';
import { checkImage, optionsOf } from './validate.js';

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

/** AAN's per-frequency output scale factors (libjpeg's jfdctflt.c). */
const AAN_SCALE = [1.0, 1.387039845, 1.306562965, 1.175875602, 1.0, 0.785694958, 0.5411961, 0.275899379];

/** 1 / (quantiser * AAN scale * 8) per coefficient (natural order): turns AAN's output into quantised values. */
function divisors(quant: Uint8Array): Float64Array {
  const d = new Float64Array(64);
  for (let u = 0; u < 8; u++) for (let v = 0; v < 8; v++) d[u * 8 + v] = 1 / (quant[u * 8 + v]! * AAN_SCALE[u]! * AAN_SCALE[v]! * 8);
  return d;
}

/**
 * In-place 2-D forward DCT of a level-shifted 8x8 block with the
 * Arai-Agui-Nakajima factorisation (libjpeg's jfdctflt.c): rows, then
 * columns. The outputs carry AAN's scale factors, removed by `divisors`.
 */
function fdct(d: Float64Array): void {
  for (let pass = 0; pass < 2; pass++) {
    // pass 0: rows (stride 1, step 8); pass 1: columns (stride 8, step 1)
    const stride = pass === 0 ? 1 : 8;
    const step = pass === 0 ? 8 : 1;
    for (let k = 0, p = 0; k < 8; k++, p += step) {
      const t0 = d[p]! + d[p + 7 * stride]!;
      const t7 = d[p]! - d[p + 7 * stride]!;
      const t1 = d[p + stride]! + d[p + 6 * stride]!;
      const t6 = d[p + stride]! - d[p + 6 * stride]!;
      const t2 = d[p + 2 * stride]! + d[p + 5 * stride]!;
      const t5 = d[p + 2 * stride]! - d[p + 5 * stride]!;
      const t3 = d[p + 3 * stride]! + d[p + 4 * stride]!;
      const t4 = d[p + 3 * stride]! - d[p + 4 * stride]!;
      // even part
      const t10 = t0 + t3;
      const t13 = t0 - t3;
      const t11 = t1 + t2;
      const t12 = t1 - t2;
      d[p] = t10 + t11;
      d[p + 4 * stride] = t10 - t11;
      const z1 = (t12 + t13) * 0.707106781;
      d[p + 2 * stride] = t13 + z1;
      d[p + 6 * stride] = t13 - z1;
      // odd part
      const o10 = t4 + t5;
      const o11 = t5 + t6;
      const o12 = t6 + t7;
      const z5 = (o10 - o12) * 0.382683433;
      const z2 = 0.5411961 * o10 + z5;
      const z4 = 1.306562965 * o12 + z5;
      const z3 = o11 * 0.707106781;
      const z11 = t7 + z3;
      const z13 = t7 - z3;
      d[p + 5 * stride] = z13 + z2;
      d[p + 3 * stride] = z13 - z2;
      d[p + stride] = z11 + z4;
      d[p + 7 * stride] = z11 - z4;
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
    // At most 7 pending bits plus 16 new ones: fits a 32-bit integer.
    this.bitBuffer = (this.bitBuffer << count) | (value & ((1 << count) - 1));
    this.bitCount += count;
    while (this.bitCount >= 8) {
      this.bitCount -= 8;
      const b = (this.bitBuffer >>> this.bitCount) & 255;
      this.byte(b);
      if (b === 0xff) this.byte(0);
    }
    this.bitBuffer &= (1 << this.bitCount) - 1;
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
export function encodeJpeg(image: RgbaImage, options?: EncodeJpegOptions): Uint8Array {
  checkImage('encodeJpeg', image);
  const o = optionsOf('encodeJpeg', options);
  const quality = o.quality ?? 90;
  if (typeof quality !== 'number' || !(quality >= 1 && quality <= 100)) {
    throw new ArgumentError(`encodeJpeg: quality must be a number from 1 to 100, got ${typeof quality === 'string' ? JSON.stringify(quality) : String(quality)}`);
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

  const planes = [new Float64Array(64), new Float64Array(64), new Float64Array(64)];
  const scale = [divisors(quant[0]!), divisors(quant[1]!)];
  const coef = new Int32Array(64);
  const previousDc = [0, 0, 0];
  for (let by = 0; by < height; by += 8) {
    for (let bx = 0; bx < width; bx += 8) {
      // Level-shifted Y, Cb and Cr of the block (JFIF's full-range BT.601), edge pixels repeated.
      const [Y, Cb, Cr] = planes as [Float64Array, Float64Array, Float64Array];
      for (let y = 0; y < 8; y++) {
        const rowStart = Math.min(by + y, height - 1) * width;
        for (let x = 0; x < 8; x++) {
          const p = (rowStart + Math.min(bx + x, width - 1)) * 4;
          const r = data[p]!;
          const g = data[p + 1]!;
          const b = data[p + 2]!;
          Y[y * 8 + x] = 0.299 * r + 0.587 * g + 0.114 * b - 128;
          Cb[y * 8 + x] = -0.168736 * r - 0.331264 * g + 0.5 * b;
          Cr[y * 8 + x] = 0.5 * r - 0.418688 * g - 0.081312 * b;
        }
      }
      for (let c = 0; c < 3; c++) {
        const block = planes[c]!;
        fdct(block);
        const t = c === 0 ? 0 : 1;
        const div = scale[t]!;
        // Zig-zag order; baseline Huffman tables code AC magnitudes up to 10 bits: clamp AC to ±1023 (DC has 11).
        for (let k = 0; k < 64; k++) {
          const v = Math.round(block[ZIGZAG[k]!]! * div[ZIGZAG[k]!]!);
          coef[k] = k === 0 || (v <= 1023 && v >= -1023) ? v : v > 0 ? 1023 : -1023;
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
