/**
 * JPEG decoding against Pillow, which decodes with libjpeg-turbo's defaults
 * (fancy upsampling, the islow IDCT, its YCbCr tables), as OpenCV and Chrome
 * do. test/data/images holds JPEGs of every kind and `<name>.ref.png`, the
 * RGB pixels Pillow decodes from each (written by tools/jpeg-references.py;
 * see test/data/images/README.md). Every one must come out byte for byte.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeImage, ImageDecodeError, ImageLimitError, readJpegHeader } from '../src/image/index.js';
import { TinycamError } from '../src/tensor/errors.js';

const DATA = join(import.meta.dirname, 'data/images');
const read = (name: string) => new Uint8Array(readFileSync(join(DATA, name)));
const FILES = readdirSync(DATA);
const REFERENCES = FILES.filter((f) => f.endsWith('.ref.png') && FILES.includes(f.replace('.ref.png', '.jpg'))).map((f) => f.replace('.ref.png', ''));

/** The structure of a JPEG, read here independently of the decoder: frame type, sampling, scans, restart interval, Adobe transform. */
function structure(bytes: Uint8Array) {
  const out = { sof: 0, factors: [] as string[], scans: 0, restart: 0, adobe: -1, exif: false };
  let p = 2;
  while (p + 4 <= bytes.length) {
    if (bytes[p] !== 0xff || bytes[p + 1] === 0 || bytes[p + 1] === 0xff || (bytes[p + 1]! >= 0xd0 && bytes[p + 1]! <= 0xd7)) {
      p++; // inside scan data
      continue;
    }
    const marker = bytes[p + 1]!;
    if (marker === 0xd9) break;
    const length = (bytes[p + 2]! << 8) | bytes[p + 3]!;
    const data = bytes.subarray(p + 4, p + 2 + length);
    if (marker >= 0xc0 && marker <= 0xc2) {
      out.sof = marker;
      for (let i = 0; i < data[5]!; i++) out.factors.push(`${data[7 + 3 * i]! >> 4}x${data[7 + 3 * i]! & 15}`);
    }
    if (marker === 0xda) out.scans++;
    if (marker === 0xdd) out.restart = (data[0]! << 8) | data[1]!;
    if (marker === 0xee) out.adobe = data[11]!;
    if (marker === 0xe1) out.exif = true;
    p += 2 + length;
  }
  return out;
}

