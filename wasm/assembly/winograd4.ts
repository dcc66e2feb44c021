// Winograd F(4x4, 3x3) for 3x3 stride-1 convolutions (Lavin & Gray 2015,
// interpolation points 0, ±1, ±2, ∞): each 4x4 output tile is
// A^T [(G g G^T) .* (B^T d B)] A for its 6x6 input patch d, so the sum over
// input channels becomes 36 matrix products
//   M[xi] (O x T) = U[xi] (O x C) * V[xi] (C x T),  xi = 0..35,
// 36 multiplies per 16 outputs per (o, c) instead of 144 (4x fewer; F(2x2)
// needs 16 per 4, 2.25x fewer). Layouts as in ./winograd.ts, xi = 6 i + j:
//   U[xi][o][c], V[xi][c][t], M[xi][o][t], t = image * tilesPerImage + tile.
//   B^T = [4 0 -5 0 1 0; 0 -4 -4 1 1 0; 0 4 -4 -1 1 0; 0 -2 -1 2 1 0; 0 2 -1 -2 1 0; 0 4 0 -5 0 1]
//   G   = [1/4 0 0; -1/6 -1/6 -1/6; -1/6 1/6 -1/6; 1/24 1/12 1/6; 1/24 -1/12 1/6; 0 0 1]
//   A^T = [1 1 1 1 1 0; 0 1 -1 2 -2 0; 0 1 1 4 4 0; 0 1 -1 8 -8 1]
// The larger constants round more than F(2x2)'s ±1, ±½ (errors about 4x
// larger in float32); the weights are transformed in float64.
//
// Both transforms vectorise over four neighbouring tiles of a row (lane l =
// tile tw + l). To need no bounds checks, each input plane is first copied
// into a zero-padded plane that every tile lies inside, and the output goes
// to a padded plane of whole tiles whose valid part is then copied (or added)
// out. A row whose tile count is not a multiple of four ends with a group
// that overlaps the one before (the same values written twice).

/** Scratch for the transforms' intermediate rows: 36 v128, then 6 more for results. */
const SCRATCH: usize = memory.data(42 * 16, 16);
const RESULTS: usize = SCRATCH + 36 * 16;
/** G g of one weight (6 x 3 float64). */
const WEIGHT_ROWS: usize = memory.data(18 * 8, 8);

// @ts-ignore: decorator
@inline
function splat(x: f32): v128 {
  return f32x4.splat(x);
}

/** The six values of B^T v (v at p, p + step, ...) into q, q + qStep, ... */
// @ts-ignore: decorator
@inline
function inputLine(v0: v128, v1: v128, v2: v128, v3: v128, v4: v128, v5: v128, q: usize, qStep: usize): void {
  const four = splat(4), five = splat(5), two = splat(2);
  const a = f32x4.sub(v4, f32x4.mul(four, v2));
  const b = f32x4.sub(v3, f32x4.mul(four, v1));
  const c = f32x4.sub(v4, v2);
  const d = f32x4.mul(two, f32x4.sub(v3, v1));
  v128.store(q, f32x4.add(f32x4.sub(v4, f32x4.mul(five, v2)), f32x4.mul(four, v0)));
  v128.store(q + qStep, f32x4.add(a, b));
  v128.store(q + 2 * qStep, f32x4.sub(a, b));
  v128.store(q + 3 * qStep, f32x4.add(c, d));
  v128.store(q + 4 * qStep, f32x4.sub(c, d));
  v128.store(q + 5 * qStep, f32x4.add(f32x4.sub(v5, f32x4.mul(five, v3)), f32x4.mul(four, v1)));
}

/**
 * U[xi][o][c] = (G w[o][c] G^T)[xi] for a [O, C, 3, 3] weight (float64
 * arithmetic, rounded once).
 */
