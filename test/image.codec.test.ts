import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { describe, expect, it, vi } from 'vitest';

// The bytes the PNG decoder feeds its inflater, counted (behaviour unchanged): how much of a
// zlib bomb it reads is then a count, not a timing that a loaded machine can break.
const inflated = vi.hoisted(() => ({ pushed: 0 }));
vi.mock('fflate', async (importOriginal) => {
  const fflate = await importOriginal<typeof import('fflate')>();
  class CountingUnzlib extends fflate.Unzlib {
    override push(chunk: Uint8Array, final?: boolean): void {
      inflated.pushed += chunk.length;
      super.push(chunk, final);
    }
  }
  return { ...fflate, Unzlib: CountingUnzlib };
});
import {
  decodeImage,
  detectImageFormat,
  encodeJpeg,
  encodePng,
  ImageDecodeError,
  ImageLimitError,
  readJpegHeader,
  readPngHeader,
  type RgbaImage,
} from '../src/image/index.js';
import { TinycamError } from '../src/tensor/errors.js';
import { FULL_FIXTURES } from './helpers/fixtures.js';
import { describeReference, referencePath } from './helpers/shared.js';

const DATA = join(import.meta.dirname, 'data/images');
const SHAPES = referencePath('fixtures/shapes/test');
const read = (dir: string, name: string) => new Uint8Array(readFileSync(join(dir, name)));

function pngjsPixels(bytes: Uint8Array): { width: number; height: number; data: Uint8Array } {
  const png = PNG.sync.read(Buffer.from(bytes));
  return { width: png.width, height: png.height, data: new Uint8Array(png.data) };
}

/** Independent CRC-32 for the hand-built files below (bitwise, no table). */
function crc(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const body = Buffer.concat([Buffer.from(type, 'latin1'), Buffer.from(data)]);
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  body.copy(out, 4);
  out.writeUInt32BE(crc(body), 8 + data.length);
  return out;
}

/** A PNG written by hand: signature, IHDR(w, h, depth, colorType), one IDAT of `raw` deflated, IEND. */
function handPng(width: number, height: number, depth: number, colorType: number, raw: Uint8Array): Uint8Array {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = depth;
  ihdr[9] = colorType;
  return new Uint8Array(
    Buffer.concat([
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
      chunk('IHDR', ihdr),
      chunk('IDAT', deflateSync(raw)),
      chunk('IEND', new Uint8Array(0)),
    ]),
  );
}

