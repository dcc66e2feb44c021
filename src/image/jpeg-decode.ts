/**
 * JPEG decoding to the pixels libjpeg-turbo gives by default, and so Pillow,
 * OpenCV and browsers: baseline, extended sequential and progressive
 * Huffman-coded files, any whole-ratio chroma sampling (4:4:4, 4:2:2,
 * 4:2:0, 4:4:0, 4:1:1), restart markers, grey, YCbCr, RGB, CMYK and YCCK.
 * The steps are libjpeg-turbo's integer ones (jpeg/): Huffman decoding,
 * the islow IDCT, fancy upsampling, its YCbCr -> RGB tables.
 *
 * Our own decoder rather than jpeg-js: jpeg-js replicates chroma and rounds
 * its IDCT differently, so colour edges came out up to 86 levels away from
 * what PyTorch's loaders read; and its errors were its own text.
 *
 * A first walk over the markers up to the frame header checks the size
 * limits before anything is allocated.
 */
import { ArgumentError } from '../tensor/errors.js';
import { exifOrientation, isExifBlock } from './exif.js';
import { convertRow, type JpegColourSpace, type RowRef } from './jpeg/colour.js';
import { buildHuffmanTable, type HuffmanTable } from './jpeg/huffman.js';
import { idctIslow } from './jpeg/idct.js';
import {
  checkFrameType,
  DHT,
  DQT,
  DRI,
  EOI,
  fail,
  findMarker,
  isStandalone,
  parseFrame,
  parseHuffmanTables,
  parseQuantTables,
  parseRestartInterval,
  parseScanHeader,
  segmentAt,
  SOI,
  SOS,
  type Frame,
} from './jpeg/markers.js';
import { decodeScan } from './jpeg/scan.js';
import { newProgression, recordScan, smoothComponent, smoothingLatch, type Progression } from './jpeg/smoothing.js';
import { rowUpsampler } from './jpeg/upsample.js';
import { AC_CHROMA, AC_LUMA, DC_CHROMA, DC_LUMA } from './jpeg-tables.js';
import { checkLimits, type ResolvedLimits } from './limits.js';
import { createImage, type RgbaImage } from './types.js';

const FN = 'decodeImage';

export interface JpegHeader {
  width: number;
  height: number;
  components: number;
  progressive: boolean;
  /** EXIF orientation 1-8 (1 when absent). */
  orientation: number;
  /** Bytes the decoder will hold at its peak: coefficients, sample planes and the RGBA output (and its rotated copy). */
  workingBytes: number;
}

const isFrameMarker = (m: number) => m === 0xc0 || m === 0xc1 || m === 0xc2;

/**
 * Walks the marker segments from SOI to the first scan: reads the frame
 * header and the orientation of the first Exif block (as Pillow takes it),
 * and fails unless a scan follows (a file cut before it has no pixels).
 */
export function readJpegHeader(bytes: Uint8Array): JpegHeader {
  if (!(bytes instanceof Uint8Array)) throw new ArgumentError(`readJpegHeader: expected the file as a Uint8Array, got ${Object.prototype.toString.call(bytes)}`);
  if (bytes.length < 4 || bytes[0] !== 0xff || bytes[1] !== SOI) fail('no SOI marker');
  let orientation: number | null = null;
  let frame: Frame | null = null;
  let p = 2;
  for (;;) {
    const found = findMarker(bytes, p);
    if (!found) fail(frame ? 'the file ends before the first scan (SOS): it holds no image data' : 'the file ends before the frame header (SOF)');
    const { marker, pos } = found;
    if (marker === SOS) {
      if (!frame) fail('found SOS before the frame header');
      break;
    }
    if (isStandalone(marker)) {
      if (marker === EOI) fail(frame ? 'EOI comes before the first scan (SOS): the file holds no image data' : 'found EOI before the frame header');
      p = pos;
      continue;
    }
    checkFrameType(marker);
    const { data, end } = segmentAt(bytes, marker, pos);
    if (marker === 0xe1 && orientation === null && isExifBlock(data)) orientation = exifOrientation(data);
    if (isFrameMarker(marker)) {
      if (frame) fail('the file has two frame headers (SOF)');
      frame = parseFrame(data, marker === 0xc2);
    }
    p = end;
  }
  let workingBytes = frame.width * frame.height * 4 * 2;
  // Int16 coefficients and one byte per sample, for every stored block.
  for (const c of frame.components) workingBytes += c.blocksPerLine * c.blocksPerColumn * 64 * 3;
  return {
    width: frame.width,
    height: frame.height,
    components: frame.components.length,
    progressive: frame.progressive,
    orientation: orientation ?? 1,
    workingBytes,
  };
}

