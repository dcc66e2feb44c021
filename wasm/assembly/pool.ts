// Max pooling over the planes of an NCHW tensor (src/tensor/kernels/pool.ts
// is the pure-TS twin). As PyTorch: each window starts at -Infinity and takes
// a value that is strictly greater or NaN, so ties keep the first maximum and
// a NaN wins; padding cells are skipped. `argmax` (0: not wanted) receives the
// offset of each output's winning cell within its input plane, -1 for none.
// Runs of four outputs whose windows lie inside the input go four at a time
// (stride 1 or 2, no dilation in width), their argmax kept lane by lane.

// @ts-ignore: decorator
@inline
function takes(v: f32, best: f32): bool {
  return v > best || v != v;
}

export function maxPool2d(
  src: usize, dst: usize, argmax: usize, planes: i32, H: i32, W: i32, outH: i32, outW: i32,
  kh: i32, kw: i32, sh: i32, sw: i32, dh: i32, dw: i32, top: i32, left: i32,
): void {
  const plane = <usize>(H * W) << 2;
  const vector = dw == 1 && (sw == 1 || sw == 2);
  // Lane l of a run is output column ow + l: input column c0 + l*sw.
  const laneColumns = i32x4(0, sw, 2 * sw, 3 * sw);
  // Outputs [owFirst, owEnd) have every column of their window inside the input,
  // with room for the widest load of the vector path (stride 2 reads 7 past a tap).
  let owFirst = vector ? (left + sw - 1) / sw : outW;
  let owEnd = owFirst;
  if (vector) {
    const reach = sw == 2 ? kw - 1 + 7 : kw - 1 + 3;
    // ow*sw - left + reach < W for the first lane of the last group of four.
    while (owEnd < outW && owEnd * sw - left + reach < W) owEnd++;
    owEnd = owFirst + ((max(owEnd - owFirst, 0) >> 2) << 2);
  }
  let d = dst;
  let a = argmax;
  for (let p = 0; p < planes; p++) {
    const base = src + <usize>p * plane;
    for (let oh = 0; oh < outH; oh++) {
      let ih0 = oh * sh - top;
      const ihEnd = min(ih0 + (kh - 1) * dh + 1, H);
      while (ih0 < 0) ih0 += dh;
      let ow = 0;
      while (ow < outW) {
        if (ow == owFirst && owFirst < owEnd) {
          // Four outputs at a time: lane l is output ow + l.
          for (; ow < owEnd; ow += 4) {
            let best = f32x4.splat(-Infinity);
            const c0 = ow * sw - left;
            // As the scalar path: the first cell inside the window until a value takes it.
            let index = i32x4.add(i32x4.splat(ih0 * W + c0), laneColumns);
            for (let ih = ih0; ih < ihEnd; ih += dh) {
              const row = base + (<usize>(ih * W + c0) << 2);
              if (argmax == 0) {
                for (let kj = 0; kj < kw; kj++) {
                  const at = row + (<usize>kj << 2);
                  const v = sw == 1 ? v128.load(at) : i32x4.shuffle(v128.load(at), v128.load(at, 16), 0, 2, 4, 6);
                  best = v128.bitselect(v, best, v128.or(f32x4.gt(v, best), f32x4.ne(v, v)));
                }
              } else {
                for (let kj = 0; kj < kw; kj++) {
                  const at = row + (<usize>kj << 2);
                  const v = sw == 1 ? v128.load(at) : i32x4.shuffle(v128.load(at), v128.load(at, 16), 0, 2, 4, 6);
                  const takes = v128.or(f32x4.gt(v, best), f32x4.ne(v, v));
                  best = v128.bitselect(v, best, takes);
                  index = v128.bitselect(i32x4.add(i32x4.splat(ih * W + c0 + kj), laneColumns), index, takes);
                }
              }
            }
            v128.store(d, best);
            d += 16;
            if (argmax != 0) {
              v128.store(a, index);
              a += 16;
            }
          }
          continue;
        }
        let iw0 = ow * sw - left;
        const iwEnd = min(iw0 + (kw - 1) * dw + 1, W);
        while (iw0 < 0) iw0 += dw;
        let best: f32 = -Infinity;
        let at: i32 = ih0 < ihEnd && iw0 < iwEnd ? ih0 * W + iw0 : -1;
        for (let ih = ih0; ih < ihEnd; ih += dh) {
          const row = base + (<usize>(ih * W) << 2);
          for (let iw = iw0; iw < iwEnd; iw += dw) {
            const v = load<f32>(row + (<usize>iw << 2));
            if (takes(v, best)) {
              best = v;
              at = ih * W + iw;
            }
          }
        }
        store<f32>(d, best);
        d += 4;
        if (argmax != 0) {
          store<i32>(a, at);
          a += 4;
        }
        ow++;
      }
    }
  }
}