export function winograd4Weights(weight: usize, O: i32, C: i32, U: usize): void {
  const plane = <usize>(O * C) << 2;
  const t = WEIGHT_ROWS;
  for (let o = 0; o < O; o++) {
    for (let c = 0; c < C; c++) {
      const w = weight + (<usize>((o * C + c) * 9) << 2);
      // t = G g (6 x 3), column by column
      for (let k = 0; k < 3; k++) {
        const v0 = <f64>load<f32>(w + (<usize>k << 2));
        const v1 = <f64>load<f32>(w + (<usize>(3 + k) << 2));
        const v2 = <f64>load<f32>(w + (<usize>(6 + k) << 2));
        store<f64>(t + (<usize>k << 3), v0 / 4);
        store<f64>(t + (<usize>(3 + k) << 3), -(v0 + v1 + v2) / 6);
        store<f64>(t + (<usize>(6 + k) << 3), -(v0 - v1 + v2) / 6);
        store<f64>(t + (<usize>(9 + k) << 3), v0 / 24 + v1 / 12 + v2 / 6);
        store<f64>(t + (<usize>(12 + k) << 3), v0 / 24 - v1 / 12 + v2 / 6);
        store<f64>(t + (<usize>(15 + k) << 3), v2);
      }
      // U row i = G (row i of t)
      let u = U + (<usize>(o * C + c) << 2);
      for (let i = 0; i < 6; i++) {
        const v0 = load<f64>(t + (<usize>(3 * i) << 3));
        const v1 = load<f64>(t + (<usize>(3 * i + 1) << 3));
        const v2 = load<f64>(t + (<usize>(3 * i + 2) << 3));
        store<f32>(u, <f32>(v0 / 4)); u += plane;
        store<f32>(u, <f32>(-(v0 + v1 + v2) / 6)); u += plane;
        store<f32>(u, <f32>(-(v0 - v1 + v2) / 6)); u += plane;
        store<f32>(u, <f32>(v0 / 24 + v1 / 12 + v2 / 6)); u += plane;
        store<f32>(u, <f32>(v0 / 24 - v1 / 12 + v2 / 6)); u += plane;
        store<f32>(u, <f32>v2); u += plane;
      }
    }
  }
}

/** Floats of the padded input plane winograd4Input needs at `pad`. */
export function winograd4InputScratch(tilesH: i32, tilesW: i32): i32 {
  return (4 * tilesH + 2) * (4 * tilesW + 2) + 4;
}

/** Floats of the padded output plane winograd4Output needs at `pad`. */
export function winograd4OutputScratch(tilesH: i32, tilesW: i32): i32 {
  return 16 * tilesH * tilesW;
}

/** B^T d B of the four tiles whose patches start at p (rows of rs bytes, lane l at column 4 l) into V at v. */
// @ts-ignore: decorator
@inline
function inputQuad(p: usize, rs: usize, v: usize, plane: usize): void {
  // rows: gather each of the 6 rows into 6 vectors (column j of every lane), apply B^T along the row
  let r = p;
  for (let i = 0; i < 6; i++) {
    const x0 = v128.load(r), x1 = v128.load(r, 16), x2 = v128.load(r, 32), x3 = v128.load(r, 48), x4 = v128.load(r, 56);
    const t0 = i32x4.shuffle(x0, x1, 0, 4, 1, 5), t1 = i32x4.shuffle(x2, x3, 0, 4, 1, 5);
    const t2 = i32x4.shuffle(x0, x1, 2, 6, 3, 7), t3 = i32x4.shuffle(x2, x3, 2, 6, 3, 7);
    const a = i32x4.shuffle(x1, x2, 0, 1, 4, 5), b = i32x4.shuffle(x3, x4, 0, 1, 6, 7);
    inputLine(
      i32x4.shuffle(t0, t1, 0, 1, 4, 5), i32x4.shuffle(t0, t1, 2, 3, 6, 7),
      i32x4.shuffle(t2, t3, 0, 1, 4, 5), i32x4.shuffle(t2, t3, 2, 3, 6, 7),
      i32x4.shuffle(a, b, 0, 2, 4, 6), i32x4.shuffle(a, b, 1, 3, 5, 7),
      SCRATCH + (<usize>(6 * i) << 4), 16,
    );
    r += rs;
  }
  // columns: B^T along each column j of the rows above
  for (let j = 0; j < 6; j++) {
    const s = SCRATCH + (<usize>j << 4);
    inputLine(
      v128.load(s), v128.load(s, 96), v128.load(s, 192), v128.load(s, 288), v128.load(s, 384), v128.load(s, 480),
      v + <usize>j * plane, 6 * plane,
    );
  }
}

