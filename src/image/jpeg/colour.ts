/**
 * Colour conversion to RGBA, row by row: libjpeg-turbo's YCbCr -> RGB with
 * the integer tables of jdcolor.c (16-bit fixed point), its YCCK -> CMYK,
 * and for CMYK what Pillow does next (an Adobe file's inverted CMYK,
 * then Image.convert('RGB')).
 */

/** How the components are to be read, chosen as libjpeg's default_decompress_parms does. */
export type JpegColourSpace = 'grey' | 'ycbcr' | 'rgb' | 'cmyk' | 'ycck';

const SCALEBITS = 16;
const ONE_HALF = 1 << (SCALEBITS - 1);
const fix = (x: number) => Math.floor(x * (1 << SCALEBITS) + 0.5);

/** jdcolor.c's build_ycc_rgb_table: Cr -> R, Cb -> B (rounded), and the two scaled G terms (ONE_HALF folded into Cb -> G). */
const [CR_R, CB_B, CR_G, CB_G] = /* @__PURE__ */ (() => {
  const tables = [new Int32Array(256), new Int32Array(256), new Int32Array(256), new Int32Array(256)] as const;
  for (let i = 0; i < 256; i++) {
    const x = i - 128;
    tables[0][i] = (fix(1.402) * x + ONE_HALF) >> SCALEBITS;
    tables[1][i] = (fix(1.772) * x + ONE_HALF) >> SCALEBITS;
    tables[2][i] = -fix(0.71414) * x;
    tables[3][i] = -fix(0.34414) * x + ONE_HALF;
  }
  return tables;
})();

const clamp = (v: number) => (v < 0 ? 0 : v > 255 ? 255 : v);

export interface RowRef {
  samples: Uint8Array;
  at: number;
}

/** Writes `width` RGBA pixels of one output row at `o` from the components' full-width rows. */
export function convertRow(space: JpegColourSpace, rows: RowRef[], width: number, out: Uint8ClampedArray, o: number): void {
  const r0 = rows[0]!;
  const a = r0.samples;
  const ai = r0.at;
  if (space === 'grey') {
    for (let x = 0; x < width; x++, o += 4) {
      const v = a[ai + x]!;
      out[o] = v;
      out[o + 1] = v;
      out[o + 2] = v;
      out[o + 3] = 255;
    }
    return;
  }
  const b = rows[1]!.samples;
  const bi = rows[1]!.at;
  const c = rows[2]!.samples;
  const ci = rows[2]!.at;
  if (space === 'rgb') {
    for (let x = 0; x < width; x++, o += 4) {
      out[o] = a[ai + x]!;
      out[o + 1] = b[bi + x]!;
      out[o + 2] = c[ci + x]!;
      out[o + 3] = 255;
    }
    return;
  }
  if (space === 'ycbcr') {
    for (let x = 0; x < width; x++, o += 4) {
      const y = a[ai + x]!;
      const cb = b[bi + x]!;
      const cr = c[ci + x]!;
      out[o] = y + CR_R[cr]!;
      out[o + 1] = y + ((CB_G[cb]! + CR_G[cr]!) >> SCALEBITS);
      out[o + 2] = y + CB_B[cb]!;
      out[o + 3] = 255;
    }
    return;
  }
  const k = rows[3]!.samples;
  const ki = rows[3]!.at;
  for (let x = 0; x < width; x++, o += 4) {
    let c0 = a[ai + x]!;
    let c1 = b[bi + x]!;
    let c2 = c[ci + x]!;
    if (space === 'ycck') {
      // ycck_cmyk_convert: YCbCr -> RGB, each inverted; K as stored.
      const y = c0;
      const cb = c1;
      const cr = c2;
      c0 = 255 - clamp(y + CR_R[cr]!);
      c1 = 255 - clamp(y + ((CB_G[cb]! + CR_G[cr]!) >> SCALEBITS));
      c2 = 255 - clamp(y + CB_B[cb]!);
    }
    // Pillow reads JPEG CMYK as Adobe's inverted CMYK ("CMYK;I") and
    // converts with cmyk2rgb: nk - nk * ink / 255, rounded as MULDIV255.
    const nk = k[ki + x]!; // 255 - (255 - stored K)
    out[o] = nk - mulDiv255(255 - c0, nk);
    out[o + 1] = nk - mulDiv255(255 - c1, nk);
    out[o + 2] = nk - mulDiv255(255 - c2, nk);
    out[o + 3] = 255;
  }
}

/** Pillow's MULDIV255: a * b / 255 rounded, in integers. */
function mulDiv255(a: number, b: number): number {
  const t = a * b + 128;
  return ((t >> 8) + t) >> 8;
}
