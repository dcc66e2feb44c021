/**
 * Decoding one scan's entropy-coded data into the frame's coefficient
 * buffers: sequential (jdhuff.c) and the four progressive kinds (jdphuff.c:
 * DC first and refinement, AC first and refinement), with restart markers
 * and libjpeg-turbo's recovery when they are missing or out of order
 * (jpeg_resync_to_restart). Coefficients are stored as 16-bit integers in
 * natural order, as libjpeg's JCOEF, so that overflow wraps the same way.
 */
import { ZIGZAG } from '../jpeg-tables.js';
import { EntropyReader, extend } from './entropy-reader.js';
import { decodeSymbol, type HuffmanTable } from './huffman.js';
import { fail, type Frame, type FrameComponent, type ScanHeader } from './markers.js';

/** Zig-zag position -> natural position, with libjpeg's 16 extra entries that absorb corrupt runs past 63. */
const NATURAL = Int32Array.from([...ZIGZAG, ...new Array<number>(16).fill(63)]);

export interface ScanTables {
  dc: (HuffmanTable | null)[];
  ac: (HuffmanTable | null)[];
}

type BlockDecoder = (coefs: Int16Array, at: number, scanIndex: number) => void;

/**
 * Decodes the scan whose data starts at `start`; `coefs` holds each frame
 * component's coefficients. Returns the marker that ended the scan and the
 * offset after it (null if the file ends there), and the last iMCU row
 * decoded from real data.
 */
export function decodeScan(
  bytes: Uint8Array,
  start: number,
  frame: Frame,
  scan: ScanHeader,
  tables: ScanTables,
  coefs: Int16Array[],
  restartInterval: number,
): { next: { marker: number; pos: number } | null; lastGoodRow: number } {
  const reader = new EntropyReader(bytes, start);
  const n = scan.components.length;
  const table = (kind: 'dc' | 'ac', i: number): HuffmanTable => {
    const number = kind === 'dc' ? scan.dcTables[i]! : scan.acTables[i]!;
    const t = tables[kind][number];
    if (!t) fail(`a scan uses ${kind.toUpperCase()} Huffman table ${number}, which is not defined`);
    return t;
  };
  const lastDc = new Array<number>(n).fill(0);
  let eobrun = 0;
  let decodeBlock: BlockDecoder;
  const { ss, se, ah, al } = scan;

  if (!frame.progressive) {
    const dc = scan.components.map((_, i) => table('dc', i));
    const ac = scan.components.map((_, i) => table('ac', i));
    decodeBlock = (c, at, i) => {
      let s = decodeSymbol(reader, dc[i]!);
      const diff = s === 0 ? 0 : extend(reader.getBits(s), s);
      lastDc[i] = checkedDc(lastDc[i]! + diff);
      c[at] = lastDc[i]!;
      const actable = ac[i]!;
      for (let k = 1; k < 64; k++) {
        s = decodeSymbol(reader, actable);
        const r = s >> 4;
        s &= 15;
        if (s !== 0) {
          k += r;
          c[at + NATURAL[k]!] = extend(reader.getBits(s), s);
        } else {
          if (r !== 15) break;
          k += 15;
        }
      }
    };
  } else if (ss === 0 && ah === 0) {
    const dc = scan.components.map((_, i) => table('dc', i));
    decodeBlock = (c, at, i) => {
      const s = decodeSymbol(reader, dc[i]!);
      const diff = s === 0 ? 0 : extend(reader.getBits(s), s);
      lastDc[i] = checkedDc(lastDc[i]! + diff);
      c[at] = lastDc[i]! * (1 << al);
    };
  } else if (ss === 0) {
    decodeBlock = (c, at) => {
      if (reader.getBit()) c[at] = c[at]! | (1 << al);
    };
  } else if (ah === 0) {
    const ac = table('ac', 0);
    decodeBlock = (c, at) => {
      if (eobrun > 0) {
        eobrun--;
        return;
      }
      for (let k = ss; k <= se; k++) {
        let s = decodeSymbol(reader, ac);
        const r = s >> 4;
        s &= 15;
        if (s !== 0) {
          k += r;
          c[at + NATURAL[k]!] = extend(reader.getBits(s), s) * (1 << al);
        } else if (r === 15) {
          k += 15;
        } else {
          eobrun = (1 << r) + reader.getBits(r) - 1;
          break;
        }
      }
    };
  } else {
    const ac = table('ac', 0);
    decodeBlock = (c, at) => refineAc(reader, ac, c, at, ss, se, al, eobrun, (e) => (eobrun = e));
  }

  const single = n === 1;
  const first = scan.components[0]!;
  const mcusX = single ? first.widthInBlocks : frame.mcusX;
  const total = single ? first.widthInBlocks * first.heightInBlocks : frame.mcusX * frame.mcusY;
  let restartsToGo = restartInterval;
  let nextRestart = 0;
  let lastGoodRow = 0;
  for (let m = 0; m < total; m++) {
    const mx = m % mcusX;
    const my = (m - mx) / mcusX;
    // The iMCU row reached with real data (libjpeg's last_good_iMCU_row, which block smoothing reads).
    if (!reader.insufficient) lastGoodRow = single ? Math.floor(my / first.v) : my;
    if (restartInterval > 0) {
      if (restartsToGo === 0) {
        readRestart(reader, nextRestart);
        nextRestart = (nextRestart + 1) & 7;
        lastDc.fill(0);
        eobrun = 0;
        restartsToGo = restartInterval;
      }
      restartsToGo--;
    }
    // Past a marker, the rest of the segment keeps what it has (libjpeg's insufficient_data).
    if (reader.insufficient) continue;
    if (single) {
      decodeBlock(coefs[first.index]!, (my * first.blocksPerLine + mx) * 64, 0);
      continue;
    }
    for (let i = 0; i < n; i++) {
      const comp: FrameComponent = scan.components[i]!;
      const c = coefs[comp.index]!;
      for (let by = 0; by < comp.v; by++) {
        const row = (my * comp.v + by) * comp.blocksPerLine + mx * comp.h;
        for (let bx = 0; bx < comp.h; bx++) decodeBlock(c, (row + bx) * 64, i);
      }
    }
  }
  const marker = reader.nextMarker();
  return { next: marker < 0 ? null : { marker, pos: reader.pos }, lastGoodRow };
}

