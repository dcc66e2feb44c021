/**
 * Single-threaded matrix multiply, C = op(A) * op(B) (+ C), in plain
 * TypeScript over Float32Array, where op(X) is X or its transpose.
 *
 * The layout follows BLIS / GotoBLAS: the K axis is cut into blocks that fit
 * in cache; for each block, a slab of op(B) is packed into contiguous panels
 * of NR columns and a slab of op(A) into panels of MR rows, both k-major, so
 * the innermost loop (the micro-kernel) reads two short contiguous streams and
 * keeps an MR x NR tile of C in local variables (registers) across the whole
 * K block. Packing also absorbs the transposes and the ragged edges (panels
 * are zero-padded to full MR / NR), so there is one micro-kernel.
 *
 * The packed panels are Float64Array: the micro-kernel then loads doubles
 * without float32 -> float64 conversions, and sums are accumulated in double
 * precision within a K block (slightly more accurate than float32 BLAS).
 */

export interface GemmOptions {
  /** Use A^T: A is stored k x m. */
  transA?: boolean;
  /** Use B^T: B is stored n x k. */
  transB?: boolean;
  /** Add the product into C instead of overwriting it. */
  accumulate?: boolean;
  /** Where each matrix starts in its array (default 0). */
  aOffset?: number;
  bOffset?: number;
  cOffset?: number;
  /** Row strides as stored (default: dense, e.g. lda = transA ? m : k). */
  lda?: number;
  ldb?: number;
  ldc?: number;
  /**
   * Pack blocks of op(B) from somewhere else instead of reading `b` (which is
   * then ignored): conv2d packs straight from the image, skipping im2col.
   */
  packB?: BlockPacker;
}

/**
 * Writes op(B)[pc .. pc+kc, jc .. jc+nc] into `dst` as panels of PANEL_WIDTH
 * columns, each depth-major (panel q holds, for p = 0..kc-1, columns
 * q*PANEL_WIDTH .. q*PANEL_WIDTH+PANEL_WIDTH-1 at depth p; zeros past nc).
 * It must not call gemm itself: `dst` is gemm's own scratch.
 */
export type BlockPacker = (dst: Float64Array, pc: number, kc: number, jc: number, nc: number) => void;

/** Rows and columns of the register tile kept in locals by the micro-kernel. */
const MR = 4;
const NR = 4;
/** The width of B's packed panels, for BlockPackers. */
export const PANEL_WIDTH = NR;
/** Depth of a K block: an MR x KC panel of A and a KC x NR panel of B stay in L1. */
const KC = 256;
/** Rows of A packed per block (MC x KC doubles = 128 KiB, stays in L2). */
const MC = 64;
/** Columns of B packed per block (KC x NC doubles = 1 MiB, L2/L3). */
const NC = 512;

// Packed panels, reused across calls (gemm is not re-entrant and JS is
// single-threaded). They are module-level `const`s of fixed size on purpose:
// V8 then treats them as constants in the micro-kernel (no map checks, no
// reloading the data pointer), which measured ~40% faster than passing them
// as arguments or keeping them in `let`s. Cost: 1.1 MiB allocated at import.
const packedA = new Float64Array(MC * KC);
const packedB = new Float64Array(KC * NC);
/** The register tile spilled to memory, for ragged edges only. */
const edgeTile = new Float64Array(MR * NR);

/**
 * C[m x n] = op(A)[m x k] * op(B)[k x n] (+ C if `accumulate`).
 * Never writes into A or B; writes only the m x n window of C.
 */
