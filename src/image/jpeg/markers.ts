/**
 * The marker segments of a JPEG file: finding them, and reading the frame
 * header (SOF), quantisation tables (DQT), Huffman tables (DHT), restart
 * interval (DRI) and scan headers (SOS), with libjpeg-turbo's checks. Every
 * failure is an ImageDecodeError that says what is wrong.
 */
import { ImageDecodeError } from '../errors.js';
import { ZIGZAG } from '../jpeg-tables.js';
import { buildHuffmanTable, type HuffmanTable } from './huffman.js';

export function fail(what: string): never {
  throw new ImageDecodeError(`decodeImage: corrupt JPEG: ${what}`);
}

export function unsupported(what: string): never {
  throw new ImageDecodeError(
    `decodeImage: unsupported JPEG: ${what}; baseline and progressive Huffman-coded JPEGs with 8-bit samples are supported`,
  );
}

export const SOI = 0xd8;
export const EOI = 0xd9;
export const SOS = 0xda;
export const DQT = 0xdb;
export const DHT = 0xc4;
export const DRI = 0xdd;

/** Markers that stand alone, without a length field: TEM, RST0-7, SOI, EOI. */
export function isStandalone(marker: number): boolean {
  return marker === 0x01 || (marker >= 0xd0 && marker <= 0xd9);
}

const UNSUPPORTED_FRAMES: Record<number, string> = {
  0xc3: 'lossless (SOF3)',
  0xc5: 'hierarchical (SOF5)',
  0xc6: 'hierarchical progressive (SOF6)',
  0xc7: 'hierarchical lossless (SOF7)',
  0xc8: 'the reserved JPG marker (0xFFC8)',
  0xc9: 'arithmetic-coded (SOF9)',
  0xca: 'arithmetic-coded progressive (SOF10)',
  0xcb: 'arithmetic-coded lossless (SOF11)',
  0xcd: 'hierarchical arithmetic (SOF13)',
  0xce: 'hierarchical arithmetic progressive (SOF14)',
  0xcf: 'hierarchical arithmetic lossless (SOF15)',
};

/** Fails for a frame type we do not decode (lossless, hierarchical, arithmetic-coded). */
export function checkFrameType(marker: number): void {
  const name = UNSUPPORTED_FRAMES[marker];
  if (name !== undefined) unsupported(name);
}

/**
 * The next marker at or after `p`: skips bytes that are not 0xFF (stray
 * data, as libjpeg's next_marker does with a warning) and 0xFF fill bytes.
 * Returns the marker code and the offset just past it, or null at the end.
 */
export function findMarker(bytes: Uint8Array, p: number): { marker: number; pos: number } | null {
  for (;;) {
    while (p < bytes.length && bytes[p] !== 0xff) p++;
    while (p < bytes.length && bytes[p] === 0xff) p++;
    if (p >= bytes.length) return null;
    const marker = bytes[p++]!;
    if (marker !== 0) return { marker, pos: p };
  }
}

/** The data of the segment whose length field is at `pos`, and the offset after it. */
export function segmentAt(bytes: Uint8Array, marker: number, pos: number): { data: Uint8Array; end: number } {
  const name = `segment 0xFF${marker.toString(16).toUpperCase()}`;
  if (pos + 2 > bytes.length) fail(`the file ends inside the length of ${name}`);
  const length = (bytes[pos]! << 8) | bytes[pos + 1]!;
  if (length < 2) fail(`${name} at byte ${pos} declares length ${length}`);
  if (pos + length > bytes.length) fail(`${name} at byte ${pos} declares ${length} bytes; only ${bytes.length - pos} remain`);
  return { data: bytes.subarray(pos + 2, pos + length), end: pos + length };
}

export interface FrameComponent {
  id: number;
  /** Position in the frame header. */
  index: number;
  h: number;
  v: number;
  quantTable: number;
  /** The component's size in samples: ceil(image size * factor / largest factor). */
  width: number;
  height: number;
  /** Blocks holding real samples. */
  widthInBlocks: number;
  heightInBlocks: number;
  /** Blocks stored: whole MCUs, so that interleaved scans can write their padding blocks. */
  blocksPerLine: number;
  blocksPerColumn: number;
}

