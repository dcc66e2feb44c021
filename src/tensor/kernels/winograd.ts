import { gemm } from './gemm.js';
import type { ConvLayout } from './kernels.js';

/**
 * Winograd F(2x2, 3x3) for 3x3 stride-1 convolutions (Lavin & Gray 2015), the
 * pure-TS twin of wasm/assembly/winograd.ts (same layouts, same adds). Each
 * 2x2 output tile is A^T [(G g G^T) .* (B^T d B)] A for its 4x4 input patch
 * d, so summing over input channels turns into 16 matrix products
 *
 *   M[xi] (O x T) = U[xi] (O x C) * V[xi] (C x T),   xi = 0..15,
 *
 * 4 multiplies per output and (o, c) instead of 9 (2.25x fewer), plus
 * transforms that are only adds. U[xi][o][c], V[xi][c][t], M[xi][o][t] with
 * t = image * tilesPerImage + th * tilesW + tw.
 *   B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]
 *   G   = [1 0 0; ½ ½ ½; ½ -½ ½; 0 0 1]
 *   A^T = [1 1 1 0; 0 1 -1 -1]
 */

/** Whether a convolution is one Winograd F(2x2, 3x3) computes: 3x3, stride 1, no dilation, one group. */
export function winogradApplies(L: ConvLayout): boolean {
  const g = L.geo;
  return g.kH === 3 && g.kW === 3 && g.strideH === 1 && g.strideW === 1 && g.dilationH === 1 && g.dilationW === 1 && L.groups === 1;
}

/** Tiles of the output: ceil(outH / 2) x ceil(outW / 2). */
export function winogradTiles(L: ConvLayout): { tilesH: number; tilesW: number } {
  return { tilesH: Math.ceil(L.geo.outH / 2), tilesW: Math.ceil(L.geo.outW / 2) };
}

/**
 * When Winograd beats im2col + GEMM, measured on this machine with
 * bench/conv-choice.ts: enough tiles per product for the GEMMs to run at
 * full speed, enough channels for the transforms to be a small part, and
 * enough work to pay for compiling the transforms (largeEnough). The
 * WebAssembly kernels keep the transformed weights (./wasm.ts), so there it
 * pays from fewer tiles (ResNet's 7x7 maps at batch 1: 16 tiles).
 */
export function preferWinograd(L: ConvLayout, backend: 'js' | 'wasm' = 'js'): boolean {
  if (!winogradApplies(L) || forced === 'im2col') return false;
  if (forced === 'winograd' || forced === 'winograd4') return true;
  const { tilesH, tilesW } = winogradTiles(L);
  const tiles = L.batch * tilesH * tilesW;
  return tiles >= (backend === 'wasm' ? 16 : 32) && L.imageChannels >= 16 && L.rowChannels >= 16 && largeEnough(L);
}

/**
 * Below 2^22 multiply-adds Winograd is taken on neither backend. Warm, it
 * saves little there or loses: on the JS kernels im2col is faster (16-32
 * channels at 16x16: 1.2 and 2.4 M, 2x and 1.2x; measured 2026-12-01, about
 * even from 4 to 20 M); on WebAssembly F(4x4) saves under 0.1 ms a call
 * (one 32 -> 32 channel 16x16 image: 0.07 against 0.16 ms, 2026-12-02).
 * Cold, a process that takes Winograd also compiles its transforms: ~75 ms
 * of CPU in the first Grad-CAM of the shapes model on the JS kernels, ~20 ms
 * on WebAssembly (three more functions for V8 to compile and tier up;
 * bench/cold-start.ts).
 */
function largeEnough(L: ConvLayout): boolean {
  const g = L.geo;
  return L.batch * g.outH * g.outW * L.rowChannels * L.imageChannels * 9 >= 2 ** 22;
}

/**
 * The output tile of the Winograd variant a convolution takes: 4 for
 * F(4x4, 3x3), 2 for F(2x2, 3x3), 0 for im2col. F(4x4) is on the
 * WebAssembly kernels only, and by default only for results no gradient is
 * recorded through (L.recorded unset: a frozen model's layers before the
 * explained one, no-grad passes such as Score-CAM's): its errors (about 1e-5
 * relative, 20 times F(2x2)'s) can flip a near-tie of a max pool or a ReLU
 * downstream, which moves an input gradient far from PyTorch's. It pays
 * on maps of 12x12 and up, and on smaller ones once a batch gives its
 * products 64 tiles (7x7: four tiles per image, too few columns for the
 * GEMM's 8-wide panels at batch 1) - see bench/conv-choice.ts: on
 * WebAssembly, 56x56 to 14x14 at batch 1 1.35-1.6x faster than F(2x2),
 * 7x7 at batch 1 0.87x, at batch 16 1.18x.
 */