function expectTyped(fn: () => unknown, type: typeof ImageDecodeError | typeof ImageLimitError, pattern?: RegExp): void {
  let error: unknown;
  try {
    fn();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(type);
  expect(error).toBeInstanceOf(TinycamError);
  if (pattern) expect((error as Error).message).toMatch(pattern);
}

describeReference('fixtures', 'PNG decoding of the shapes fixtures', () => {
  it('gives exactly pngjs\'s pixels for every PNG of the shapes fixtures', () => {
    const files = readdirSync(SHAPES).filter((f) => f.endsWith('.png'));
    expect(files.length).toBeGreaterThanOrEqual(FULL_FIXTURES ? 400 : 6); // the compact copy keeps 6
    for (const f of files) {
      const bytes = read(SHAPES, f);
      const ours = decodeImage(bytes);
      const ref = pngjsPixels(bytes);
      expect([ours.width, ours.height], f).toEqual([ref.width, ref.height]);
      expect(ours.data).toBeInstanceOf(Uint8ClampedArray);
      expect(Buffer.compare(Buffer.from(ours.data), Buffer.from(ref.data)), f).toBe(0);
    }
  });
});

describe('PNG decoding', () => {
  // Written by ImageMagick: every colour type, bit depths 1, 2, 4, 8, 16, Adam7, palette and colour-key tRNS.
  const variants = readdirSync(DATA).filter((f) => f.endsWith('.png') && !f.endsWith('.ref.png'));
  it.each(variants)('%s equals pngjs exactly', (f) => {
    const bytes = read(DATA, f);
    const ours = decodeImage(bytes);
    const ref = pngjsPixels(bytes);
    expect([ours.width, ours.height]).toEqual([ref.width, ref.height]);
    expect(Buffer.compare(Buffer.from(ours.data), Buffer.from(ref.data))).toBe(0);
  });

  it('the variants cover every colour type, bit depth and interlacing', () => {
    const seen = new Set(variants.map((f) => {
      const h = readPngHeader(read(DATA, f));
      return `${h.colorType}/${h.bitDepth}/${h.interlaced ? 'i' : 'p'}`;
    }));
    for (const want of ['0/1/p', '0/2/i', '0/8/p', '0/16/p', '2/8/p', '2/8/i', '2/16/p', '3/4/i', '3/8/p', '4/8/p', '4/16/p', '6/8/p', '6/16/p', '6/16/i']) {
      expect(seen, want).toContain(want);
    }
  });

  it('16-bit samples round to 8 bits and 1-bit grey scales to 0/255 (hand-built files)', () => {
    // One row, two 16-bit grey pixels: 0x8080 -> round(32896*255/65535) = 128, 0x00FF -> round(255*255/65535) = 1.
    const g16 = decodeImage(handPng(2, 1, 16, 0, new Uint8Array([0, 0x80, 0x80, 0x00, 0xff])));
    expect(Array.from(g16.data)).toEqual([128, 128, 128, 255, 1, 1, 1, 255]);
    // 1-bit grey 0b10100000: pixels 1,0,1 -> 255,0,255.
    const g1 = decodeImage(handPng(3, 1, 1, 0, new Uint8Array([0, 0b10100000])));
    expect(Array.from(g1.data)).toEqual([255, 255, 255, 255, 0, 0, 0, 255, 255, 255, 255, 255]);
  });
});

describe('PNG encoding', () => {
  it('is lossless: encode then decode returns the same pixels (fixtures, noise, odd sizes)', () => {
    const images: RgbaImage[] = ['src-rgb.png', 'src-rgba.png', 'palette-trns.png', 'photo-420.ref.png'].map((f) => decodeImage(read(DATA, f)));
    let seed = 12345;
    const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 24);
    for (const [w, h] of [[1, 1], [1, 9], [13, 1], [31, 17]] as const) {
      const data = new Uint8ClampedArray(w * h * 4);
      for (let i = 0; i < data.length; i++) data[i] = rand();
      images.push({ width: w, height: h, data });
    }
    for (const image of images) {
      const bytes = encodePng(image);
      expect(detectImageFormat(bytes)).toBe('png');
      const back = decodeImage(bytes);
      expect([back.width, back.height]).toEqual([image.width, image.height]);
      expect(Array.from(back.data)).toEqual(Array.from(image.data));
      // An independent decoder reads the same pixels.
      expect(Array.from(pngjsPixels(bytes).data)).toEqual(Array.from(image.data));
    }
  });
});

describe('JPEG encoding', () => {
  const psnr = (a: Uint8ClampedArray | Uint8Array, b: Uint8ClampedArray | Uint8Array) => {
    let se = 0;
    let n = 0;
    for (let i = 0; i < a.length; i++) {
      if (i % 4 === 3) continue;
      se += (a[i]! - b[i]!) ** 2;
      n++;
    }
    return 10 * Math.log10((255 * 255) / (se / n));
  };

  it('writes baseline JPEGs as faithful as jpeg-js\'s own encoder at the same quality', () => {
    const image = decodeImage(read(DATA, 'photo-444.ref.png'));
    for (const quality of [50, 75, 95]) {
      const bytes = encodeJpeg(image, { quality });
      expect(readJpegHeader(bytes)).toMatchObject({ width: 96, height: 64, components: 3, progressive: false });
      // jpeg-js (an independent decoder and encoder; its encoder runs here because Node has Buffer).
      const ours = psnr(image.data, jpeg.decode(bytes, { useTArray: true }).data);
      const reference = jpeg.encode({ width: 96, height: 64, data: Buffer.from(image.data) }, quality).data;
      const theirs = psnr(image.data, jpeg.decode(reference, { useTArray: true }).data);
      expect(ours).toBeGreaterThan(theirs - 0.3);
      expect(bytes.length).toBeLessThan(reference.length * 1.1);
    }
    expect(encodeJpeg(image, { quality: 40 }).length).toBeLessThan(encodeJpeg(image, { quality: 95 }).length);
  });

  it('keeps flat colours and odd sizes (edge blocks padded)', () => {
    const image: RgbaImage = { width: 9, height: 3, data: new Uint8ClampedArray(9 * 3 * 4) };
    for (let i = 0; i < image.data.length; i += 4) image.data.set([200, 40, 90, 255], i);
    const back = decodeImage(encodeJpeg(image, { quality: 100 }));
    expect([back.width, back.height]).toEqual([9, 3]);
    for (let i = 0; i < back.data.length; i += 4) {
      expect(Math.abs(back.data[i]! - 200)).toBeLessThanOrEqual(2);
      expect(Math.abs(back.data[i + 1]! - 40)).toBeLessThanOrEqual(2);
      expect(Math.abs(back.data[i + 2]! - 90)).toBeLessThanOrEqual(2);
    }
  });

  it('keeps black and white exactly at quality 100 (DC at its extremes)', () => {
    const image: RgbaImage = { width: 16, height: 8, data: new Uint8ClampedArray(16 * 8 * 4) };
    for (let i = 0; i < image.data.length; i += 4) image.data.set((i / 4) % 16 < 8 ? [0, 0, 0, 255] : [255, 255, 255, 255], i);
    const back = jpeg.decode(encodeJpeg(image, { quality: 100 }), { useTArray: true });
    expect(Array.from(back.data)).toEqual(Array.from(image.data));
  });

  it('rejects a quality outside 1..100', () => {
    const image = decodeImage(read(DATA, 'src-rgb.png'));
    expect(() => encodeJpeg(image, { quality: 0 })).toThrow(/quality must be a number from 1 to 100/);
  });
});