export interface Frame {
  width: number;
  height: number;
  progressive: boolean;
  components: FrameComponent[];
  hMax: number;
  vMax: number;
  /** MCUs of an interleaved scan. */
  mcusX: number;
  mcusY: number;
}

/** Reads and checks a SOF0/1/2 segment's data. */
export function parseFrame(sof: Uint8Array, progressive: boolean): Frame {
  if (sof.length < 6) fail(`the frame header has ${sof.length} bytes; it needs at least 6`);
  const precision = sof[0]!;
  const height = (sof[1]! << 8) | sof[2]!;
  const width = (sof[3]! << 8) | sof[4]!;
  const count = sof[5]!;
  if (precision !== 8) unsupported(`${precision}-bit samples`);
  if (height === 0) unsupported('the height is defined later by a DNL marker (height 0 in SOF)');
  if (width === 0) fail('the frame header declares width 0');
  if (count !== 1 && count !== 3 && count !== 4) unsupported(`${count} colour components (1, 3 or 4 are read)`);
  if (sof.length < 6 + count * 3) fail(`the frame header is too short for ${count} components`);
  const parts: { id: number; h: number; v: number; quantTable: number }[] = [];
  for (let i = 0; i < count; i++) {
    const id = sof[6 + i * 3]!;
    const hv = sof[7 + i * 3]!;
    const quantTable = sof[8 + i * 3]!;
    const h = hv >> 4;
    const v = hv & 15;
    if (h < 1 || h > 4 || v < 1 || v > 4) fail(`component ${i} has sampling factors ${h}x${v}; each must be 1-4`);
    if (quantTable > 3) fail(`component ${i} uses quantisation table ${quantTable}; tables are numbered 0-3`);
    if (parts.some((c) => c.id === id)) fail(`two components have the id ${id}`);
    parts.push({ id, h, v, quantTable });
  }
  const hMax = Math.max(...parts.map((c) => c.h));
  const vMax = Math.max(...parts.map((c) => c.v));
  const mcusX = Math.ceil(width / (8 * hMax));
  const mcusY = Math.ceil(height / (8 * vMax));
  const components = parts.map((c, index): FrameComponent => {
    // libjpeg's upsampler handles whole ratios only (JERR_FRACT_SAMPLE_NOTIMPL).
    if (hMax % c.h !== 0 || vMax % c.v !== 0) {
      unsupported(`component ${index} is sampled ${c.h}x${c.v} against a largest ${hMax}x${vMax}, not a whole ratio`);
    }
    const cw = Math.ceil((width * c.h) / hMax);
    const ch = Math.ceil((height * c.v) / vMax);
    return {
      ...c,
      index,
      width: cw,
      height: ch,
      widthInBlocks: Math.ceil(cw / 8),
      heightInBlocks: Math.ceil(ch / 8),
      blocksPerLine: mcusX * c.h,
      blocksPerColumn: mcusY * c.v,
    };
  });
  return { width, height, progressive, components, hMax, vMax, mcusX, mcusY };
}

/** Reads a DQT segment into `tables` (natural order). */
export function parseQuantTables(data: Uint8Array, tables: (Uint16Array | null)[]): void {
  let p = 0;
  while (p < data.length) {
    const pq = data[p]! >> 4;
    const tq = data[p]! & 15;
    p++;
    if (pq > 1) fail(`a quantisation table has precision ${pq}; 0 (8-bit) or 1 (16-bit) is allowed`);
    if (tq > 3) fail(`a quantisation table is numbered ${tq}; tables are numbered 0-3`);
    const size = pq === 0 ? 64 : 128;
    if (p + size > data.length) fail('a DQT segment is shorter than its tables');
    const table = new Uint16Array(64);
    for (let k = 0; k < 64; k++) table[ZIGZAG[k]!] = pq === 0 ? data[p + k]! : (data[p + 2 * k]! << 8) | data[p + 2 * k + 1]!;
    tables[tq] = table;
    p += size;
  }
}