export function winogradTileSize(L: ConvLayout, backend: 'js' | 'wasm' = 'js'): 0 | 2 | 4 {
  if (!preferWinograd(L, backend)) return 0;
  if (backend !== 'wasm' || forced === 'winograd') return 2;
  if (forced === 'winograd4') return 4;
  if (L.recorded) return 2;
  const { tilesH, tilesW } = winogradTilesOf(L, 4);
  return Math.min(L.geo.outH, L.geo.outW) >= 12 || L.batch * tilesH * tilesW >= 64 ? 4 : 2;
}

export type ConvAlgorithm = 'auto' | 'im2col' | 'winograd' | 'winograd4';

let forced: ConvAlgorithm = 'auto';

/**
 * For benchmarks and tests: force one algorithm for 3x3 stride-1
 * convolutions (default 'auto'). 'winograd' is F(2x2, 3x3); 'winograd4' is
 * F(4x4, 3x3) on WebAssembly (F(2x2) on the JS kernels).
 */
export function forceConvAlgorithm(algorithm: ConvAlgorithm): void {
  forced = algorithm;
}

/** Tiles of the output for a tile size m: ceil(outH / m) x ceil(outW / m). */
export function winogradTilesOf(L: ConvLayout, m: number): { tilesH: number; tilesW: number } {
  return { tilesH: Math.ceil(L.geo.outH / m), tilesW: Math.ceil(L.geo.outW / m) };
}

export function transformWeights(weight: Float32Array, O: number, C: number, U: Float32Array): void {
  const plane = O * C;
  for (let o = 0; o < O; o++) {
    for (let c = 0; c < C; c++) {
      const w = (o * C + c) * 9;
      const g00 = weight[w]!, g01 = weight[w + 1]!, g02 = weight[w + 2]!;
      const g10 = weight[w + 3]!, g11 = weight[w + 4]!, g12 = weight[w + 5]!;
      const g20 = weight[w + 6]!, g21 = weight[w + 7]!, g22 = weight[w + 8]!;
      const t00 = g00, t01 = g01, t02 = g02;
      const t10 = (0.5 * ((g00 + g10) + g20)), t11 = (0.5 * ((g01 + g11) + g21)), t12 = (0.5 * ((g02 + g12) + g22));
      const t20 = (0.5 * ((g00 - g10) + g20)), t21 = (0.5 * ((g01 - g11) + g21)), t22 = (0.5 * ((g02 - g12) + g22));
      const t30 = g20, t31 = g21, t32 = g22;
      const rows = [t00, t01, t02, t10, t11, t12, t20, t21, t22, t30, t31, t32];
      let u = o * C + c;
      for (let i = 0; i < 4; i++) {
        const y0 = rows[3 * i]!, y1 = rows[3 * i + 1]!, y2 = rows[3 * i + 2]!;
        U[u] = y0; u += plane;
        U[u] = 0.5 * (y0 + y1 + y2); u += plane;
        U[u] = 0.5 * (y0 - y1 + y2); u += plane;
        U[u] = y2; u += plane;
      }
    }
  }
}

/** V[xi][c][tOffset + t] for the C planes of H x W starting at image[imageOffset]. */
export function transformInput(
  image: Float32Array, imageOffset: number, C: number, H: number, W: number, padTop: number, padLeft: number,
  tilesH: number, tilesW: number, V: Float32Array, tStride: number, tOffset: number,
): void {
  const plane = C * tStride;
  const d = new Float64Array(16);
  for (let c = 0; c < C; c++) {
    const src = imageOffset + c * H * W;
    let v = c * tStride + tOffset;
    for (let th = 0; th < tilesH; th++) {
      const r0 = 2 * th - padTop;
      for (let tw = 0; tw < tilesW; tw++) {
        const c0 = 2 * tw - padLeft;
        for (let i = 0; i < 4; i++) {
          const r = r0 + i;
          const rowInside = r >= 0 && r < H;
          for (let j = 0; j < 4; j++) {
            const col = c0 + j;
            d[i * 4 + j] = rowInside && col >= 0 && col < W ? image[src + r * W + col]! : 0;
          }
        }
        // rows: B^T d, then columns: (.) B
        let q = v;
        for (let j = 0; j < 4; j++) {
          // t_i rows
          const a = (d[j]! - d[8 + j]!);
          const b = (d[4 + j]! + d[8 + j]!);
          const e = (d[8 + j]! - d[4 + j]!);
          const f = (d[4 + j]! - d[12 + j]!);
          d[j] = a; d[4 + j] = b; d[8 + j] = e; d[12 + j] = f;
        }
        for (let i = 0; i < 4; i++) {
          const x0 = d[4 * i]!, x1 = d[4 * i + 1]!, x2 = d[4 * i + 2]!, x3 = d[4 * i + 3]!;
          V[q] = x0 - x2; q += plane;
          V[q] = x1 + x2; q += plane;
          V[q] = x2 - x1; q += plane;
          V[q] = x1 - x3; q += plane;
        }
        v++;
      }
    }
  }
}

