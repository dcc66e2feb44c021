/**
 * Fuzzing decodeImage with mutated PNG and JPEG files: bit flips, byte
 * changes, truncation, huge declared sizes in IHDR / SOF, chunk and segment
 * length lies, spliced chunks, and mutations inside compressed data with the
 * CRC fixed so they get past the chunk checks. Every case must either decode
 * or throw ImageDecodeError / ImageLimitError; nothing else, no hang, and
 * memory must stay bounded.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeImage, ImageDecodeError, ImageLimitError } from '../src/image/index.js';

const DATA = join(import.meta.dirname, 'data/images');
const read = (path: string) => new Uint8Array(readFileSync(path));

const PNG_SEEDS = [
  join(DATA, 'src-rgb.png'),
  join(DATA, 'palette4-interlaced.png'),
  join(DATA, 'rgba16-interlaced.png'),
  join(DATA, 'grey1.png'),
  join(DATA, 'palette-trns.png'),
  join(DATA, 'rgb-trns.png'),
].map(read);
const JPEG_SEEDS = [
  'baseline-420.jpg', 'progressive.jpg', 'grey.jpg', 'orient-6.jpg', 'photo-422.jpg', 'photo-440.jpg', 'photo-411.jpg',
  'rocket-420-progressive-restart.jpg', 'rocket-noninterleaved.jpg', 'cat-cmyk.jpg', 'tiny-420.jpg',
].map((f) => read(join(DATA, f)));

/** mulberry32: a small seeded PRNG, so every failure can be replayed by its case number. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function crc32(bytes: Uint8Array, start: number, end: number): number {
  let c = 0xffffffff;
  for (let i = start; i < end; i++) {
    c ^= bytes[i]!;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}

interface PngChunk {
  at: number; // offset of the length field
  length: number;
  type: string;
}

function pngChunks(b: Uint8Array): PngChunk[] {
  const out: PngChunk[] = [];
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  for (let p = 8; p + 12 <= b.length; ) {
    const length = v.getUint32(p);
    out.push({ at: p, length, type: String.fromCharCode(...b.subarray(p + 4, p + 8)) });
    p += 12 + length;
  }
  return out;
}

function fixCrc(b: Uint8Array, c: PngChunk): void {
  if (c.at + 12 + c.length > b.length) return;
  new DataView(b.buffer, b.byteOffset).setUint32(c.at + 8 + c.length, crc32(b, c.at + 4, c.at + 8 + c.length));
}

const HUGE = [0, 1, 0x7fffffff, 0x80000000, 0xffffffff, 65535, 65536, 100000, 7072, 3000];

function mutatePng(seed: Uint8Array, r: () => number): Uint8Array {
  const b = seed.slice();
  const v = new DataView(b.buffer);
  const chunks = pngChunks(b);
  const pick = <T,>(xs: T[]) => xs[Math.floor(r() * xs.length)]!;
  const kind = Math.floor(r() * 9);
  switch (kind) {
    case 0: // bit flips anywhere
      for (let n = 1 + Math.floor(r() * 8); n > 0; n--) { const i = Math.floor(r() * b.length); b[i]! ^= 1 << Math.floor(r() * 8); }
      return b;
    case 1: // random bytes anywhere
      for (let n = 1 + Math.floor(r() * 4); n > 0; n--) b[Math.floor(r() * b.length)] = Math.floor(r() * 256);
      return b;
    case 2: // truncation
      return b.subarray(0, Math.floor(r() * b.length));
    case 3: { // huge or odd declared size in IHDR, CRC fixed
      v.setUint32(16, r() < 0.5 ? pick(HUGE) : Math.floor(r() * 70000));
      v.setUint32(20, r() < 0.5 ? pick(HUGE) : Math.floor(r() * 70000));
      if (r() < 0.3) b[24] = pick([1, 2, 4, 8, 16, 3, 0, 255]);
      if (r() < 0.3) b[25] = pick([0, 2, 3, 4, 6, 1, 7]);
      if (r() < 0.2) b[28] = pick([0, 1, 2]);
      fixCrc(b, chunks[0]!);
      return b;
    }
    case 4: { // a chunk's length lies (CRC left as is, or fixed over what the lie covers)
      const c = pick(chunks);
      v.setUint32(c.at, r() < 0.5 ? pick(HUGE) : Math.max(0, c.length + Math.floor((r() - 0.5) * 64)));
      if (r() < 0.5) fixCrc(b, { ...c, length: v.getUint32(c.at) });
      return b;
    }
    case 5: case 6: { // mutate inside IDAT (compressed data) or PLTE/tRNS, CRC fixed: reaches inflate and unfiltering
      const targets = chunks.filter((c) => c.type !== 'IEND' && c.length > 0);
      const c = kind === 5 ? pick(targets.filter((t) => t.type === 'IDAT')) : pick(targets);
      for (let n = 1 + Math.floor(r() * 6); n > 0; n--) {
        const i = c.at + 8 + Math.floor(r() * c.length);
        b[i] = r() < 0.5 ? b[i]! ^ (1 << Math.floor(r() * 8)) : Math.floor(r() * 256);
      }
      fixCrc(b, c);
      return b;
    }
    case 7: { // drop, duplicate or reorder chunks
      const parts = chunks.map((c) => seed.subarray(c.at, Math.min(seed.length, c.at + 12 + c.length)));
      const i = Math.floor(r() * parts.length);
      const op = Math.floor(r() * 3);
      if (op === 0) parts.splice(i, 1);
      else if (op === 1) parts.splice(i, 0, parts[i]!);
      else parts.splice(Math.floor(r() * parts.length), 0, ...parts.splice(i, 1));
      const total = 8 + parts.reduce((n, p) => n + p.length, 0);
      const out = new Uint8Array(total);
      out.set(seed.subarray(0, 8));
      let p = 8;
      for (const part of parts) { out.set(part, p); p += part.length; }
      return out;
    }
    default: { // truncate inside IDAT with the CRC of what is left fixed
      const idat = chunks.filter((c) => c.type === 'IDAT');
      const c = pick(idat);
      const keep = Math.floor(r() * c.length);
      v.setUint32(c.at, keep);
      const out = b.slice(0, c.at + 12 + keep);
      fixCrc(out, { ...c, length: keep });
      const iend = Uint8Array.of(0, 0, 0, 0, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82);
      const full = new Uint8Array(out.length + 12);
      full.set(out);
      full.set(iend, out.length);
      return full;
    }
  }
}

function jpegSegments(b: Uint8Array): { at: number; marker: number; length: number }[] {
  const out: { at: number; marker: number; length: number }[] = [];
  for (let p = 2; p + 4 <= b.length && b[p] === 0xff; ) {
    const marker = b[p + 1]!;
    const length = (b[p + 2]! << 8) | b[p + 3]!;
    out.push({ at: p, marker, length });
    if (marker === 0xda) break;
    p += 2 + length;
  }
  return out;
}

function mutateJpeg(seed: Uint8Array, r: () => number): Uint8Array {
  const b = seed.slice();
  const segments = jpegSegments(b);
  const sos = segments[segments.length - 1]!;
  const scanStart = sos.at + 2 + sos.length;
  const pick = <T,>(xs: T[]) => xs[Math.floor(r() * xs.length)]!;
  const kind = Math.floor(r() * 8);
  switch (kind) {
    case 0:
      for (let n = 1 + Math.floor(r() * 8); n > 0; n--) { const i = Math.floor(r() * b.length); b[i]! ^= 1 << Math.floor(r() * 8); }
      return b;
    case 1:
      for (let n = 1 + Math.floor(r() * 4); n > 0; n--) b[Math.floor(r() * b.length)] = Math.floor(r() * 256);
      return b;
    case 2:
      return b.subarray(0, Math.floor(r() * b.length));
    case 3: { // huge or odd declared size, precision, components or sampling in SOF
      const sof = segments.find((s) => s.marker >= 0xc0 && s.marker <= 0xc2)!;
      const h = r() < 0.5 ? pick([0, 1, 65535, 30000, 8]) : Math.floor(r() * 65536);
      const w = r() < 0.5 ? pick([0, 1, 65535, 30000, 8]) : Math.floor(r() * 65536);
      b.set([h >> 8, h & 255, w >> 8, w & 255], sof.at + 5);
      if (r() < 0.3) b[sof.at + 4] = pick([8, 12, 16, 0]);
      if (r() < 0.3) b[sof.at + 9] = pick([0, 1, 2, 3, 4, 5, 255]);
      if (r() < 0.3) b[sof.at + 11] = Math.floor(r() * 256);
      return b;
    }
    case 4: { // a segment length lies
      const s = pick(segments);
      const length = r() < 0.5 ? pick([0, 1, 2, 65535]) : Math.max(0, s.length + Math.floor((r() - 0.5) * 40));
      b[s.at + 2] = length >> 8;
      b[s.at + 3] = length & 255;
      return b;
    }
    case 5: { // damage the entropy-coded scan data only
      for (let n = 1 + Math.floor(r() * 6); n > 0; n--) {
        const i = scanStart + Math.floor(r() * (b.length - scanStart - 2));
        b[i] = r() < 0.5 ? b[i]! ^ (1 << Math.floor(r() * 8)) : Math.floor(r() * 256);
      }
      return b;
    }
    case 6: { // damage Huffman / quantisation tables
      const tables = segments.filter((s) => s.marker === 0xc4 || s.marker === 0xdb);
      const s = pick(tables);
      for (let n = 1 + Math.floor(r() * 4); n > 0; n--) b[s.at + 4 + Math.floor(r() * (s.length - 2))] = Math.floor(r() * 256);
      return b;
    }
    default: { // insert a stray marker into the scan data
      const i = scanStart + Math.floor(r() * (b.length - scanStart));
      const out = new Uint8Array(b.length + 2);
      out.set(b.subarray(0, i));
      out.set([0xff, pick([0xd0, 0xd9, 0xda, 0xc4, 0xdd, 0xff, 0x00, 0xe1])], i);
      out.set(b.subarray(i), i + 2);
      return out;
    }
  }
}

describe('decodeImage under fuzzing', () => {
  it('throws only typed errors on 12,000 mutated PNG and JPEG files, fast and with bounded memory', () => {
    const CASES = 12_000;
    const r = rng(20261127);
    const tally = { decoded: 0, decodeError: 0, limitError: 0 };
    const unexpected: string[] = []; // our own bugs that decodeImage's last-resort wrapper caught
    let slowest = 0;
    const before = process.memoryUsage();
    let peakRss = before.rss;
    const t0 = performance.now();
    for (let n = 0; n < CASES; n++) {
      const isPng = n % 2 === 0;
      const seeds = isPng ? PNG_SEEDS : JPEG_SEEDS;
      const seed = seeds[Math.floor(r() * seeds.length)]!;
      const bytes = isPng ? mutatePng(seed, r) : mutateJpeg(seed, r);
      const start = performance.now();
      try {
        // A service's limits: a quarter megapixel, 8 MB of working memory.
        const image = decodeImage(bytes, { maxPixels: 250_000, maxMemoryBytes: 8 * 1024 * 1024 });
        expect(image.data.length).toBe(image.width * image.height * 4);
        tally.decoded++;
      } catch (e) {
        if (e instanceof ImageLimitError) tally.limitError++;
        else if (e instanceof ImageDecodeError) {
          tally.decodeError++;
          // Our own words only: every message names decodeImage and what is wrong; none is a caught bug.
          if (/could not decode this/.test(e.message) || !/^decodeImage: (corrupt|unsupported|unrecognised)/.test(e.message)) {
            unexpected.push(`case ${n}: ${e.message}`);
          }
        }
        else throw new Error(`case ${n} (${isPng ? 'PNG' : 'JPEG'}) threw an untyped ${(e as Error)?.name}: ${(e as Error)?.message}`);
      }
      slowest = Math.max(slowest, performance.now() - start);
      if (n % 500 === 0) peakRss = Math.max(peakRss, process.memoryUsage().rss);
    }
    const seconds = (performance.now() - t0) / 1000;
    const after = process.memoryUsage();
    console.log(
      `fuzz: ${CASES} cases in ${seconds.toFixed(1)} s; decoded ${tally.decoded}, ImageDecodeError ${tally.decodeError}, ` +
        `ImageLimitError ${tally.limitError}; slowest case ${slowest.toFixed(0)} ms; ` +
        `heap ${(before.heapUsed / 2 ** 20).toFixed(0)} -> ${(after.heapUsed / 2 ** 20).toFixed(0)} MB, peak RSS ${(peakRss / 2 ** 20).toFixed(0)} MB`,
    );
    // No exception escaped our own checks, every path was exercised, nothing hung, memory did not run away.
    expect(unexpected.slice(0, 5)).toEqual([]);
    expect(tally.decoded).toBeGreaterThan(100);
    expect(tally.decodeError).toBeGreaterThan(1000);
    expect(tally.limitError).toBeGreaterThan(50);
    expect(slowest).toBeLessThan(2000);
    expect(after.heapUsed - before.heapUsed).toBeLessThan(200 * 2 ** 20);
    expect(peakRss - before.rss).toBeLessThan(600 * 2 ** 20);
  });

  it('rejects huge declared sizes with the default limits before allocating', () => {
    const r = rng(7);
    const before = process.memoryUsage().rss;
    for (let n = 0; n < 400; n++) {
      const isPng = n % 2 === 0;
      const b = (isPng ? PNG_SEEDS[0]! : JPEG_SEEDS[0]!).slice();
      if (isPng) {
        const v = new DataView(b.buffer);
        v.setUint32(16, 8000 + Math.floor(r() * 100000));
        v.setUint32(20, 8000 + Math.floor(r() * 100000));
        v.setUint32(29, crc32(b, 12, 29));
      } else {
        const sof = jpegSegments(b).find((s) => s.marker === 0xc0)!;
        const h = 7100 + Math.floor(r() * 58000);
        const w = 7100 + Math.floor(r() * 58000);
        b.set([h >> 8, h & 255, w >> 8, w & 255], sof.at + 5);
      }
      expect(() => decodeImage(b)).toThrow(ImageLimitError);
    }
    expect(process.memoryUsage().rss - before).toBeLessThan(100 * 2 ** 20);
  });
});
