// Winograd F(2x2, 3x3) for 3x3 stride-1 convolutions (Lavin & Gray 2015):
// each 2x2 output tile is A^T [ (G g G^T) .* (B^T d B) ] A with d the tile's
// 4x4 input patch, so the 16 elementwise products summed over input
// channels become 16 matrix products
//   M[xi] (O x T) = U[xi] (O x C) * V[xi] (C x T),  xi = 0..15,
// with 4 multiplies per output per (o, c) instead of 9. Layouts (floats):
//   U[xi][o][c], V[xi][c][t], M[xi][o][t], t = image * tilesPerImage + tile.
// The transforms are the 0/±1/±½ matrices written out as adds.
//   B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]
//   G   = [1 0 0; ½ ½ ½; ½ -½ ½; 0 0 1]
//   A^T = [1 1 1 0; 0 1 -1 -1]

const HALF: f32 = 0.5;

/** U[xi][o][c] = (G w[o][c] G^T)[xi] for a [O, C, 3, 3] weight. */
export function winogradWeights(weight: usize, O: i32, C: i32, U: usize): void {
  const plane = <usize>(O * C) << 2;
  for (let o = 0; o < O; o++) {
    for (let c = 0; c < C; c++) {
      const w = weight + (<usize>((o * C + c) * 9) << 2);
      // t = G g (4 x 3)
      const g00 = load<f32>(w), g01 = load<f32>(w, 4), g02 = load<f32>(w, 8);
      const g10 = load<f32>(w, 12), g11 = load<f32>(w, 16), g12 = load<f32>(w, 20);
      const g20 = load<f32>(w, 24), g21 = load<f32>(w, 28), g22 = load<f32>(w, 32);
      const t00 = g00, t01 = g01, t02 = g02;
      const t10 = HALF * (g00 + g10 + g20), t11 = HALF * (g01 + g11 + g21), t12 = HALF * (g02 + g12 + g22);
      const t20 = HALF * (g00 - g10 + g20), t21 = HALF * (g01 - g11 + g21), t22 = HALF * (g02 - g12 + g22);
      const t30 = g20, t31 = g21, t32 = g22;
      let u = U + (<usize>(o * C + c) << 2);
      // row i of U = [y0, (y0+y1+y2)/2, (y0-y1+y2)/2, y2] for y = row i of t
      store<f32>(u, t00); u += plane;
      store<f32>(u, HALF * (t00 + t01 + t02)); u += plane;
      store<f32>(u, HALF * (t00 - t01 + t02)); u += plane;
      store<f32>(u, t02); u += plane;
      store<f32>(u, t10); u += plane;
      store<f32>(u, HALF * (t10 + t11 + t12)); u += plane;
      store<f32>(u, HALF * (t10 - t11 + t12)); u += plane;
      store<f32>(u, t12); u += plane;
      store<f32>(u, t20); u += plane;
      store<f32>(u, HALF * (t20 + t21 + t22)); u += plane;
      store<f32>(u, HALF * (t20 - t21 + t22)); u += plane;
      store<f32>(u, t22); u += plane;
      store<f32>(u, t30); u += plane;
      store<f32>(u, HALF * (t30 + t31 + t32)); u += plane;
      store<f32>(u, HALF * (t30 - t31 + t32)); u += plane;
      store<f32>(u, t32);
    }
  }
}

// @ts-ignore: decorator
@inline
function pixel(src: usize, H: i32, W: i32, r: i32, c: i32): f32 {
  return <u32>r < <u32>H && <u32>c < <u32>W ? load<f32>(src + (<usize>(r * W + c) << 2)) : 0;
}

// @ts-ignore: decorator
@inline
function even(a: v128, b: v128): v128 {
  return i32x4.shuffle(a, b, 0, 2, 4, 6);
}
// @ts-ignore: decorator
@inline
function odd(a: v128, b: v128): v128 {
  return i32x4.shuffle(a, b, 1, 3, 5, 7);
}

