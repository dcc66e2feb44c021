// GEMM with packed panels and a 4x8 f32x4 micro-kernel (BLIS / GotoBLAS
// layout, as the JS kernel in src/tensor/kernels/gemm.ts):
//
//   C[m x n] (+)= op(A)[m x k] * op(B)[k x n]
//
// op(A)(i, p) is read at a + 4*(i*aRow + p*aCol), op(B)(p, j) at
// b + 4*(p*bRow + j*bCol), so transposes are only strides. The K axis is cut
// into blocks of at most KC; for each block a slab of op(B) is packed into
// panels of NR = 8 columns and a slab of op(A) into panels of MR = 4 rows, both
// depth-major and zero-padded, so one micro-kernel serves every edge. The
// micro-kernel keeps the 4x8 tile of C in eight f32x4 registers across the
// whole K block. Sums are float32 (as BLAS), not float64 as the JS kernel.
//
// `work` points to WORK_BYTES of scratch owned by the caller.

const MR: i32 = 4;
const NR: i32 = 8;
const KC: i32 = 256;
const MC: i32 = 128;
const NC: i32 = 512;
const PACK_A_BYTES: i32 = MC * KC * 4;
const PACK_B_BYTES: i32 = KC * NC * 4;
const TILE_BYTES: i32 = MR * NR * 4;

/**
 * Columns per block: about equal blocks of at most NC, rounded up to whole
 * NR panels so that only the last block has a ragged panel (12544 columns,
 * ResNet's stem: 25 blocks of 504, not of 502 with a ragged panel each).
 */
// @ts-ignore: decorator
@inline
function columnBlock(n: i32): i32 {
  const blocks = (n + NC - 1) / NC;
  const even = (n + blocks - 1) / blocks;
  return min(NC, (even + NR - 1) / NR * NR);
}

/** Scratch bytes gemm needs at `work`. */
export const GEMM_WORK_BYTES: i32 = PACK_A_BYTES + PACK_B_BYTES + TILE_BYTES;

/** dst[line-panel][p][r] = src(line0 + r, p) for MR lines (rows of op(A)). */
function packA(src: usize, lineStride: i32, depthStride: i32, count: i32, depth: i32, dst: usize): void {
  let d = dst;
  for (let line0 = 0; line0 < count; line0 += MR) {
    const lines = min(MR, count - line0);
    const s = src + (<usize>(line0 * lineStride) << 2);
    const ls = <usize>lineStride << 2;
    const ds = <usize>depthStride << 2;
    if (lines == MR) {
      let e = s;
      for (let p = 0; p < depth; p++) {
        store<f32>(d, load<f32>(e));
        store<f32>(d, load<f32>(e + ls), 4);
        store<f32>(d, load<f32>(e + 2 * ls), 8);
        store<f32>(d, load<f32>(e + 3 * ls), 12);
        d += 16;
        e += ds;
      }
    } else {
      for (let p = 0; p < depth; p++) {
        const e = s + <usize>p * ds;
        for (let r = 0; r < MR; r++) store<f32>(d + (<usize>r << 2), r < lines ? load<f32>(e + <usize>r * ls) : 0);
        d += 16;
      }
    }
  }
}

/** dst[col-panel][p][j] = op(B)(p, col0 + j) for NR columns. */
function packB(src: usize, rowStride: i32, colStride: i32, cols: i32, depth: i32, dst: usize): void {
  let d = dst;
  const rs = <usize>rowStride << 2;
  const cs = <usize>colStride << 2;
  for (let col0 = 0; col0 < cols; col0 += NR) {
    const width = min(NR, cols - col0);
    const s = src + <usize>col0 * cs;
    if (width == NR && colStride == 1) {
      let e = s;
      for (let p = 0; p < depth; p++) {
        v128.store(d, v128.load(e));
        v128.store(d, v128.load(e, 16), 16);
        d += 32;
        e += rs;
      }
    } else {
      for (let p = 0; p < depth; p++) {
        const e = s + <usize>p * rs;
        for (let j = 0; j < NR; j++) store<f32>(d + (<usize>j << 2), j < width ? load<f32>(e + <usize>j * cs) : 0);
        d += 32;
      }
    }
  }
}

/** C tile (mr x nr valid of 4 x 8) += A panel (kc x 4) * B panel (kc x 8). */
// @ts-ignore: decorator
@inline
function microKernel(kc: i32, pa: usize, pb: usize, c: usize, ldcBytes: usize, mr: i32, nr: i32, tile: usize): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  for (let p = 0; p < kc; p++) {
    const b0 = v128.load(pb);
    const b1 = v128.load(pb, 16);
    let a = v128.load32_splat(pa);
    c00 = f32x4.add(c00, f32x4.mul(a, b0));
    c01 = f32x4.add(c01, f32x4.mul(a, b1));
    a = v128.load32_splat(pa, 4);
    c10 = f32x4.add(c10, f32x4.mul(a, b0));
    c11 = f32x4.add(c11, f32x4.mul(a, b1));
    a = v128.load32_splat(pa, 8);
    c20 = f32x4.add(c20, f32x4.mul(a, b0));
    c21 = f32x4.add(c21, f32x4.mul(a, b1));
    a = v128.load32_splat(pa, 12);
    c30 = f32x4.add(c30, f32x4.mul(a, b0));
    c31 = f32x4.add(c31, f32x4.mul(a, b1));
    pa += 16;
    pb += 32;
  }
  if (mr == MR && nr == NR) {
    let q = c;
    v128.store(q, f32x4.add(v128.load(q), c00)); v128.store(q, f32x4.add(v128.load(q, 16), c01), 16); q += ldcBytes;
    v128.store(q, f32x4.add(v128.load(q), c10)); v128.store(q, f32x4.add(v128.load(q, 16), c11), 16); q += ldcBytes;
    v128.store(q, f32x4.add(v128.load(q), c20)); v128.store(q, f32x4.add(v128.load(q, 16), c21), 16); q += ldcBytes;
    v128.store(q, f32x4.add(v128.load(q), c30)); v128.store(q, f32x4.add(v128.load(q, 16), c31), 16);
    return;
  }
  v128.store(tile, c00); v128.store(tile, c01, 16);
  v128.store(tile, c10, 32); v128.store(tile, c11, 48);
  v128.store(tile, c20, 64); v128.store(tile, c21, 80);
  v128.store(tile, c30, 96); v128.store(tile, c31, 112);
  for (let r = 0; r < mr; r++) {
    const q = c + <usize>r * ldcBytes;
    for (let s = 0; s < nr; s++) {
      const at = q + (<usize>s << 2);
      store<f32>(at, load<f32>(at) + load<f32>(tile + (<usize>(r * NR + s) << 2)));
    }
  }
}