/** out[outOffset + o plane] (+)= A^T M A for every tile of one image. */
export function transformOutput(
  M: Float32Array, O: number, tStride: number, tOffset: number, tilesH: number, tilesW: number,
  outH: number, outW: number, out: Float32Array, outOffset: number, accumulate: boolean,
): void {
  const plane = O * tStride;
  for (let o = 0; o < O; o++) {
    const dst = outOffset + o * outH * outW;
    let m = o * tStride + tOffset;
    for (let th = 0; th < tilesH; th++) {
      for (let tw = 0; tw < tilesW; tw++) {
        const v = (xi: number): number => M[m + xi * plane]!;
        const s0 = ((v(0) + v(4)) + v(8)), s1 = ((v(1) + v(5)) + v(9));
        const s2 = ((v(2) + v(6)) + v(10)), s3 = ((v(3) + v(7)) + v(11));
        const t0 = ((v(4) - v(8)) - v(12)), t1 = ((v(5) - v(9)) - v(13));
        const t2 = ((v(6) - v(10)) - v(14)), t3 = ((v(7) - v(11)) - v(15));
        const y00 = ((s0 + s1) + s2), y01 = ((s1 - s2) - s3);
        const y10 = ((t0 + t1) + t2), y11 = ((t1 - t2) - t3);
        const r = 2 * th, c = 2 * tw;
        const p = dst + r * outW + c;
        const right = c + 1 < outW;
        const below = r + 1 < outH;
        if (accumulate) {
          out[p] = out[p]! + y00;
          if (right) out[p + 1] = out[p + 1]! + y01;
          if (below) {
            out[p + outW] = out[p + outW]! + y10;
            if (right) out[p + outW + 1] = out[p + outW + 1]! + y11;
          }
        } else {
          out[p] = y00;
          if (right) out[p + 1] = y01;
          if (below) {
            out[p + outW] = y10;
            if (right) out[p + outW + 1] = y11;
          }
        }
        m++;
      }
    }
  }
}

let scratch = new Float32Array(0);

/** conv forward (one group) by Winograd on the JS GEMM: out (+)= conv(image, weight). */
export function winogradForward(image: Float32Array, weight: Float32Array, out: Float32Array, L: ConvLayout, accumulate: boolean): void {
  const { geo } = L;
  const O = L.rowChannels;
  const C = L.imageChannels;
  const { tilesH, tilesW } = winogradTiles(L);
  const perImage = tilesH * tilesW;
  const T = L.batch * perImage;
  const need = 16 * (O * C + C * T + O * T);
  if (scratch.length < need) scratch = new Float32Array(need);
  const U = scratch.subarray(0, 16 * O * C);
  const V = scratch.subarray(16 * O * C, 16 * (O * C + C * T));
  const M = scratch.subarray(16 * (O * C + C * T), need);
  transformWeights(weight, O, C, U);
  for (let n = 0; n < L.batch; n++) {
    transformInput(image, n * C * geo.inH * geo.inW, C, geo.inH, geo.inW, geo.padTop, geo.padLeft, tilesH, tilesW, V, T, n * perImage);
  }
  for (let xi = 0; xi < 16; xi++) {
    gemm(O, T, C, U, V, M, { aOffset: xi * O * C, bOffset: xi * C * T, cOffset: xi * O * T });
  }
  for (let n = 0; n < L.batch; n++) {
    transformOutput(M, O, T, n * perImage, tilesH, tilesW, geo.outH, geo.outW, out, n * O * geo.outH * geo.outW, accumulate);
  }
}

/**
 * The input gradient of a 3x3 stride-1 convolution is itself one: dx =
 * conv(dy, W') with W'[c][o] = W[o][c] rotated by 180 degrees and padding
 * 2 - pad. The layout of that convolution, or null when it is not one
 * (padding over 2, or not a single-group 3x3 stride 1).
 */
export function adjointLayout(L: ConvLayout): ConvLayout | null {
  const g = L.geo;
  if (!winogradApplies(L) || g.padTop > 2 || g.padLeft > 2) return null;
  return {
    recorded: true,
    batch: L.batch,
    groups: 1,
    imageChannels: L.rowChannels,
    rowChannels: L.imageChannels,
    geo: {
      channels: L.rowChannels, inH: g.outH, inW: g.outW, outH: g.inH, outW: g.inW, kH: 3, kW: 3, strideH: 1, strideW: 1,
      padTop: 2 - g.padTop, padLeft: 2 - g.padLeft, dilationH: 1, dilationW: 1,
    },
  };
}

/** W' of adjointLayout: [O, C, 3, 3] -> [C, O, 3, 3], each kernel rotated by 180 degrees. */
export function flippedWeights(weight: Float32Array, O: number, C: number): Float32Array {
  const flipped = new Float32Array(weight.length);
  for (let o = 0; o < O; o++) {
    for (let c = 0; c < C; c++) {
      const src = (o * C + c) * 9;
      const dst = (c * O + o) * 9;
      for (let t = 0; t < 9; t++) flipped[dst + t] = weight[src + 8 - t]!;
    }
  }
  return flipped;
}
