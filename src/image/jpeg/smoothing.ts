/**
 * libjpeg-turbo's block smoothing (jdcoefct.c, decompress_smooth_data), on
 * by default: when a progressive file ends before the first nine AC
 * coefficients of some component are complete (its last scans missing, or
 * a scan cut short by a marker), each block's missing low-frequency
 * coefficients are estimated from the DC values of the 5x5 blocks around
 * it, and with no AC data at all the DC values are smoothed too. Ported
 * step for step, quirks at the picture's edges included, so that such
 * files decode to libjpeg's pixels. Complete files are not touched.
 */
import type { FrameComponent } from './markers.js';

/** Which bit each coefficient is known down to after the scans so far: -1 never sent, 0 exact (libjpeg's coef_bits). */
export interface Progression {
  current: Int8Array[];
  /** The same before the latest scan that held each component. */
  previous: Int8Array[];
  scans: number;
  /** The iMCU row of the last block the latest scan decoded from real data. */
  lastGoodRow: number;
}

export function newProgression(components: number): Progression {
  return {
    current: Array.from({ length: components }, () => new Int8Array(64).fill(-1)),
    previous: Array.from({ length: components }, () => new Int8Array(64)),
    scans: 0,
    lastGoodRow: 0,
  };
}

/** start_pass_phuff_decoder's bookkeeping for a progressive scan over components `indices`. */
export function recordScan(p: Progression, indices: number[], ss: number, se: number, al: number): void {
  p.scans++;
  for (const ci of indices) {
    const cur = p.current[ci]!;
    const prev = p.previous[ci]!;
    for (let k = Math.min(ss, 1); k <= Math.max(se, 9); k++) prev[k] = p.scans > 1 ? cur[k]! : 0;
    for (let k = ss; k <= se; k++) cur[k] = al;
  }
}

/** Natural positions of zig-zag coefficients 1..9 (Q01, Q10, Q20, Q11, Q02, Q03, Q12, Q21, Q30). */
const POS = [1, 8, 16, 9, 2, 3, 10, 17, 24] as const;

/** smoothing_ok: the latched coefficient states (current, previous) when smoothing applies, else null. */
export function smoothingLatch(p: Progression, quant: (Uint16Array | null)[]): { current: Int8Array[]; previous: Int8Array[] } | null {
  let useful = false;
  for (let ci = 0; ci < quant.length; ci++) {
    const q = quant[ci];
    if (!q || q[0] === 0 || POS.some((z) => q[z] === 0)) return null;
    const bits = p.current[ci]!;
    if (bits[0]! < 0) return null;
    for (let k = 1; k <= 9; k++) if (bits[k] !== 0) useful = true;
  }
  if (!useful) return null;
  return {
    current: p.current.map((b) => b.slice(0, 10)),
    previous: p.previous.map((b) => (p.scans > 1 ? b.slice(0, 10) : new Int8Array(10).fill(-1))),
  };
}

/**
 * The smoothed coefficients of every block of one component, one block
 * row at a time: `visit(by, bx, block)` gets a 64-coefficient copy to
 * inverse-transform. `rows` is the frame's number of iMCU rows.
 */
export function smoothComponent(
  c: FrameComponent,
  coefs: Int16Array,
  q: Uint16Array,
  latch: { current: Int8Array; previous: Int8Array },
  rows: number,
  lastGoodRow: number,
  visit: (by: number, bx: number, block: Int16Array) => void,
): void {
  const block = new Int16Array(64);
  const dc = new Float64Array(25); // the 5x5 window of DC values, DC01..DC25 of libjpeg at [0..24]
  const lastRow = rows - 1;
  const lastColumn = c.widthInBlocks - 1;
  const dcAt = (row: number, col: number) => coefs[(row * c.blocksPerLine + col) * 64]!;
  for (let by = 0; by < c.heightInBlocks; by++) {
    const r = Math.floor(by / c.v);
    const b = by - r * c.v;
    const blockRows = r < lastRow ? c.v : c.heightInBlocks % c.v || c.v;
    // The neighbouring block rows, chosen as libjpeg does from the iMCU row and the row within it.
    const prev = b > 0 || r > 0 ? by - 1 : by;
    const prevPrev = b > 1 || r > 1 ? by - 2 : prev;
    const next = b < blockRows - 1 || r < lastRow ? by + 1 : by;
    const nextNext = b < blockRows - 2 || r + 1 < lastRow ? by + 2 : next;
    const window = [prevPrev, prev, by, next, nextNext];
    const bits = r > lastGoodRow ? latch.previous : latch.current;
    const changeDc = bits[1] === -1 && bits[2] === -1 && bits[3] === -1 && bits[4] === -1 && bits[5] === -1 &&
      bits[6] === -1 && bits[7] === -1 && bits[8] === -1 && bits[9] === -1;
    for (let i = 0; i < 5; i++) dc.fill(dcAt(window[i]!, 0), i * 5, i * 5 + 5);
    for (let bx = 0; bx <= lastColumn; bx++) {
      block.set(coefs.subarray((by * c.blocksPerLine + bx) * 64, (by * c.blocksPerLine + bx) * 64 + 64));
      for (let i = 0; i < 5; i++) {
        if (bx === 0 && bx < lastColumn) dc[i * 5 + 3] = dcAt(window[i]!, bx + 1);
        if (bx + 1 < lastColumn) dc[i * 5 + 4] = dcAt(window[i]!, bx + 2);
      }
      predict(block, dc, q, bits, changeDc);
      visit(by, bx, block);
      for (let i = 0; i < 5; i++) for (let j = 0; j < 4; j++) dc[i * 5 + j] = dc[i * 5 + j + 1]!;
    }
  }
}