describe('hostile and broken files', () => {
  it('rejects what is neither PNG nor JPEG', () => {
    expectTyped(() => decodeImage(new Uint8Array(0)), ImageDecodeError, /unrecognised format/);
    expectTyped(() => decodeImage(new TextEncoder().encode('GIF89a......')), ImageDecodeError, /PNG and JPEG are supported/);
  });

  it('checks PNG limits from IHDR before inflating anything', () => {
    // 100000 x 100000 declared, a few bytes of data: must fail on the header, fast.
    const huge = handPng(100000, 100000, 8, 6, new Uint8Array(10));
    const t0 = performance.now();
    expectTyped(() => decodeImage(huge), ImageLimitError, /100000x100000 = 10000000000 pixels; at most 50000000/);
    expect(performance.now() - t0).toBeLessThan(50);
    const small = decodeImage(read(DATA, 'src-rgb.png'));
    expect(small.width).toBe(40);
    expectTyped(() => decodeImage(read(DATA, 'src-rgb.png'), { maxPixels: 959 }), ImageLimitError, /40x24 = 960 pixels/);
    expectTyped(() => decodeImage(read(DATA, 'src-rgb.png'), { maxMemoryBytes: 1000 }), ImageLimitError, /maxMemoryBytes/);
  });

  it('checks JPEG limits from SOF', () => {
    const bytes = read(DATA, 'progressive.jpg').slice();
    const sof = bytes.findIndex((b, i) => b === 0xff && bytes[i + 1] === 0xc2);
    bytes.set([0xff, 0xff, 0xff, 0xff], sof + 5); // height, width = 65535
    expectTyped(() => decodeImage(bytes), ImageLimitError, /65535x65535/);
  });

  it('stops a zlib bomb at the size IHDR implies', () => {
    // 1x1 RGBA declares 5 filtered bytes; the stream inflates to 32 MB.
    const bomb = handPng(1, 1, 8, 6, new Uint8Array(32 * 1024 * 1024));
    expect(bomb.length).toBeLessThan(50_000);
    expect(Array.from(decodeImage(bomb).data)).toEqual([0, 0, 0, 0]);
    // The decoder inflates 4 KB slices and stops in the first: of the bomb's compressed stream
    // (about 32 KB, all of which a plain inflate would expand) it feeds the inflater one slice.
    inflated.pushed = 0;
    decodeImage(bomb);
    expect(inflated.pushed).toBeGreaterThan(0);
    expect(inflated.pushed).toBeLessThanOrEqual(4096);
    expect(bomb.length).toBeGreaterThan(7 * 4096); // the stream is 8 slices long; the decoder read one
  });

  it('names what is wrong: truncation, CRC, palette, unsupported JPEG kinds', () => {
    const png = read(DATA, 'src-rgb.png');
    expectTyped(() => decodeImage(png.subarray(0, png.length - 20)), ImageDecodeError, /corrupt PNG/);
    const badCrc = png.slice();
    const idat = Buffer.from(png).indexOf('IDAT');
    badCrc[idat + 10] = badCrc[idat + 10]! ^ 1; // inside the image data
    expectTyped(() => decodeImage(badCrc), ImageDecodeError, /chunk 'IDAT' at byte [0-9]+ has a wrong CRC/);
    expectTyped(() => decodeImage(handPng(1, 1, 8, 3, new Uint8Array(2))), ImageDecodeError, /no PLTE/);
    // An unknown critical chunk is fatal; an ancillary chunk with a wrong CRC is dropped (as libpng).
    const withChunk = (c: Buffer) => new Uint8Array(Buffer.concat([png.subarray(0, 33), c, png.subarray(33)]));
    expectTyped(() => decodeImage(withChunk(chunk('ZZZZ', new Uint8Array(3)))), ImageDecodeError, /'ZZZZ' .* is critical but unknown/);
    const brokenText = chunk('tEXt', new TextEncoder().encode('a\0b'));
    brokenText[brokenText.length - 1]! ^= 0xff;
    expect(Array.from(decodeImage(withChunk(brokenText)).data)).toEqual(Array.from(decodeImage(png).data));
    expectTyped(() => decodeImage(handPng(2, 1, 8, 2, new Uint8Array(5))), ImageDecodeError, /holds 5 bytes; the header implies 7/);
    expectTyped(() => decodeImage(handPng(1, 1, 3, 2, new Uint8Array(4))), ImageDecodeError, /bit depth 3 is not allowed/);
    const arithmetic = read(DATA, 'progressive.jpg').slice();
    arithmetic[arithmetic.findIndex((b, i) => b === 0xff && arithmetic[i + 1] === 0xc2) + 1] = 0xca;
    expectTyped(() => decodeImage(arithmetic), ImageDecodeError, /arithmetic-coded progressive/);
    const jpg = read(DATA, 'baseline-420.jpg');
    expectTyped(() => decodeImage(jpg.subarray(0, 100)), ImageDecodeError, /corrupt JPEG: segment 0xFF[0-9A-F]+ at byte [0-9]+ declares [0-9]+ bytes; only [0-9]+ remain/);
    expectTyped(() => decodeImage(jpg.subarray(0, 321)), ImageDecodeError, /before the first scan/);
  });

  describe('what zlib and libpng refuse', () => {
    // Two RGB pixels per row, two rows, filter 0: the pixels 1..12.
    const raw = new Uint8Array([0, 1, 2, 3, 4, 5, 6, 0, 7, 8, 9, 10, 11, 12]);
    const pixels = [1, 2, 3, 255, 4, 5, 6, 255, 7, 8, 9, 255, 10, 11, 12, 255];
    const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    const ihdr = () => {
      const d = Buffer.alloc(13);
      d.writeUInt32BE(2, 0);
      d.writeUInt32BE(2, 4);
      d[8] = 8;
      d[9] = 2;
      return chunk('IHDR', d);
    };
    const file = (...chunks: Buffer[]) => new Uint8Array(Buffer.concat([SIGNATURE, ...chunks, chunk('IEND', new Uint8Array(0))]));
    const zlib = (data: Uint8Array) => new Uint8Array(deflateSync(data));

    it('decodes the well-formed file (the control)', () => {
      expect(Array.from(decodeImage(file(ihdr(), chunk('IDAT', zlib(raw)))).data)).toEqual(pixels);
    });

    it('refuses a wrong Adler-32 at the end of the image data, as zlib does (Pillow: "broken data stream")', () => {
      const z = zlib(raw);
      z[z.length - 1]! ^= 1;
      expectTyped(() => decodeImage(file(ihdr(), chunk('IDAT', z))), ImageDecodeError, /corrupt PNG: the compressed image data has a wrong Adler-32 checksum/);
    });

    it('ignores data past the end of the image without inflating it, as Pillow and libpng stop there', () => {
      const longer = zlib(new Uint8Array([...raw, ...new Uint8Array(100)]));
      expect(Array.from(decodeImage(file(ihdr(), chunk('IDAT', longer))).data)).toEqual(pixels);
    });

    it('refuses a second IHDR or PLTE and a PLTE after the image data, as libpng does', () => {
      const idat = chunk('IDAT', zlib(raw));
      const plte = chunk('PLTE', new Uint8Array([0, 0, 0, 255, 255, 255]));
      expectTyped(() => decodeImage(file(ihdr(), ihdr(), idat)), ImageDecodeError, /corrupt PNG: the file has two IHDR chunks/);
      expectTyped(() => decodeImage(file(ihdr(), plte, plte, idat)), ImageDecodeError, /the file has two PLTE chunks/);
      expectTyped(() => decodeImage(file(ihdr(), idat, plte)), ImageDecodeError, /PLTE comes after the image data/);
    });

    it('says what is wrong with damaged compressed data in its own words', () => {
      const z = zlib(raw);
      z[0] = 0x79; // not a zlib header
      expectTyped(() => decodeImage(file(ihdr(), chunk('IDAT', z))), ImageDecodeError, /compressed image data is invalid \(its zlib header is invalid\)$/);
      const bad = zlib(raw);
      bad[2] = 0xff; // block type 3, reserved
      expectTyped(() => decodeImage(file(ihdr(), chunk('IDAT', bad))), ImageDecodeError, /compressed image data is invalid \(it uses an invalid block type\)$/);
    });
  });
});