/** C[m x n] (+)= op(A) op(B); C has row stride ldc (elements). */
export function gemm(
  m: i32, n: i32, k: i32,
  a: usize, aRow: i32, aCol: i32,
  b: usize, bRow: i32, bCol: i32,
  c: usize, ldc: i32, accumulate: i32,
  work: usize,
): void {
  const ldcBytes = <usize>ldc << 2;
  if (!accumulate) {
    for (let i = 0; i < m; i++) memory.fill(c + <usize>i * ldcBytes, 0, <usize>n << 2);
  }
  if (m == 0 || n == 0 || k == 0) return;
  const packedA = work;
  const packedB = work + PACK_A_BYTES;
  const tile = packedB + PACK_B_BYTES;
  // Blocks of equal size, so no block is left with a short remainder.
  const kcBlock = (k + (k + KC - 1) / KC - 1) / ((k + KC - 1) / KC);
  const ncBlock = columnBlock(n);
  for (let jc = 0; jc < n; jc += ncBlock) {
    const nc = min(ncBlock, n - jc);
    for (let pc = 0; pc < k; pc += kcBlock) {
      const kc = min(kcBlock, k - pc);
      packB(b + (<usize>(pc * bRow + jc * bCol) << 2), bRow, bCol, nc, kc, packedB);
      for (let ic = 0; ic < m; ic += MC) {
        const mc = min(MC, m - ic);
        packA(a + (<usize>(ic * aRow + pc * aCol) << 2), aRow, aCol, mc, kc, packedA);
        for (let jr = 0; jr < nc; jr += NR) {
          const nr = min(NR, nc - jr);
          const pb = packedB + (<usize>(jr * kc) << 2);
          for (let ir = 0; ir < mc; ir += MR) {
            const mr = min(MR, mc - ir);
            microKernel(kc, packedA + (<usize>(ir * kc) << 2), pb, c + <usize>(ic + ir) * ldcBytes + (<usize>(jc + jr) << 2), ldcBytes, mr, nr, tile);
          }
        }
      }
    }
  }
}

/**
 * Pack all of op(A) (m x k) once, as gemmPackedA reads it: panels of MR rows,
 * each depth-major over the whole K (panel q at dst + q*MR*k floats, zero rows
 * past m). For weights that many products share (Winograd's transformed weights).
 */
export function packAll(a: usize, aRow: i32, aCol: i32, m: i32, k: i32, dst: usize): void {
  packA(a, aRow, aCol, m, k, dst);
}

/** Floats packAll writes for an m x k matrix. */
export function packedSize(m: i32, k: i32): i32 {
  return ((m + MR - 1) / MR) * MR * k;
}

/** gemm with op(A) already packed by packAll: C[m x n] (+)= A op(B). */
export function gemmPackedA(
  m: i32, n: i32, k: i32,
  packed: usize,
  b: usize, bRow: i32, bCol: i32,
  c: usize, ldc: i32, accumulate: i32,
  work: usize,
): void {
  const ldcBytes = <usize>ldc << 2;
  if (!accumulate) {
    for (let i = 0; i < m; i++) memory.fill(c + <usize>i * ldcBytes, 0, <usize>n << 2);
  }
  if (m == 0 || n == 0 || k == 0) return;
  const packedB = work + PACK_A_BYTES;
  const tile = packedB + PACK_B_BYTES;
  const kcBlock = (k + (k + KC - 1) / KC - 1) / ((k + KC - 1) / KC);
  const ncBlock = columnBlock(n);
  for (let jc = 0; jc < n; jc += ncBlock) {
    const nc = min(ncBlock, n - jc);
    for (let pc = 0; pc < k; pc += kcBlock) {
      const kc = min(kcBlock, k - pc);
      packB(b + (<usize>(pc * bRow + jc * bCol) << 2), bRow, bCol, nc, kc, packedB);
      for (let ir = 0; ir < m; ir += MR) {
        const mr = min(MR, m - ir);
        const pa = packed + (<usize>(ir * k + pc * MR) << 2);
        for (let jr = 0; jr < nc; jr += NR) {
          const nr = min(NR, nc - jr);
          microKernel(kc, pa, packedB + (<usize>(jr * kc) << 2), c + <usize>ir * ldcBytes + (<usize>(jc + jr) << 2), ldcBytes, mr, nr, tile);
        }
      }
    }
  }
}
