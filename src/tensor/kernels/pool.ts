/**
 * Max pooling over the planes of an NCHW tensor, pure TS (the WebAssembly
 * twin is wasm/assembly/pool.ts).
 */

/** A 2-D pooling window: output size, kernel, stride, dilation and leading padding. */
export interface PoolWindow {
  outH: number;
  outW: number;
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  dh: number;
  dw: number;
  top: number;
  left: number;
}

/**
 * out[p, oh, ow] = max over the window (padding cells skipped). As PyTorch:
 * start at -Infinity, take a value that is strictly greater or NaN, so ties
 * keep the first maximum and a NaN wins. `argmax`, when given, receives the
 * offset of each output's winning cell within its input plane (-1: none).
 */
export function maxPool2d(x: Float32Array, out: Float32Array, argmax: Int32Array | null, planes: number, H: number, W: number, g: PoolWindow): void {
  const { kh, kw, sh, sw, dh, dw, top, left, outH, outW } = g;
  if (kh === 2 && kw === 2 && sh === 2 && sw === 2 && dh === 1 && dw === 1 && top === 0 && left === 0 && outH * 2 === H && outW * 2 === W) {
    return maxPool2x2(x, out, argmax, planes, H, W);
  }
  const outPlane = outH * outW;
  for (let p = 0; p < planes; p++) {
    const base = p * H * W;
    let o = p * outPlane;
    for (let oh = 0; oh < outH; oh++) {
      // First tap row inside the input, and the end (exclusive) of the rows.
      let ih0 = oh * sh - top;
      const ihEnd = Math.min(ih0 + (kh - 1) * dh + 1, H);
      while (ih0 < 0) ih0 += dh;
      for (let ow = 0; ow < outW; ow++, o++) {
        let iw0 = ow * sw - left;
        const iwEnd = Math.min(iw0 + (kw - 1) * dw + 1, W);
        while (iw0 < 0) iw0 += dw;
        let best = -Infinity;
        let at = ih0 < ihEnd && iw0 < iwEnd ? ih0 * W + iw0 : -1;
        for (let ih = ih0; ih < ihEnd; ih += dh) {
          const row = base + ih * W;
          for (let iw = iw0; iw < iwEnd; iw += dw) {
            const v = x[row + iw]!;
            if (v > best || v !== v) {
              best = v;
              at = ih * W + iw;
            }
          }
        }
        out[o] = best;
        if (argmax) argmax[o] = at;
      }
    }
  }
}

/**
 * maxPool2d's most common window, 2x2 stride 2 (no dilation) over even planes, written out:
 * the same values and argmax (same taps, same order, same comparison). In a
 * process's first call V8 runs the general loop nest interpreted and then
 * compiles it twice (on-stack, then whole); this small loop is optimized
 * sooner and cheaper (bench/cold-start.ts: ~25 ms less CPU to the shapes
 * model's first map on the JS kernels).
 */
function maxPool2x2(x: Float32Array, out: Float32Array, argmax: Int32Array | null, planes: number, H: number, W: number): void {
  const outH = H >> 1;
  const outW = W >> 1;
  let o = 0;
  for (let p = 0; p < planes; p++) {
    const base = p * H * W;
    for (let oh = 0; oh < outH; oh++) {
      const r0 = 2 * oh * W;
      const r1 = r0 + W;
      for (let ow = 0; ow < outW; ow++, o++) {
        const c0 = r0 + 2 * ow;
        const c1 = r1 + 2 * ow;
        // As the general loop: start at -Infinity (the first cell wins a tie), a greater value or a NaN replaces.
        let best = -Infinity;
        let at = c0;
        let v = x[base + c0]!;
        if (v > best || v !== v) { best = v; at = c0; }
        v = x[base + c0 + 1]!;
        if (v > best || v !== v) { best = v; at = c0 + 1; }
        v = x[base + c1]!;
        if (v > best || v !== v) { best = v; at = c1; }
        v = x[base + c1 + 1]!;
        if (v > best || v !== v) { best = v; at = c1 + 1; }
        out[o] = best;
        if (argmax) argmax[o] = at;
      }
    }
  }
}