/** The Huffman tables 0 and 1 that libjpeg-turbo assumes when a file (Motion JPEG) defines none. */
function standardTables(): { dc: (HuffmanTable | null)[]; ac: (HuffmanTable | null)[] } {
  const t = (spec: { counts: number[]; symbols: number[] }, dc: boolean) => buildHuffmanTable(spec.counts, Uint8Array.from(spec.symbols), dc);
  return { dc: [t(DC_LUMA, true), t(DC_CHROMA, true), null, null], ac: [t(AC_LUMA, false), t(AC_CHROMA, false), null, null] };
}

interface Markers {
  jfif: boolean;
  /** The Adobe APP14 transform flag, or -1 without that segment. */
  adobeTransform: number;
}

/** libjpeg's default_decompress_parms: how to read the components. */
function colourSpaceOf(frame: Frame, m: Markers): JpegColourSpace {
  const n = frame.components.length;
  if (n === 1) return 'grey';
  if (n === 4) return m.adobeTransform === 0 || m.adobeTransform === -1 ? 'cmyk' : 'ycck';
  if (m.jfif) return 'ycbcr';
  if (m.adobeTransform >= 0) return m.adobeTransform === 0 ? 'rgb' : 'ycbcr';
  const [a, b, c] = frame.components.map((x) => x.id);
  return a === 0x52 && b === 0x47 && c === 0x42 ? 'rgb' : 'ycbcr'; // 'R', 'G', 'B'
}

/** Decodes a JPEG to RGBA8 (without applying the orientation; see decodeImage). */
export function decodeJpegRgba(bytes: Uint8Array, limits: ResolvedLimits): { image: RgbaImage; header: JpegHeader } {
  const header = readJpegHeader(bytes);
  checkLimits(FN, 'JPEG', header.width, header.height, header.workingBytes, limits);
  const decoded = decodeCoefficients(bytes);
  return { image: toRgba(decoded.frame, blockSource(decoded), decoded.latched, decoded.space), header };
}

/** What the entropy-coded data holds, ready for the inverse DCT. */
interface Coefficients {
  frame: Frame;
  /** Each component's quantised coefficients, 64 per stored block, natural order. */
  coefs: Int16Array[];
  /** Each component's quantisation table, as latched at its first scan (null: no scan reached it). */
  latched: (Uint16Array | null)[];
  space: JpegColourSpace;
  /** Coefficient states of a progressive file (for block smoothing), else null. */
  progression: Progression | null;
}

/** Reads the segments and scans from SOI to EOI (or the end of a one-scan sequential file). */
function decodeCoefficients(bytes: Uint8Array): Coefficients {
  const quant: (Uint16Array | null)[] = [null, null, null, null];
  const tables = standardTables();
  const markers: Markers = { jfif: false, adobeTransform: -1 };
  let restartInterval = 0;
  let d: Omit<Coefficients, 'space'> | null = null;
  let space: JpegColourSpace | null = null;
  let scans = 0;

  let next = findMarker(bytes, 2);
  while (next) {
    const { marker, pos } = next;
    if (marker === EOI) break;
    if (isStandalone(marker)) {
      if (marker === SOI) fail('a second SOI marker');
      next = findMarker(bytes, pos); // RSTn and TEM outside a scan carry nothing
      continue;
    }
    checkFrameType(marker);
    const { data, end } = segmentAt(bytes, marker, pos);
    next = findMarker(bytes, end);
    if (isFrameMarker(marker)) {
      if (d) fail('the file has two frame headers (SOF)');
      const frame = parseFrame(data, marker === 0xc2);
      d = {
        frame,
        coefs: frame.components.map((c) => new Int16Array(c.blocksPerLine * c.blocksPerColumn * 64)),
        latched: frame.components.map(() => null),
        progression: frame.progressive ? newProgression(frame.components.length) : null,
      };
    } else if (marker === DQT) {
      parseQuantTables(data, quant);
    } else if (marker === DHT) {
      parseHuffmanTables(data, tables.dc, tables.ac);
    } else if (marker === DRI) {
      restartInterval = parseRestartInterval(data);
    } else if (marker === 0xe0 || marker === 0xee) {
      readColourMarker(marker, data, markers);
    } else if (marker === SOS) {
      if (!d) fail('found SOS before the frame header');
      const { frame } = d;
      const scan = parseScanHeader(data, frame);
      space ??= colourSpaceOf(frame, markers);
      latchQuantTables(scan.components, quant, d.latched);
      if (d.progression) recordScan(d.progression, scan.components.map((c) => c.index), scan.ss, scan.se, scan.al);
      const result = decodeScan(bytes, end, frame, scan, tables, d.coefs, restartInterval);
      if (d.progression) d.progression.lastGoodRow = result.lastGoodRow;
      // A sequential file whose first scan holds every component is complete after it: libjpeg
      // hands out its rows during that scan and Pillow stops there, whatever follows.
      if (!frame.progressive && scans === 0 && scan.components.length === frame.components.length) break;
      scans++;
      next = result.next;
    } else if (!(marker >= 0xe0 && marker <= 0xef) && marker !== 0xfe && marker !== 0xdc && marker !== 0xcc) {
      // Not APPn, COM, DNL or DAC: reserved markers (JPGn, DHP, EXP, RES) mean extensions we cannot read.
      fail(`unknown marker 0xFF${marker.toString(16).toUpperCase()} at byte ${pos - 2}`);
    }
  }
  if (!d || !space) fail('the file holds no image data');
  return { ...d, space };
}