/** One tile (patch at p), lane by lane: for rows of fewer than four tiles. */
function inputSingle(p: usize, rs: usize, v: usize, plane: usize): void {
  // Put the patch in lane 0 of six vectors per row and reuse the vector steps; store lane 0 only.
  let r = p;
  for (let i = 0; i < 6; i++) {
    inputLine(
      splat(load<f32>(r)), splat(load<f32>(r, 4)), splat(load<f32>(r, 8)),
      splat(load<f32>(r, 12)), splat(load<f32>(r, 16)), splat(load<f32>(r, 20)),
      SCRATCH + (<usize>(6 * i) << 4), 16,
    );
    r += rs;
  }
  for (let j = 0; j < 6; j++) {
    const s = SCRATCH + (<usize>j << 4);
    const q = RESULTS;
    const c0 = v128.load(s), c1 = v128.load(s, 96), c2 = v128.load(s, 192), c3 = v128.load(s, 288), c4 = v128.load(s, 384), c5 = v128.load(s, 480);
    inputLine(c0, c1, c2, c3, c4, c5, q, 16);
    for (let i = 0; i < 6; i++) store<f32>(v + <usize>(6 * i + j) * plane, f32x4.extract_lane(v128.load(q + (<usize>i << 4)), 0));
  }
}

/**
 * V[xi][c][tOffset + t] = (B^T d B)[xi] for the C channel planes (H x W) of
 * one image, tile t = th * tilesW + tw reading rows 4 th - padTop .. +5 and
 * columns 4 tw - padLeft .. +5 (zeros outside). `tStride` is the row length
 * of V; `pad` is winograd4InputScratch floats of scratch.
 */
export function winograd4Input(image: usize, C: i32, H: i32, W: i32, padTop: i32, padLeft: i32, tilesH: i32, tilesW: i32, V: usize, tStride: i32, tOffset: i32, pad: usize): void {
  const plane = <usize>(C * tStride) << 2;
  const Hp = 4 * tilesH + 2;
  const Wp = 4 * tilesW + 2;
  const rs = <usize>Wp << 2;
  memory.fill(pad, 0, <usize>(winograd4InputScratch(tilesH, tilesW)) << 2);
  // The part of the image that lands inside the padded plane.
  const r0 = max(0, -padTop), r1 = min(H, Hp - padTop);
  const c0 = max(0, -padLeft), c1 = min(W, Wp - padLeft);
  for (let c = 0; c < C; c++) {
    const src = image + (<usize>(c * H * W) << 2);
    if (c1 > c0) {
      for (let r = r0; r < r1; r++) {
        memory.copy(pad + (<usize>((r + padTop) * Wp + c0 + padLeft) << 2), src + (<usize>(r * W + c0) << 2), <usize>(c1 - c0) << 2);
      }
    }
    const v = V + (<usize>(c * tStride + tOffset) << 2);
    for (let th = 0; th < tilesH; th++) {
      const row = pad + <usize>(4 * th) * rs;
      const vr = v + (<usize>(th * tilesW) << 2);
      if (tilesW < 4) {
        for (let tw = 0; tw < tilesW; tw++) inputSingle(row + (<usize>(4 * tw) << 2), rs, vr + (<usize>tw << 2), plane);
        continue;
      }
      for (let tw = 0; tw < tilesW; tw += 4) {
        const t = min(tw, tilesW - 4);
        inputQuad(row + (<usize>(4 * t) << 2), rs, vr + (<usize>t << 2), plane);
      }
    }
  }
}

/** The four values of A^T m for m at s, s + step, ... */
// @ts-ignore: decorator
@inline
function outputLine(m0: v128, m1: v128, m2: v128, m3: v128, m4: v128, m5: v128, q: usize, qStep: usize): void {
  const s = f32x4.add(m1, m2), d = f32x4.sub(m1, m2);
  const s2 = f32x4.add(m3, m4), d2 = f32x4.sub(m3, m4);
  v128.store(q, f32x4.add(f32x4.add(m0, s), s2));
  v128.store(q + qStep, f32x4.add(d, f32x4.mul(splat(2), d2)));
  v128.store(q + 2 * qStep, f32x4.add(s, f32x4.mul(splat(4), s2)));
  v128.store(q + 3 * qStep, f32x4.add(f32x4.add(d, f32x4.mul(splat(8), d2)), m5));
}