/** Reads a DHT segment into the DC and AC table slots. */
export function parseHuffmanTables(data: Uint8Array, dc: (HuffmanTable | null)[], ac: (HuffmanTable | null)[]): void {
  let p = 0;
  while (p < data.length) {
    if (p + 17 > data.length) fail('a DHT segment is shorter than its code counts');
    const tc = data[p]! >> 4;
    const th = data[p]! & 15;
    if (tc > 1 || th > 3) fail(`a Huffman table has class ${tc} and number ${th}; class 0-1 and number 0-3 are allowed`);
    const counts = data.subarray(p + 1, p + 17);
    let total = 0;
    for (let i = 0; i < 16; i++) total += counts[i]!;
    if (total > 256) fail(`a Huffman table declares ${total} codes; at most 256 exist`);
    p += 17;
    if (p + total > data.length) fail('a DHT segment is shorter than its symbols');
    const table = buildHuffmanTable(counts, data.subarray(p, p + total), tc === 0);
    (tc === 0 ? dc : ac)[th] = table;
    p += total;
  }
}

export function parseRestartInterval(data: Uint8Array): number {
  if (data.length !== 2) fail(`a DRI segment has ${data.length} bytes of data; it needs 2`);
  return (data[0]! << 8) | data[1]!;
}

export interface ScanHeader {
  components: FrameComponent[];
  dcTables: number[];
  acTables: number[];
  ss: number;
  se: number;
  ah: number;
  al: number;
}

/** Reads a SOS segment's data against the frame. */
export function parseScanHeader(data: Uint8Array, frame: Frame): ScanHeader {
  const n = data[0] ?? 0;
  if (n < 1 || n > 4) fail(`a scan has ${n} components; 1 to 4 are allowed`);
  if (data.length !== 4 + 2 * n) fail(`a scan header of ${n} components has ${data.length} bytes; it needs ${4 + 2 * n}`);
  const components: FrameComponent[] = [];
  const dcTables: number[] = [];
  const acTables: number[] = [];
  let blocks = 0;
  for (let i = 0; i < n; i++) {
    const id = data[1 + 2 * i]!;
    const c = frame.components.find((fc) => fc.id === id);
    if (!c) fail(`a scan names component id ${id}, which the frame does not have`);
    if (components.includes(c)) fail(`a scan names component id ${id} twice`);
    components.push(c);
    dcTables.push(data[2 + 2 * i]! >> 4);
    acTables.push(data[2 + 2 * i]! & 15);
    blocks += n === 1 ? 1 : c.h * c.v;
  }
  // libjpeg's D_MAX_BLOCKS_IN_MCU.
  if (blocks > 10) fail(`an interleaved scan has ${blocks} blocks per MCU; at most 10 are allowed`);
  for (const t of [...dcTables, ...acTables]) if (t > 3) fail(`a scan uses Huffman table ${t}; tables are numbered 0-3`);
  const ss = data[1 + 2 * n]!;
  const se = data[2 + 2 * n]!;
  const ah = data[3 + 2 * n]! >> 4;
  const al = data[3 + 2 * n]! & 15;
  if (frame.progressive) checkProgression(ss, se, ah, al, n);
  return { components, dcTables, acTables, ss, se, ah, al };
}

/** libjpeg's JERR_BAD_PROGRESSION checks on a progressive scan's spectral band and bit positions. */
function checkProgression(ss: number, se: number, ah: number, al: number, n: number): void {
  const bad =
    (ss === 0 ? se !== 0 : ss > se || se > 63 || n !== 1) || (ah !== 0 && al !== ah - 1) || al > 13;
  if (bad) fail(`a progressive scan has the invalid parameters Ss=${ss} Se=${se} Ah=${ah} Al=${al} for ${n} component(s)`);
}