/** The 16 values of one tile's B^T d B at v, v + plane, ... (d read with bounds checks). */
function inputTile(src: usize, H: i32, W: i32, r0: i32, c0: i32, v: usize, plane: usize): void {
  let d00: f32, d01: f32, d02: f32, d03: f32, d10: f32, d11: f32, d12: f32, d13: f32;
  let d20: f32, d21: f32, d22: f32, d23: f32, d30: f32, d31: f32, d32: f32, d33: f32;
  if (r0 >= 0 && r0 + 3 < H && c0 >= 0 && c0 + 3 < W) {
    let p = src + (<usize>(r0 * W + c0) << 2);
    const rs = <usize>W << 2;
    d00 = load<f32>(p); d01 = load<f32>(p, 4); d02 = load<f32>(p, 8); d03 = load<f32>(p, 12); p += rs;
    d10 = load<f32>(p); d11 = load<f32>(p, 4); d12 = load<f32>(p, 8); d13 = load<f32>(p, 12); p += rs;
    d20 = load<f32>(p); d21 = load<f32>(p, 4); d22 = load<f32>(p, 8); d23 = load<f32>(p, 12); p += rs;
    d30 = load<f32>(p); d31 = load<f32>(p, 4); d32 = load<f32>(p, 8); d33 = load<f32>(p, 12);
  } else {
    d00 = pixel(src, H, W, r0, c0); d01 = pixel(src, H, W, r0, c0 + 1); d02 = pixel(src, H, W, r0, c0 + 2); d03 = pixel(src, H, W, r0, c0 + 3);
    d10 = pixel(src, H, W, r0 + 1, c0); d11 = pixel(src, H, W, r0 + 1, c0 + 1); d12 = pixel(src, H, W, r0 + 1, c0 + 2); d13 = pixel(src, H, W, r0 + 1, c0 + 3);
    d20 = pixel(src, H, W, r0 + 2, c0); d21 = pixel(src, H, W, r0 + 2, c0 + 1); d22 = pixel(src, H, W, r0 + 2, c0 + 2); d23 = pixel(src, H, W, r0 + 2, c0 + 3);
    d30 = pixel(src, H, W, r0 + 3, c0); d31 = pixel(src, H, W, r0 + 3, c0 + 1); d32 = pixel(src, H, W, r0 + 3, c0 + 2); d33 = pixel(src, H, W, r0 + 3, c0 + 3);
  }
  // rows: B^T d
  const a0 = d00 - d20, a1 = d01 - d21, a2 = d02 - d22, a3 = d03 - d23;
  const b0 = d10 + d20, b1 = d11 + d21, b2 = d12 + d22, b3 = d13 + d23;
  const e0 = d20 - d10, e1 = d21 - d11, e2 = d22 - d12, e3 = d23 - d13;
  const f0 = d10 - d30, f1 = d11 - d31, f2 = d12 - d32, f3 = d13 - d33;
  // columns: (.) B
  let q = v;
  store<f32>(q, a0 - a2); q += plane; store<f32>(q, a1 + a2); q += plane; store<f32>(q, a2 - a1); q += plane; store<f32>(q, a1 - a3); q += plane;
  store<f32>(q, b0 - b2); q += plane; store<f32>(q, b1 + b2); q += plane; store<f32>(q, b2 - b1); q += plane; store<f32>(q, b1 - b3); q += plane;
  store<f32>(q, e0 - e2); q += plane; store<f32>(q, e1 + e2); q += plane; store<f32>(q, e2 - e1); q += plane; store<f32>(q, e1 - e3); q += plane;
  store<f32>(q, f0 - f2); q += plane; store<f32>(q, f1 + f2); q += plane; store<f32>(q, f2 - f1); q += plane; store<f32>(q, f1 - f3);
}

/**
 * V[xi][c][tOffset + t] = (B^T d B)[xi] for each channel plane of one image
 * (C planes of H x W at `image`), tile t = th * tilesW + tw reading rows
 * 2 th - padTop .. +3 and columns 2 tw - padLeft .. +3 (zeros outside).
 * `tStride` is the row length of V (tiles of all images). Four tiles of a
 * row whose patches lie inside the image go at once: lane l is tile tw + l,
 * its column j is column c0 + 2 l + j, the even or odd lanes of two loads.
 */