export function gemm(
  m: number,
  n: number,
  k: number,
  a: Float32Array,
  b: Float32Array,
  c: Float32Array,
  options: GemmOptions = {},
): void {
  const transA = options.transA ?? false;
  const transB = options.transB ?? false;
  const aOffset = options.aOffset ?? 0;
  const bOffset = options.bOffset ?? 0;
  const cOffset = options.cOffset ?? 0;
  const lda = options.lda ?? (transA ? m : k);
  const ldb = options.ldb ?? (transB ? k : n);
  const ldc = options.ldc ?? n;
  // Strides of op(A)(i, p) and op(B)(p, j) in their arrays.
  const aRow = transA ? 1 : lda;
  const aCol = transA ? lda : 1;
  const bRow = transB ? 1 : ldb;
  const bCol = transB ? ldb : 1;

  if (!options.accumulate) {
    for (let i = 0; i < m; i++) c.fill(0, cOffset + i * ldc, cOffset + i * ldc + n);
  }
  if (m === 0 || n === 0 || k === 0) return;
  if ((m === 1 || n === 1) && !options.packB) {
    // A matrix-vector product: packing would cost as much as the product.
    matrixVector(m, n, k, a, aOffset, aRow, aCol, b, bOffset, bRow, bCol, c, cOffset, ldc);
    return;
  }

  // Blocks of equal size (e.g. K = 576 as 3 x 192, not 256 + 256 + 64), so
  // no block is left with a short, overhead-dominated remainder.
  const kcBlock = Math.ceil(k / Math.ceil(k / KC));
  const ncBlock = Math.ceil(n / Math.ceil(n / NC));
  for (let jc = 0; jc < n; jc += ncBlock) {
    const nc = Math.min(ncBlock, n - jc);
    for (let pc = 0; pc < k; pc += kcBlock) {
      const kc = Math.min(kcBlock, k - pc);
      if (options.packB) options.packB(packedB, pc, kc, jc, nc);
      else packPanels(b, bOffset + pc * bRow + jc * bCol, bCol, bRow, nc, kc, NR, packedB);
      for (let ic = 0; ic < m; ic += MC) {
        const mc = Math.min(MC, m - ic);
        packPanels(a, aOffset + ic * aRow + pc * aCol, aRow, aCol, mc, kc, MR, packedA);
        for (let jr = 0; jr < nc; jr += NR) {
          const nr = Math.min(NR, nc - jr);
          for (let ir = 0; ir < mc; ir += MR) {
            const mr = Math.min(MR, mc - ir);
            microKernel(
              kc,
              ir * kc,
              jr * kc,
              c,
              cOffset + (ic + ir) * ldc + jc + jr,
              ldc,
              mr,
              nr,
            );
          }
        }
      }
    }
  }
}

/** C += op(A) op(B) when m or n is 1: plain dot products (or row updates), float64 sums. */
function matrixVector(
  m: number, n: number, k: number,
  a: Float32Array, aOffset: number, aRow: number, aCol: number,
  b: Float32Array, bOffset: number, bRow: number, bCol: number,
  c: Float32Array, cOffset: number, ldc: number,
): void {
  if (m === 1 && bCol === 1 && n > 1) {
    // c[j] += sum_p a[p] b[p, j] with rows of B contiguous: add scaled rows (stays in order in memory).
    const row = new Float64Array(n);
    for (let p = 0; p < k; p++) {
      const av = a[aOffset + p * aCol]!;
      const base = bOffset + p * bRow;
      for (let j = 0; j < n; j++) row[j] = row[j]! + av * b[base + j]!;
    }
    for (let j = 0; j < n; j++) c[cOffset + j] = c[cOffset + j]! + row[j]!;
    return;
  }
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      let ai = aOffset + i * aRow;
      let bi = bOffset + j * bCol;
      for (let p = 0; p < k; p++) {
        s += a[ai]! * b[bi]!;
        ai += aCol;
        bi += bRow;
      }
      c[cOffset + i * ldc + j] = c[cOffset + i * ldc + j]! + s;
    }
  }
}

/**
 * Pack `count` lines x `depth` of a strided matrix into panels of `width`
 * lines, each panel depth-major: panel q holds, for p = 0..depth-1, the
 * values of lines q*width .. q*width+width-1 at depth p (zero past `count`).
 * Element (line, p) of the source is src[offset + line*lineStride + p*depthStride].
 */
