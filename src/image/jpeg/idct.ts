/**
 * libjpeg-turbo's default inverse DCT, jpeg_idct_islow (jidctint.c): the
 * Loeffler-Ligtenberg-Moschytz factorisation in 13-bit fixed point, columns
 * first with 2 extra bits of precision, then rows; dequantisation happens
 * on the way in and the level shift and clamping through its range-limit
 * table on the way out. Integer for integer the same arithmetic as its C
 * code, overflow included, so the samples equal libjpeg-turbo's. (Its SIMD
 * versions, which Pillow uses on x86, give the same samples for any real
 * file; only the out-of-range coefficients of damaged files make them
 * differ from the C code, and then we follow the C code.)
 */

const CONST_BITS = 13;
const PASS1_BITS = 2;
const FIX_0_298631336 = 2446;
const FIX_0_390180644 = 3196;
const FIX_0_541196100 = 4433;
const FIX_0_765366865 = 6270;
const FIX_0_899976223 = 7373;
const FIX_1_175875602 = 9633;
const FIX_1_501321110 = 12299;
const FIX_1_847759065 = 15137;
const FIX_1_961570560 = 16069;
const FIX_2_053119869 = 16819;
const FIX_2_562915447 = 20995;
const FIX_3_072711026 = 25172;

const PASS1_SHIFT = CONST_BITS - PASS1_BITS;
const PASS1_ROUND = 1 << (PASS1_SHIFT - 1);
const PASS2_SHIFT = CONST_BITS + PASS1_BITS + 3;
const PASS2_ROUND = 1 << (PASS2_SHIFT - 1);

/**
 * The post-IDCT range-limit table of jdmaster.c: an output x (before the
 * +128 level shift) becomes LIMIT[x & 1023], that is clamp(x + 128, 0, 255)
 * for x in -512..511 (values further out wrap, as in libjpeg).
 */
const LIMIT = /* @__PURE__ */ (() => {
  const t = new Uint8Array(1024);
  for (let i = 0; i < 1024; i++) {
    const x = i < 512 ? i : i - 1024;
    t[i] = Math.min(255, Math.max(0, x + 128));
  }
  return t;
})();

const workspace = new Int32Array(64);

/**
 * Pass 1's (int)DESCALE(x, 11): libjpeg shifts the 64-bit value, then keeps
 * its low 32 bits. `>>` would keep the low 32 bits first, which differs
 * only for the out-of-range coefficients of damaged files.
 */
function descale1(x: number): number {
  const v = x + PASS1_ROUND;
  return v >= -0x80000000 && v <= 0x7fffffff ? v >> PASS1_SHIFT : Math.floor(v / (1 << PASS1_SHIFT)) | 0;
}

/**
 * Inverse-transforms one block: `coef` holds 64 quantised coefficients in
 * natural order from `coefAt`, `quant` the 64 quantisers in natural order
 * as libjpeg's 16-bit multipliers (so a 16-bit quantiser above 32767 wraps, as there);
 * writes 8 rows of 8 samples to `out` at `outAt`, `stride` bytes apart.
 */