export function winogradInput(image: usize, C: i32, H: i32, W: i32, padTop: i32, padLeft: i32, tilesH: i32, tilesW: i32, V: usize, tStride: i32, tOffset: i32): void {
  const plane = <usize>(C * tStride) << 2;
  const rs = <usize>W << 2;
  for (let c = 0; c < C; c++) {
    const src = image + (<usize>(c * H * W) << 2);
    let v = V + (<usize>(c * tStride + tOffset) << 2);
    for (let th = 0; th < tilesH; th++) {
      const r0 = 2 * th - padTop;
      let tw = 0;
      if (r0 >= 0 && r0 + 3 < H) {
        for (; tw < tilesW && 2 * tw - padLeft < 0; tw++) {
          inputTile(src, H, W, r0, 2 * tw - padLeft, v, plane);
          v += 4;
        }
        // Columns c0 .. c0 + 9 are read for four tiles.
        for (; tw + 4 <= tilesW && 2 * tw - padLeft + 9 < W; tw += 4) {
          let p = src + (<usize>(r0 * W + 2 * tw - padLeft) << 2);
          let l0 = v128.load(p), l1 = v128.load(p, 16), m0 = v128.load(p, 8), m1 = v128.load(p, 24);
          const d00 = even(l0, l1), d01 = odd(l0, l1), d02 = even(m0, m1), d03 = odd(m0, m1);
          p += rs;
          l0 = v128.load(p); l1 = v128.load(p, 16); m0 = v128.load(p, 8); m1 = v128.load(p, 24);
          const d10 = even(l0, l1), d11 = odd(l0, l1), d12 = even(m0, m1), d13 = odd(m0, m1);
          p += rs;
          l0 = v128.load(p); l1 = v128.load(p, 16); m0 = v128.load(p, 8); m1 = v128.load(p, 24);
          const d20 = even(l0, l1), d21 = odd(l0, l1), d22 = even(m0, m1), d23 = odd(m0, m1);
          p += rs;
          l0 = v128.load(p); l1 = v128.load(p, 16); m0 = v128.load(p, 8); m1 = v128.load(p, 24);
          const d30 = even(l0, l1), d31 = odd(l0, l1), d32 = even(m0, m1), d33 = odd(m0, m1);
          const a0 = f32x4.sub(d00, d20), a1 = f32x4.sub(d01, d21), a2 = f32x4.sub(d02, d22), a3 = f32x4.sub(d03, d23);
          const b0 = f32x4.add(d10, d20), b1 = f32x4.add(d11, d21), b2 = f32x4.add(d12, d22), b3 = f32x4.add(d13, d23);
          const e0 = f32x4.sub(d20, d10), e1 = f32x4.sub(d21, d11), e2 = f32x4.sub(d22, d12), e3 = f32x4.sub(d23, d13);
          const f0 = f32x4.sub(d10, d30), f1 = f32x4.sub(d11, d31), f2 = f32x4.sub(d12, d32), f3 = f32x4.sub(d13, d33);
          let q = v;
          v128.store(q, f32x4.sub(a0, a2)); q += plane; v128.store(q, f32x4.add(a1, a2)); q += plane;
          v128.store(q, f32x4.sub(a2, a1)); q += plane; v128.store(q, f32x4.sub(a1, a3)); q += plane;
          v128.store(q, f32x4.sub(b0, b2)); q += plane; v128.store(q, f32x4.add(b1, b2)); q += plane;
          v128.store(q, f32x4.sub(b2, b1)); q += plane; v128.store(q, f32x4.sub(b1, b3)); q += plane;
          v128.store(q, f32x4.sub(e0, e2)); q += plane; v128.store(q, f32x4.add(e1, e2)); q += plane;
          v128.store(q, f32x4.sub(e2, e1)); q += plane; v128.store(q, f32x4.sub(e1, e3)); q += plane;
          v128.store(q, f32x4.sub(f0, f2)); q += plane; v128.store(q, f32x4.add(f1, f2)); q += plane;
          v128.store(q, f32x4.sub(f2, f1)); q += plane; v128.store(q, f32x4.sub(f1, f3));
          v += 16;
        }
      }
      for (; tw < tilesW; tw++) {
        inputTile(src, H, W, r0, 2 * tw - padLeft, v, plane);
        v += 4;
      }
    }
  }
}

/** out (+)= A^T M A for one tile whose 16 values are at m, m + plane, ... (only the part inside outH x outW). */
function outputTile(m: usize, plane: usize, dst: usize, r: i32, c: i32, outH: i32, outW: i32, accumulate: i32): void {
  let q = m;
  const m00 = load<f32>(q); q += plane; const m01 = load<f32>(q); q += plane; const m02 = load<f32>(q); q += plane; const m03 = load<f32>(q); q += plane;
  const m10 = load<f32>(q); q += plane; const m11 = load<f32>(q); q += plane; const m12 = load<f32>(q); q += plane; const m13 = load<f32>(q); q += plane;
  const m20 = load<f32>(q); q += plane; const m21 = load<f32>(q); q += plane; const m22 = load<f32>(q); q += plane; const m23 = load<f32>(q); q += plane;
  const m30 = load<f32>(q); q += plane; const m31 = load<f32>(q); q += plane; const m32 = load<f32>(q); q += plane; const m33 = load<f32>(q);
  // rows: A^T M
  const s0 = m00 + m10 + m20, s1 = m01 + m11 + m21, s2 = m02 + m12 + m22, s3 = m03 + m13 + m23;
  const t0 = m10 - m20 - m30, t1 = m11 - m21 - m31, t2 = m12 - m22 - m32, t3 = m13 - m23 - m33;
  // columns: (.) A
  const y00 = s0 + s1 + s2, y01 = s1 - s2 - s3;
  const y10 = t0 + t1 + t2, y11 = t1 - t2 - t3;
  const p = dst + (<usize>(r * outW + c) << 2);
  const right = c + 1 < outW;
  const below = r + 1 < outH;
  if (accumulate) {
    store<f32>(p, load<f32>(p) + y00);
    if (right) store<f32>(p, load<f32>(p, 4) + y01, 4);
    if (below) {
      const p1 = p + (<usize>outW << 2);
      store<f32>(p1, load<f32>(p1) + y10);
      if (right) store<f32>(p1, load<f32>(p1, 4) + y11, 4);
    }
  } else {
    store<f32>(p, y00);
    if (right) store<f32>(p, y01, 4);
    if (below) {
      const p1 = p + (<usize>outW << 2);
      store<f32>(p1, y10);
      if (right) store<f32>(p1, y11, 4);
    }
  }
}