/**
 * out[o] (+)= A^T M A for every tile of one image: M[xi][o][tOffset + t]
 * (row length tStride), out is O planes of outH x outW. `pad` is
 * winograd4OutputScratch floats of scratch.
 */
export function winograd4Output(M: usize, O: i32, tStride: i32, tOffset: i32, tilesH: i32, tilesW: i32, outH: i32, outW: i32, out: usize, accumulate: i32, pad: usize): void {
  const plane = <usize>(O * tStride) << 2;
  const Wp = 4 * tilesW;
  const rs = <usize>Wp << 2;
  for (let o = 0; o < O; o++) {
    const m = M + (<usize>(o * tStride + tOffset) << 2);
    for (let th = 0; th < tilesH; th++) {
      const mr = m + (<usize>(th * tilesW) << 2);
      const row = pad + <usize>(4 * th) * rs;
      const quads = tilesW >= 4;
      for (let tw = 0; tw < tilesW; tw += quads ? 4 : 1) {
        const t = quads ? min(tw, tilesW - 4) : tw;
        const q = mr + (<usize>t << 2);
        // columns: A^T along each column j (rows i = 0..5 of M) into SCRATCH rows 0..3 (4 x 6)
        for (let j = 0; j < 6; j++) {
          const e = q + <usize>j * plane;
          outputLine(
            v128.load(e), v128.load(e + 6 * plane), v128.load(e + 12 * plane),
            v128.load(e + 18 * plane), v128.load(e + 24 * plane), v128.load(e + 30 * plane),
            SCRATCH + (<usize>j << 4), 96,
          );
        }
        // rows: A^T along each row r, then the 4 x 4 transpose back to pixels
        for (let r = 0; r < 4; r++) {
          const z = SCRATCH + <usize>(96 * r);
          const y = RESULTS;
          outputLine(v128.load(z), v128.load(z, 16), v128.load(z, 32), v128.load(z, 48), v128.load(z, 64), v128.load(z, 80), y, 16);
          const y0 = v128.load(y), y1 = v128.load(y, 16), y2 = v128.load(y, 32), y3 = v128.load(y, 48);
          const dst = row + <usize>r * rs + (<usize>(4 * t) << 2);
          if (quads) {
            const t0 = i32x4.shuffle(y0, y1, 0, 4, 1, 5), t1 = i32x4.shuffle(y2, y3, 0, 4, 1, 5);
            const t2 = i32x4.shuffle(y0, y1, 2, 6, 3, 7), t3 = i32x4.shuffle(y2, y3, 2, 6, 3, 7);
            v128.store(dst, i32x4.shuffle(t0, t1, 0, 1, 4, 5));
            v128.store(dst, i32x4.shuffle(t0, t1, 2, 3, 6, 7), 16);
            v128.store(dst, i32x4.shuffle(t2, t3, 0, 1, 4, 5), 32);
            v128.store(dst, i32x4.shuffle(t2, t3, 2, 3, 6, 7), 48);
          } else {
            // lane 0 only (one tile)
            store<f32>(dst, f32x4.extract_lane(y0, 0));
            store<f32>(dst, f32x4.extract_lane(y1, 0), 4);
            store<f32>(dst, f32x4.extract_lane(y2, 0), 8);
            store<f32>(dst, f32x4.extract_lane(y3, 0), 12);
          }
        }
      }
    }
    // The valid outH x outW part of the padded plane into out[o].
    const dst = out + (<usize>(o * outH * outW) << 2);
    for (let r = 0; r < outH; r++) {
      const s = pad + <usize>r * rs;
      const d = dst + (<usize>(r * outW) << 2);
      if (!accumulate) {
        memory.copy(d, s, <usize>outW << 2);
        continue;
      }
      let k = 0;
      for (; k + 4 <= outW; k += 4) {
        const at = <usize>k << 2;
        v128.store(d + at, f32x4.add(v128.load(d + at), v128.load(s + at)));
      }
      for (; k < outW; k++) {
        const at = <usize>k << 2;
        store<f32>(d + at, load<f32>(d + at) + load<f32>(s + at));
      }
    }
  }
}