/** JFIF (APP0) and Adobe (APP14) segments, which decide how three or four components are read. */
function readColourMarker(marker: number, data: Uint8Array, markers: Markers): void {
  // JFIF: "JFIF\0" and at least 14 bytes, as libjpeg's examine_app0 requires.
  if (marker === 0xe0 && data.length >= 14 && data[0] === 0x4a && data[1] === 0x46 && data[2] === 0x49 && data[3] === 0x46 && data[4] === 0) {
    markers.jfif = true;
  }
  // Adobe: "Adobe" and at least 12 bytes; byte 11 is the colour transform.
  if (marker === 0xee && data.length >= 12 && data[0] === 0x41 && data[1] === 0x64 && data[2] === 0x6f && data[3] === 0x62 && data[4] === 0x65) {
    markers.adobeTransform = data[11]!;
  }
}

/** libjpeg latches a component's quantisation table at the first scan that holds it; later DQTs do not change it. */
function latchQuantTables(components: Frame['components'], quant: (Uint16Array | null)[], latched: (Uint16Array | null)[]): void {
  for (const c of components) {
    if (latched[c.index]) continue;
    const table = quant[c.quantTable];
    if (!table) fail(`component ${c.index} uses quantisation table ${c.quantTable}, which is not defined`);
    latched[c.index] = table.slice();
  }
}

/** The blocks to inverse-transform: as decoded, or smoothed as libjpeg does when a progressive file ends early. */
function blockSource(d: Coefficients): BlockSource {
  const smoothing = d.progression ? smoothingLatch(d.progression, d.latched) : null;
  if (smoothing) {
    return (ci, visit) => {
      const latch = { current: smoothing.current[ci]!, previous: smoothing.previous[ci]! };
      smoothComponent(d.frame.components[ci]!, d.coefs[ci]!, d.latched[ci]!, latch, d.frame.mcusY, d.progression!.lastGoodRow, (by, bx, block) =>
        visit(by, bx, block, 0),
      );
    };
  }
  return (ci, visit) => {
    const c = d.frame.components[ci]!;
    const coefs = d.coefs[ci]!;
    for (let by = 0; by < c.heightInBlocks; by++) {
      for (let bx = 0; bx < c.widthInBlocks; bx++) visit(by, bx, coefs, (by * c.blocksPerLine + bx) * 64);
    }
  };
}

/** Hands every real block of component `ci` (its coefficients at `at`) to `visit`. */
type BlockSource = (ci: number, visit: (by: number, bx: number, coefs: Int16Array, at: number) => void) => void;

/** Inverse DCT of every component, then upsampling and colour conversion row by row. */
function toRgba(frame: Frame, blocks: BlockSource, latched: (Uint16Array | null)[], space: JpegColourSpace): RgbaImage {
  const { width, height } = frame;
  const zeros = new Int16Array(64); // a component no scan reached decodes as mid-grey, as in libjpeg
  const rows = frame.components.map((c, i) => {
    const stride = c.widthInBlocks * 8;
    const samples = new Uint8Array(stride * c.heightInBlocks * 8);
    const table = latched[i];
    const q = table ? new Int16Array(table) : zeros;
    blocks(i, (by, bx, coef, at) => idctIslow(coef, at, q, samples, by * 8 * stride + bx * 8, stride));
    return rowUpsampler(
      { samples, stride, width: c.width, height: c.height, ratioH: frame.hMax / c.h, ratioV: frame.vMax / c.v },
      width,
    );
  });
  const image = createImage(width, height);
  const refs: RowRef[] = rows.map(() => ({ samples: new Uint8Array(0), at: 0 }));
  for (let y = 0; y < height; y++) {
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i]!(y);
      refs[i]!.samples = r.samples;
      refs[i]!.at = r.at;
    }
    convertRow(space, refs, width, image.data, y * width * 4);
  }
  return image;
}