/**
 * out[o] (+)= A^T M A for every tile of one image: M[xi][o][tOffset + t]
 * (row length tStride), out is O planes of outH x outW; tiles past the edge
 * write only their valid part. Four whole tiles of a row go at once (lane l
 * is tile tw + l; its two output columns are interleaved back by shuffles).
 */
export function winogradOutput(M: usize, O: i32, tStride: i32, tOffset: i32, tilesH: i32, tilesW: i32, outH: i32, outW: i32, out: usize, accumulate: i32): void {
  const plane = <usize>(O * tStride) << 2;
  const rowBytes = <usize>outW << 2;
  for (let o = 0; o < O; o++) {
    const dst = out + (<usize>(o * outH * outW) << 2);
    let m = M + (<usize>(o * tStride + tOffset) << 2);
    for (let th = 0; th < tilesH; th++) {
      const r = 2 * th;
      let tw = 0;
      if (r + 1 < outH) {
        for (; tw + 4 <= tilesW && 2 * tw + 8 <= outW; tw += 4) {
          let q = m;
          const m00 = v128.load(q); q += plane; const m01 = v128.load(q); q += plane; const m02 = v128.load(q); q += plane; const m03 = v128.load(q); q += plane;
          const m10 = v128.load(q); q += plane; const m11 = v128.load(q); q += plane; const m12 = v128.load(q); q += plane; const m13 = v128.load(q); q += plane;
          const m20 = v128.load(q); q += plane; const m21 = v128.load(q); q += plane; const m22 = v128.load(q); q += plane; const m23 = v128.load(q); q += plane;
          const m30 = v128.load(q); q += plane; const m31 = v128.load(q); q += plane; const m32 = v128.load(q); q += plane; const m33 = v128.load(q);
          const s0 = f32x4.add(f32x4.add(m00, m10), m20), s1 = f32x4.add(f32x4.add(m01, m11), m21);
          const s2 = f32x4.add(f32x4.add(m02, m12), m22), s3 = f32x4.add(f32x4.add(m03, m13), m23);
          const t0 = f32x4.sub(f32x4.sub(m10, m20), m30), t1 = f32x4.sub(f32x4.sub(m11, m21), m31);
          const t2 = f32x4.sub(f32x4.sub(m12, m22), m32), t3 = f32x4.sub(f32x4.sub(m13, m23), m33);
          const y00 = f32x4.add(f32x4.add(s0, s1), s2), y01 = f32x4.sub(f32x4.sub(s1, s2), s3);
          const y10 = f32x4.add(f32x4.add(t0, t1), t2), y11 = f32x4.sub(f32x4.sub(t1, t2), t3);
          const p = dst + (<usize>(r * outW + 2 * tw) << 2);
          const p1 = p + rowBytes;
          let a = i32x4.shuffle(y00, y01, 0, 4, 1, 5), b = i32x4.shuffle(y00, y01, 2, 6, 3, 7);
          let e = i32x4.shuffle(y10, y11, 0, 4, 1, 5), f = i32x4.shuffle(y10, y11, 2, 6, 3, 7);
          if (accumulate) {
            a = f32x4.add(a, v128.load(p)); b = f32x4.add(b, v128.load(p, 16));
            e = f32x4.add(e, v128.load(p1)); f = f32x4.add(f, v128.load(p1, 16));
          }
          v128.store(p, a); v128.store(p, b, 16);
          v128.store(p1, e); v128.store(p1, f, 16);
          m += 16;
        }
      }
      for (; tw < tilesW; tw++) {
        outputTile(m, plane, dst, r, 2 * tw, outH, outW, accumulate);
        m += 4;
      }
    }
  }
}

/**
 * The weight of a 3x3 convolution's input gradient as a convolution:
 * dst[c][o] = src[o][c] rotated by 180 degrees ([O, C, 3, 3] -> [C, O, 3, 3]).
 */
export function flip3x3(src: usize, O: i32, C: i32, dst: usize): void {
  for (let o = 0; o < O; o++) {
    for (let c = 0; c < C; c++) {
      const s = src + (<usize>((o * C + c) * 9) << 2);
      const d = dst + (<usize>((c * O + o) * 9) << 2);
      for (let t = 0; t < 9; t++) store<f32>(d + (<usize>t << 2), load<f32>(s + (<usize>(8 - t) << 2)));
    }
  }
}