/** The estimate num / (Q << 8), rounded, capped below 2^Al when Al > 0, as libjpeg computes it. */
function estimate(num: number, q: number, al: number): number {
  let pred = Math.floor(((q << 7) + Math.abs(num)) / (q << 8));
  if (al > 0 && pred >= 1 << al) pred = (1 << al) - 1;
  return num >= 0 ? pred : -pred;
}

/** The AC01..AC30 (and, without AC data, DC) estimates of one block; DC01..DC25 is d(1)..d(25). */
function predict(block: Int16Array, w: Float64Array, q: Uint16Array, bits: Int8Array, changeDc: boolean): void {
  const d = (i: number) => w[i - 1]!;
  const q00 = q[0]!;
  const terms: (() => number)[] = [
    () => changeDc
      ? -d(1) - d(2) + d(4) + d(5) - 3 * d(6) + 13 * d(7) - 13 * d(9) + 3 * d(10) - 3 * d(11) + 38 * d(12) - 38 * d(14) +
        3 * d(15) - 3 * d(16) + 13 * d(17) - 13 * d(19) + 3 * d(20) - d(21) - d(22) + d(24) + d(25)
      : -7 * d(11) + 50 * d(12) - 50 * d(14) + 7 * d(15),
    () => changeDc
      ? -d(1) - 3 * d(2) - 3 * d(3) - 3 * d(4) - d(5) - d(6) + 13 * d(7) + 38 * d(8) + 13 * d(9) - d(10) + d(16) -
        13 * d(17) - 38 * d(18) - 13 * d(19) + d(20) + d(21) + 3 * d(22) + 3 * d(23) + 3 * d(24) + d(25)
      : -7 * d(3) + 50 * d(8) - 50 * d(18) + 7 * d(23),
    () => changeDc
      ? d(3) + 2 * d(7) + 7 * d(8) + 2 * d(9) - 5 * d(12) - 14 * d(13) - 5 * d(14) + 2 * d(17) + 7 * d(18) + 2 * d(19) + d(23)
      : -d(3) + 13 * d(8) - 24 * d(13) + 13 * d(18) - d(23),
    () => changeDc
      ? -d(1) + d(5) + 9 * d(7) - 9 * d(9) - 9 * d(17) + 9 * d(19) + d(21) - d(25)
      : d(10) + d(16) - 10 * d(17) + 10 * d(19) - d(2) - d(20) + d(22) - d(24) + d(4) - d(6) + 10 * d(7) - 10 * d(9),
    () => changeDc
      ? 2 * d(7) - 5 * d(8) + 2 * d(9) + d(11) + 7 * d(12) - 14 * d(13) + 7 * d(14) + d(15) + 2 * d(17) - 5 * d(18) + 2 * d(19)
      : -d(11) + 13 * d(12) - 24 * d(13) + 13 * d(14) - d(15),
    () => d(7) - d(9) + 2 * d(12) - 2 * d(14) + d(17) - d(19),
    () => d(7) - 3 * d(8) + d(9) - d(17) + 3 * d(18) - d(19),
    () => d(7) - d(9) - 3 * d(12) + 3 * d(14) + d(17) - d(19),
    () => d(7) + 2 * d(8) + d(9) - d(17) - 2 * d(18) - d(19),
  ];
  const count = changeDc ? 9 : 5; // AC03..AC30 are estimated only along with the DC
  for (let k = 1; k <= count; k++) {
    const z = POS[k - 1]!;
    const al = bits[k]!;
    if (al !== 0 && block[z] === 0) block[z] = estimate(q00 * terms[k - 1]!(), q[z]!, al);
  }
  if (changeDc) {
    const num = q00 * (
      -2 * d(1) - 6 * d(2) - 8 * d(3) - 6 * d(4) - 2 * d(5) - 6 * d(6) + 6 * d(7) + 42 * d(8) + 6 * d(9) - 6 * d(10) -
      8 * d(11) + 42 * d(12) + 152 * d(13) + 42 * d(14) - 8 * d(15) - 6 * d(16) + 6 * d(17) + 42 * d(18) + 6 * d(19) -
      6 * d(20) - 2 * d(21) - 6 * d(22) - 8 * d(23) - 6 * d(24) - 2 * d(25));
    block[0] = estimate(num, q00, 0);
  }
}