export function idctIslow(coef: Int16Array, coefAt: number, quant: Int16Array, out: Uint8Array, outAt: number, stride: number): void {
  const ws = workspace;
  // Pass 1: columns from the input into the workspace, scaled up by 2^PASS1_BITS.
  for (let c = 0; c < 8; c++) {
    const i = coefAt + c;
    const c1 = coef[i + 8]!, c2 = coef[i + 16]!, c3 = coef[i + 24]!, c4 = coef[i + 32]!;
    const c5 = coef[i + 40]!, c6 = coef[i + 48]!, c7 = coef[i + 56]!;
    if (c1 === 0 && c2 === 0 && c3 === 0 && c4 === 0 && c5 === 0 && c6 === 0 && c7 === 0) {
      const dc = (coef[i]! * quant[c]!) << PASS1_BITS;
      for (let r = 0; r < 64; r += 8) ws[c + r] = dc;
      continue;
    }
    // Even part.
    let z2 = c2 * quant[c + 16]!;
    let z3 = c6 * quant[c + 48]!;
    let z1 = (z2 + z3) * FIX_0_541196100;
    let tmp2 = z1 + z3 * -FIX_1_847759065;
    let tmp3 = z1 + z2 * FIX_0_765366865;
    z2 = coef[i]! * quant[c]!;
    z3 = c4 * quant[c + 32]!;
    let tmp0 = (z2 + z3) * (1 << CONST_BITS);
    let tmp1 = (z2 - z3) * (1 << CONST_BITS);
    const tmp10 = tmp0 + tmp3;
    const tmp13 = tmp0 - tmp3;
    const tmp11 = tmp1 + tmp2;
    const tmp12 = tmp1 - tmp2;
    // Odd part.
    tmp0 = c7 * quant[c + 56]!;
    tmp1 = c5 * quant[c + 40]!;
    tmp2 = c3 * quant[c + 24]!;
    tmp3 = c1 * quant[c + 8]!;
    z1 = tmp0 + tmp3;
    z2 = tmp1 + tmp2;
    z3 = tmp0 + tmp2;
    let z4 = tmp1 + tmp3;
    const z5 = (z3 + z4) * FIX_1_175875602;
    tmp0 *= FIX_0_298631336;
    tmp1 *= FIX_2_053119869;
    tmp2 *= FIX_3_072711026;
    tmp3 *= FIX_1_501321110;
    z1 *= -FIX_0_899976223;
    z2 *= -FIX_2_562915447;
    z3 = z3 * -FIX_1_961570560 + z5;
    z4 = z4 * -FIX_0_390180644 + z5;
    tmp0 += z1 + z3;
    tmp1 += z2 + z4;
    tmp2 += z2 + z3;
    tmp3 += z1 + z4;
    ws[c] = descale1(tmp10 + tmp3);
    ws[c + 56] = descale1(tmp10 - tmp3);
    ws[c + 8] = descale1(tmp11 + tmp2);
    ws[c + 48] = descale1(tmp11 - tmp2);
    ws[c + 16] = descale1(tmp12 + tmp1);
    ws[c + 40] = descale1(tmp12 - tmp1);
    ws[c + 24] = descale1(tmp13 + tmp0);
    ws[c + 32] = descale1(tmp13 - tmp0);
  }
  // Pass 2: rows from the workspace to the output, descaled by 8 and 2^PASS1_BITS.
  // Here `>>` is exact: only the low 10 bits of the shifted value are used, and
  // truncating to 32 bits before shifting keeps them.
  for (let r = 0; r < 64; r += 8) {
    const o = outAt + (r >> 3) * stride;
    const w0 = ws[r]!, w1 = ws[r + 1]!, w2 = ws[r + 2]!, w3 = ws[r + 3]!;
    const w4 = ws[r + 4]!, w5 = ws[r + 5]!, w6 = ws[r + 6]!, w7 = ws[r + 7]!;
    if (w1 === 0 && w2 === 0 && w3 === 0 && w4 === 0 && w5 === 0 && w6 === 0 && w7 === 0) {
      const v = LIMIT[((w0 + (1 << (PASS1_BITS + 2))) >> (PASS1_BITS + 3)) & 1023]!;
      out.fill(v, o, o + 8);
      continue;
    }
    let z1 = (w2 + w6) * FIX_0_541196100;
    let tmp2 = z1 + w6 * -FIX_1_847759065;
    let tmp3 = z1 + w2 * FIX_0_765366865;
    let tmp0 = (w0 + w4) * (1 << CONST_BITS);
    let tmp1 = (w0 - w4) * (1 << CONST_BITS);
    const tmp10 = tmp0 + tmp3;
    const tmp13 = tmp0 - tmp3;
    const tmp11 = tmp1 + tmp2;
    const tmp12 = tmp1 - tmp2;
    tmp0 = w7;
    tmp1 = w5;
    tmp2 = w3;
    tmp3 = w1;
    z1 = tmp0 + tmp3;
    let z2 = tmp1 + tmp2;
    let z3 = tmp0 + tmp2;
    let z4 = tmp1 + tmp3;
    const z5 = (z3 + z4) * FIX_1_175875602;
    tmp0 *= FIX_0_298631336;
    tmp1 *= FIX_2_053119869;
    tmp2 *= FIX_3_072711026;
    tmp3 *= FIX_1_501321110;
    z1 *= -FIX_0_899976223;
    z2 *= -FIX_2_562915447;
    z3 = z3 * -FIX_1_961570560 + z5;
    z4 = z4 * -FIX_0_390180644 + z5;
    tmp0 += z1 + z3;
    tmp1 += z2 + z4;
    tmp2 += z2 + z3;
    tmp3 += z1 + z4;
    out[o] = LIMIT[((tmp10 + tmp3 + PASS2_ROUND) >> PASS2_SHIFT) & 1023]!;
    out[o + 7] = LIMIT[((tmp10 - tmp3 + PASS2_ROUND) >> PASS2_SHIFT) & 1023]!;
    out[o + 1] = LIMIT[((tmp11 + tmp2 + PASS2_ROUND) >> PASS2_SHIFT) & 1023]!;
    out[o + 6] = LIMIT[((tmp11 - tmp2 + PASS2_ROUND) >> PASS2_SHIFT) & 1023]!;
    out[o + 2] = LIMIT[((tmp12 + tmp1 + PASS2_ROUND) >> PASS2_SHIFT) & 1023]!;
    out[o + 5] = LIMIT[((tmp12 - tmp1 + PASS2_ROUND) >> PASS2_SHIFT) & 1023]!;
    out[o + 3] = LIMIT[((tmp13 + tmp0 + PASS2_ROUND) >> PASS2_SHIFT) & 1023]!;
    out[o + 4] = LIMIT[((tmp13 - tmp0 + PASS2_ROUND) >> PASS2_SHIFT) & 1023]!;
  }
}