/** libjpeg stops with JERR_BAD_DCT_COEF when a DC prediction leaves the int range. */
function checkedDc(v: number): number {
  if (v > 0x7fffffff || v < -0x80000000) fail('a DC coefficient overflows');
  return v;
}

/** decode_mcu_AC_refine for one block; `eobrun` comes in and goes out through `setEobrun`. */
function refineAc(
  reader: EntropyReader,
  ac: HuffmanTable,
  c: Int16Array,
  at: number,
  ss: number,
  se: number,
  al: number,
  eobrun: number,
  setEobrun: (e: number) => void,
): void {
  const p1 = 1 << al;
  const m1 = -1 << al;
  let k = ss;
  if (eobrun === 0) {
    for (; k <= se; k++) {
      let s = decodeSymbol(reader, ac);
      let r = s >> 4;
      s &= 15;
      if (s !== 0) {
        // The size of a newly non-zero coefficient is always 1 (libjpeg warns otherwise and goes on).
        s = reader.getBit() ? p1 : m1;
      } else if (r !== 15) {
        eobrun = (1 << r) + reader.getBits(r);
        break;
      }
      // Skip r zero coefficients, appending a correction bit to each non-zero one passed.
      do {
        const z = at + NATURAL[k]!;
        const v = c[z]!;
        if (v !== 0) {
          if (reader.getBit() && (v & p1) === 0) c[z] = v >= 0 ? v + p1 : v + m1;
        } else if (--r < 0) {
          break;
        }
        k++;
      } while (k <= se);
      if (s !== 0) c[at + NATURAL[k]!] = s;
    }
  }
  if (eobrun > 0) {
    // Correction bits for the non-zero coefficients of the rest of the band.
    for (; k <= se; k++) {
      const z = at + NATURAL[k]!;
      const v = c[z]!;
      if (v !== 0 && reader.getBit() && (v & p1) === 0) c[z] = v >= 0 ? v + p1 : v + m1;
    }
    eobrun--;
  }
  setEobrun(eobrun);
}

/**
 * Reads the restart marker expected next (RST0 + `expected`); when another
 * marker stands there, recovers as jpeg_resync_to_restart does: a marker
 * that is no restart, or one of the next two restarts, is left for later
 * (the segment then reads as empty); an earlier restart or an invalid
 * marker is skipped; anything else is taken as the expected one.
 */
function readRestart(reader: EntropyReader, expected: number): void {
  let marker = reader.nextMarker();
  for (;;) {
    if (marker < 0) fail('the file ends inside the image data (truncated)');
    if (marker === 0xd0 + expected) {
      reader.acceptMarker();
      return;
    }
    let action: 'take' | 'skip' | 'leave';
    if (marker < 0xc0) action = 'skip';
    else if (marker < 0xd0 || marker > 0xd7) action = 'leave';
    else if (marker === 0xd0 + ((expected + 1) & 7) || marker === 0xd0 + ((expected + 2) & 7)) action = 'leave';
    else if (marker === 0xd0 + ((expected - 1) & 7) || marker === 0xd0 + ((expected - 2) & 7)) action = 'skip';
    else action = 'take';
    if (action === 'leave') return;
    if (action === 'take') {
      reader.acceptMarker();
      return;
    }
    reader.marker = -1;
    marker = reader.nextMarker();
  }
}