function expectTyped(fn: () => unknown, type: typeof ImageDecodeError | typeof ImageLimitError, pattern: RegExp): void {
  let error: unknown;
  try {
    fn();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(type);
  expect(error).toBeInstanceOf(TinycamError);
  expect((error as Error).message).toMatch(pattern);
}

describe('JPEG decoding equals Pillow (libjpeg-turbo) byte for byte', () => {
  it('the references cover every kind the issue names, and more', () => {
    const kinds = new Map(REFERENCES.map((n) => [n, structure(read(`${n}.jpg`))]));
    const has = (test: (s: ReturnType<typeof structure>, name: string) => boolean) => [...kinds].filter(([n, s]) => test(s, n)).map(([n]) => n);
    expect(REFERENCES.length).toBeGreaterThanOrEqual(36);
    const colour = (s: ReturnType<typeof structure>, f: string) => s.factors.length === 3 && s.factors.slice(1).every((x) => x === '1x1') && s.factors[0] === f;
    expect(has((s) => s.sof === 0xc0 && s.scans === 1 && colour(s, '2x2')), 'baseline 4:2:0').not.toEqual([]);
    expect(has((s) => colour(s, '1x1') && s.adobe === -1), '4:4:4').not.toEqual([]);
    expect(has((s) => colour(s, '2x1')), '4:2:2').not.toEqual([]);
    expect(has((s) => colour(s, '1x2')), '4:4:0').not.toEqual([]);
    expect(has((s) => colour(s, '4x1')), '4:1:1').not.toEqual([]);
    expect(has((s) => s.sof === 0xc2 && colour(s, '2x2')), 'progressive 4:2:0').not.toEqual([]);
    expect(has((s) => s.sof === 0xc2 && colour(s, '1x1')), 'progressive 4:4:4').not.toEqual([]);
    expect(has((s) => s.factors.length === 1 && s.sof === 0xc0), 'grey').not.toEqual([]);
    expect(has((s) => s.factors.length === 1 && s.sof === 0xc2), 'grey progressive').not.toEqual([]);
    expect(has((s) => s.restart > 0 && s.sof === 0xc0), 'restart markers').not.toEqual([]);
    expect(has((s) => s.restart > 0 && s.sof === 0xc2), 'progressive with restart markers').not.toEqual([]);
    expect(has((s) => s.sof === 0xc0 && s.scans === 3), 'sequential, one scan per component').not.toEqual([]);
    expect(has((s) => s.factors.length === 4), 'CMYK').not.toEqual([]);
    expect(has((s) => s.adobe === 0 && s.factors.length === 3), 'RGB-coded').not.toEqual([]);
    expect(has((s, n) => s.exif && n.startsWith('orient-')).length, 'EXIF orientations 1-8').toBe(8);
    expect(has((_, n) => n.startsWith('damaged-')).length, 'damaged files').toBeGreaterThanOrEqual(6);
  });

  it.each(REFERENCES)('%s', (name) => {
    const ours = decodeImage(read(`${name}.jpg`));
    const ref = decodeImage(read(`${name}.ref.png`)); // our PNG decoder equals pngjs (image.codec.test.ts)
    expect([ours.width, ours.height]).toEqual([ref.width, ref.height]);
    let differing = 0;
    for (let i = 0; i < ours.data.length; i++) if (ours.data[i] !== ref.data[i]) differing++;
    expect(differing).toBe(0);
  });

  it('reports the frame header, including progressive and the EXIF orientation', () => {
    expect(readJpegHeader(read('progressive.jpg'))).toMatchObject({ width: 40, height: 24, components: 3, progressive: true, orientation: 1 });
    expect(readJpegHeader(read('grey.jpg'))).toMatchObject({ components: 1, progressive: false });
    expect(readJpegHeader(read('cat-cmyk.jpg'))).toMatchObject({ components: 4 });
    for (let o = 1; o <= 8; o++) expect(readJpegHeader(read(`orient-${o}.jpg`)).orientation).toBe(o);
  });

  it('takes the orientation of the first Exif block before the first scan, wherever it sits (as Pillow)', () => {
    const segment = (bytes: Uint8Array, code: number) => {
      const at = bytes.findIndex((b, i) => b === 0xff && bytes[i + 1] === code);
      return bytes.subarray(at, at + 2 + ((bytes[at + 2]! << 8) | bytes[at + 3]!));
    };
    const six = read('orient-6.jpg');
    const exif6 = segment(six, 0xe1);
    const exif1 = segment(read('orient-1.jpg'), 0xe1);
    const withoutExif = new Uint8Array([...six.subarray(0, 2), ...six.subarray(2 + exif6.length)]);
    const sof = withoutExif.findIndex((b, i) => b === 0xff && withoutExif[i + 1] === 0xc0);
    const sofEnd = sof + 2 + ((withoutExif[sof + 2]! << 8) | withoutExif[sof + 3]!);
    const insert = (at: number, ...parts: Uint8Array[]) => new Uint8Array([...withoutExif.subarray(0, at), ...parts.flatMap((p) => [...p]), ...withoutExif.subarray(at)]);
    const xmpText = new TextEncoder().encode('http://ns.adobe.com/xap/1.0/\0<x/>');
    const xmp = new Uint8Array([0xff, 0xe1, 0, xmpText.length + 2, ...xmpText]);
    expect(readJpegHeader(withoutExif).orientation).toBe(1);
    expect(readJpegHeader(insert(sofEnd, exif6)).orientation).toBe(6); // after the frame header
    expect(readJpegHeader(insert(2, xmp, exif6)).orientation).toBe(6); // XMP first
    expect(readJpegHeader(insert(2, exif1, exif6)).orientation).toBe(1); // the first Exif block decides
    expect(decodeImage(insert(sofEnd, exif6)).width).toBe(24);
  });

  it('keeps the stored orientation when asked (applyOrientation: false)', () => {
    const upright = decodeImage(read('orient-6.jpg'));
    const stored = decodeImage(read('orient-6.jpg'), { applyOrientation: false });
    expect([upright.width, upright.height, stored.width, stored.height]).toEqual([24, 40, 40, 24]);
    // Orientation 6 turns the stored picture 90 degrees clockwise: stored (x, y) lands at (H - 1 - y, x).
    const at = (img: typeof stored, x: number, y: number) => Array.from(img.data.subarray((y * img.width + x) * 4, (y * img.width + x) * 4 + 4));
    expect(at(upright, 24 - 1 - 5, 7)).toEqual(at(stored, 7, 5));
  });
});

describe('damaged and hostile JPEGs', () => {
  const jpg = read('photo-420.jpg');
  const sos = jpg.findIndex((b, i) => b === 0xff && jpg[i + 1] === 0xda);
  const scanStart = sos + 2 + ((jpg[sos + 2]! << 8) | jpg[sos + 3]!);

  it('refuses a file cut inside the image data, as Pillow does ("truncated")', () => {
    expectTyped(() => decodeImage(jpg.subarray(0, scanStart + 100)), ImageDecodeError, /corrupt JPEG: the file ends inside the image data \(truncated\)/);
    const progressive = read('cat-420-progressive.jpg');
    expectTyped(() => decodeImage(progressive.subarray(0, progressive.length - 300)), ImageDecodeError, /truncated/);
  });

  it('reads a whole picture whose EOI marker is missing (Pillow refuses it; its pixels are all there)', () => {
    const whole = decodeImage(jpg);
    expect(Array.from(decodeImage(jpg.subarray(0, jpg.length - 2)).data)).toEqual(Array.from(whole.data));
  });

  it('names what is wrong in the file\'s structure', () => {
    const patched = (...edits: [number, number][]) => {
      const b = jpg.slice();
      for (const [at, value] of edits) b[at] = value;
      return b;
    };
    const marker = (code: number) => jpg.findIndex((b, i) => b === 0xff && jpg[i + 1] === code);
    const sof = marker(0xc0);
    const dht = marker(0xc4);
    expectTyped(() => decodeImage(patched([sof + 4, 12])), ImageDecodeError, /unsupported JPEG: 12-bit samples/);
    expectTyped(() => decodeImage(patched([sof + 1, 0xc9])), ImageDecodeError, /unsupported JPEG: arithmetic-coded \(SOF9\)/);
    expectTyped(() => decodeImage(patched([sof + 1, 0xc3])), ImageDecodeError, /unsupported JPEG: lossless \(SOF3\)/);
    // Luma 3x1 against chroma 2x1: not a whole ratio, which libjpeg does not upsample either.
    expectTyped(() => decodeImage(patched([sof + 11, 0x31], [sof + 14, 0x21])), ImageDecodeError, /not a whole ratio/);
    expectTyped(() => decodeImage(patched([sof + 11, 0x51])), ImageDecodeError, /sampling factors 5x1; each must be 1-4/);
    // Two codes of length 1 (the table keeps its 12 symbols): no code is left for the longer ones.
    expectTyped(() => decodeImage(patched([dht + 5, 2], [dht + 6, 0], [dht + 7, 4])), ImageDecodeError, /Huffman table is invalid \(the codes of length 1 overflow\)/);
    // The scan asks for Huffman tables 3 / quantisation table 3, which the file never defines.
    expectTyped(() => decodeImage(patched([sos + 6, 0x33])), ImageDecodeError, /DC Huffman table 3, which is not defined/);
    expectTyped(() => decodeImage(patched([sof + 12, 3])), ImageDecodeError, /quantisation table 3, which is not defined/);
    expectTyped(() => decodeImage(patched([sos + 5, 9])), ImageDecodeError, /names component id 9, which the frame does not have/);
    const twoFrames = new Uint8Array([...jpg.subarray(0, sof), ...jpg.subarray(sof, sof + 19), ...jpg.subarray(sof)]);
    expectTyped(() => decodeImage(twoFrames), ImageDecodeError, /two frame headers/);
    expectTyped(() => decodeImage(new Uint8Array([0xff, 0xd8, 0xff, 0xd9])), ImageDecodeError, /EOI before the frame header/);
  });

  it('refuses progressive scans with parameters T.81 forbids', () => {
    const p = read('cat-420-progressive.jpg').slice();
    const sos = p.findIndex((b, i) => b === 0xff && p[i + 1] === 0xda);
    const n = p[sos + 4]!;
    p[sos + 5 + 2 * n + 1] = 5; // Se = 5 in a DC scan
    expectTyped(() => decodeImage(p), ImageDecodeError, /invalid parameters Ss=0 Se=5/);
  });

  it('checks the size limits from SOF before allocating anything', () => {
    const b = jpg.slice();
    const sof = b.findIndex((x, i) => x === 0xff && b[i + 1] === 0xc0);
    b.set([0xff, 0xff, 0xff, 0xff], sof + 5); // 65535 x 65535
    const t0 = performance.now();
    expectTyped(() => decodeImage(b), ImageLimitError, /65535x65535 = 4294836225 pixels; at most 50000000/);
    expect(performance.now() - t0).toBeLessThan(50);
    expectTyped(() => decodeImage(jpg, { maxMemoryBytes: 20000 }), ImageLimitError, /maxMemoryBytes/);
    // The estimate counts the coefficients (2 bytes) and samples (1 byte) of every stored block,
    // 12x8 of luma and 6x4 of each chroma in 4:2:0, and the RGBA output with its rotated copy.
    expect(readJpegHeader(jpg).workingBytes).toBe((12 * 8 + 2 * 6 * 4) * 64 * 3 + 96 * 64 * 4 * 2);
  });
});