function packPanels(
  src: Float32Array,
  offset: number,
  lineStride: number,
  depthStride: number,
  count: number,
  depth: number,
  width: number,
  dst: Float64Array,
): void {
  let d = 0;
  for (let line0 = 0; line0 < count; line0 += width) {
    const lines = Math.min(width, count - line0);
    let s = offset + line0 * lineStride;
    if (lines === 4 && width === 4) {
      // The common case, unrolled: packing is ~10% of a GEMM's time.
      const s1 = lineStride, s2 = 2 * lineStride, s3 = 3 * lineStride;
      for (let p = 0; p < depth; p++) {
        dst[d] = src[s]!;
        dst[d + 1] = src[s + s1]!;
        dst[d + 2] = src[s + s2]!;
        dst[d + 3] = src[s + s3]!;
        d += 4;
        s += depthStride;
      }
      continue;
    }
    for (let p = 0; p < depth; p++) {
      let e = s + p * depthStride;
      let r = 0;
      for (; r < lines; r++) {
        dst[d++] = src[e]!;
        e += lineStride;
      }
      for (; r < width; r++) dst[d++] = 0;
    }
  }
}

/**
 * C tile (mr x nr valid of MR x NR) += packedA panel at `ai` (kc x MR) * packedB panel at `bi` (kc x NR).
 * The 16 accumulators live in locals; `| 0` keeps index arithmetic in int32
 * without overflow checks. Each row of A is loaded just before it is used,
 * which keeps fewer values live than loading all four first (measured faster).
 */
function microKernel(
  kc: number,
  ai: number,
  bi: number,
  c: Float32Array,
  ci: number,
  ldc: number,
  mr: number,
  nr: number,
): void {
  const ap = packedA;
  const bp = packedB;
  let c00 = 0, c01 = 0, c02 = 0, c03 = 0;
  let c10 = 0, c11 = 0, c12 = 0, c13 = 0;
  let c20 = 0, c21 = 0, c22 = 0, c23 = 0;
  let c30 = 0, c31 = 0, c32 = 0, c33 = 0;
  for (let p = 0; p < kc; p++) {
    const b0 = bp[bi]!, b1 = bp[(bi + 1) | 0]!, b2 = bp[(bi + 2) | 0]!, b3 = bp[(bi + 3) | 0]!;
    let a = ap[ai]!;
    c00 += a * b0; c01 += a * b1; c02 += a * b2; c03 += a * b3;
    a = ap[(ai + 1) | 0]!;
    c10 += a * b0; c11 += a * b1; c12 += a * b2; c13 += a * b3;
    a = ap[(ai + 2) | 0]!;
    c20 += a * b0; c21 += a * b1; c22 += a * b2; c23 += a * b3;
    a = ap[(ai + 3) | 0]!;
    c30 += a * b0; c31 += a * b1; c32 += a * b2; c33 += a * b3;
    ai = (ai + MR) | 0;
    bi = (bi + NR) | 0;
  }
  if (mr === MR && nr === NR) {
    let i = ci;
    c[i] = c[i]! + c00; c[i + 1] = c[i + 1]! + c01; c[i + 2] = c[i + 2]! + c02; c[i + 3] = c[i + 3]! + c03; i += ldc;
    c[i] = c[i]! + c10; c[i + 1] = c[i + 1]! + c11; c[i + 2] = c[i + 2]! + c12; c[i + 3] = c[i + 3]! + c13; i += ldc;
    c[i] = c[i]! + c20; c[i + 1] = c[i + 1]! + c21; c[i + 2] = c[i + 2]! + c22; c[i + 3] = c[i + 3]! + c23; i += ldc;
    c[i] = c[i]! + c30; c[i + 1] = c[i + 1]! + c31; c[i + 2] = c[i + 2]! + c32; c[i + 3] = c[i + 3]! + c33;
    return;
  }
  // Ragged edge: write only the valid part of the tile.
  const t = edgeTile;
  t[0] = c00; t[1] = c01; t[2] = c02; t[3] = c03;
  t[4] = c10; t[5] = c11; t[6] = c12; t[7] = c13;
  t[8] = c20; t[9] = c21; t[10] = c22; t[11] = c23;
  t[12] = c30; t[13] = c31; t[14] = c32; t[15] = c33;
  for (let r = 0; r < mr; r++) {
    for (let s = 0; s < nr; s++) c[ci + r * ldc + s] = c[ci + r * ldc + s]! + t[r * NR + s]!;
  }
}
