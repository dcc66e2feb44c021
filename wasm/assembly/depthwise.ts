// Depthwise convolution of one image (src/tensor/kernels/depthwise.ts is the
// pure-TS twin; see there for the index map): `multiplier` output channels
// per input channel, output channel o reads input channel o / multiplier.
//
// Forward: each output pixel sums its taps in a register, in the twin's
// order (ki, kj), onto what `out` holds (the bias). Four output columns go
// at once where every tap of the four lies inside the input row (stride 1:
// one load per tap; stride 2: two loads, even lanes). Everything else, and
// other strides, goes one pixel at a time with bounds checks.
//
// Input gradient: at stride 1 it is a gather, dImage[c][ih][iw] += sum over
// the channel's outputs o and taps of w[o][ki][kj] * dOut[o][ih + padTop -
// ki dH][iw + padLeft - kj dW], vectorised the same way; other strides
// scatter tap by tap as the twin does.

// @ts-ignore: decorator
@inline
function ceilDiv(a: i32, b: i32): i32 {
  return a <= 0 ? 0 : (a + b - 1) / b;
}

/** out[o] += depthwise conv of image (one image; `out` holds the bias or zeros). The image needs 8 readable floats after it. */
export function depthwiseForward(
  image: usize, weight: usize, out: usize, channels: i32, multiplier: i32,
  inH: i32, inW: i32, outH: i32, outW: i32, kH: i32, kW: i32,
  sH: i32, sW: i32, padTop: i32, padLeft: i32, dH: i32, dW: i32,
): void {
  const outChannels = channels * multiplier;
  const taps = kH * kW;
  // Output columns whose every tap is inside the row: [lo, hi).
  const lo = min(ceilDiv(padLeft, sW), outW);
  const reach = (kW - 1) * dW - padLeft; // input column of the last tap of output 0
  const hi = max(lo, inW - 1 - reach < 0 ? 0 : min(outW, (inW - 1 - reach) / sW + 1));
  const vector = sW == 1 || sW == 2;
  const vEnd = vector ? lo + (((hi - lo) >> 2) << 2) : lo;
  const rowBytes = <usize>inW << 2;
  for (let o = 0; o < outChannels; o++) {
    const src = image + (<usize>((o / multiplier) * inH * inW) << 2);
    const w = weight + (<usize>(o * taps) << 2);
    const dst = out + (<usize>(o * outH * outW) << 2);
    for (let oh = 0; oh < outH; oh++) {
      const ih0 = oh * sH - padTop;
      const d = dst + (<usize>(oh * outW) << 2);
      // Vector part.
      for (let ow = lo; ow < vEnd; ow += 4) {
        let acc = v128.load(d + (<usize>ow << 2));
        const c0 = ow * sW - padLeft;
        for (let ki = 0; ki < kH; ki++) {
          const ih = ih0 + ki * dH;
          if (<u32>ih >= <u32>inH) continue;
          const row = src + <usize>ih * rowBytes;
          const wRow = w + (<usize>(ki * kW) << 2);
          for (let kj = 0; kj < kW; kj++) {
            const at = row + (<usize>(c0 + kj * dW) << 2);
            const px = sW == 1 ? v128.load(at) : i32x4.shuffle(v128.load(at), v128.load(at, 16), 0, 2, 4, 6);
            acc = f32x4.add(acc, f32x4.mul(v128.load32_splat(wRow + (<usize>kj << 2)), px));
          }
        }
        v128.store(d + (<usize>ow << 2), acc);
      }
      // Scalar part: [0, lo) and [vEnd, outW).
      for (let ow = 0; ow < outW; ow++) {
        if (ow == lo && lo < vEnd) ow = vEnd;
        if (ow >= outW) break;
        let acc = load<f32>(d + (<usize>ow << 2));
        const c0 = ow * sW - padLeft;
        for (let ki = 0; ki < kH; ki++) {
          const ih = ih0 + ki * dH;
          if (<u32>ih >= <u32>inH) continue;
          const row = src + <usize>ih * rowBytes;
          for (let kj = 0; kj < kW; kj++) {
            const iw = c0 + kj * dW;
            if (<u32>iw >= <u32>inW) continue;
            acc += load<f32>(w + (<usize>(ki * kW + kj) << 2)) * load<f32>(row + (<usize>iw << 2));
          }
        }
        store<f32>(d + (<usize>ow << 2), acc);
      }
    }
  }
}

/** dImage[c] += the adjoint of depthwiseForward applied to dOut (one image). */
export function depthwiseInputGradient(
  dOut: usize, weight: usize, dImage: usize, channels: i32, multiplier: i32,
  inH: i32, inW: i32, outH: i32, outW: i32, kH: i32, kW: i32,
  sH: i32, sW: i32, padTop: i32, padLeft: i32, dH: i32, dW: i32,
): void {
  const taps = kH * kW;
  if (sH != 1 || sW != 1) {
    scatter(dOut, weight, dImage, channels, multiplier, inH, inW, outH, outW, kH, kW, sH, sW, padTop, padLeft, dH, dW);
    return;
  }
  // Gather: input column iw reads output columns iw + padLeft - kj dW; all inside for [lo, hi).
  const lo = min(max((kW - 1) * dW - padLeft, 0), inW);
  const hi = max(lo, min(inW, outW - padLeft));
  const vEnd = lo + (((hi - lo) >> 2) << 2);
  const outRowBytes = <usize>outW << 2;
  for (let c = 0; c < channels; c++) {
    const dst = dImage + (<usize>(c * inH * inW) << 2);
    for (let ih = 0; ih < inH; ih++) {
      const d = dst + (<usize>(ih * inW) << 2);
      for (let iw = lo; iw < vEnd; iw += 4) {
        let acc = v128.load(d + (<usize>iw << 2));
        for (let m = 0; m < multiplier; m++) {
          const o = c * multiplier + m;
          const src = dOut + (<usize>(o * outH * outW) << 2);
          const w = weight + (<usize>(o * taps) << 2);
          for (let ki = 0; ki < kH; ki++) {
            const oh = ih + padTop - ki * dH;
            if (<u32>oh >= <u32>outH) continue;
            const row = src + <usize>oh * outRowBytes;
            for (let kj = 0; kj < kW; kj++) {
              const px = v128.load(row + (<usize>(iw + padLeft - kj * dW) << 2));
              acc = f32x4.add(acc, f32x4.mul(v128.load32_splat(w + (<usize>(ki * kW + kj) << 2)), px));
            }
          }
        }
        v128.store(d + (<usize>iw << 2), acc);
      }
      for (let iw = 0; iw < inW; iw++) {
        if (iw == lo && lo < vEnd) iw = vEnd;
        if (iw >= inW) break;
        let acc = load<f32>(d + (<usize>iw << 2));
        for (let m = 0; m < multiplier; m++) {
          const o = c * multiplier + m;
          const src = dOut + (<usize>(o * outH * outW) << 2);
          const w = weight + (<usize>(o * taps) << 2);
          for (let ki = 0; ki < kH; ki++) {
            const oh = ih + padTop - ki * dH;
            if (<u32>oh >= <u32>outH) continue;
            const row = src + <usize>oh * outRowBytes;
            for (let kj = 0; kj < kW; kj++) {
              const ow = iw + padLeft - kj * dW;
              if (<u32>ow >= <u32>outW) continue;
              acc += load<f32>(w + (<usize>(ki * kW + kj) << 2)) * load<f32>(row + (<usize>ow << 2));
            }
          }
        }
        store<f32>(d + (<usize>iw << 2), acc);
      }
    }
  }
}

/** The twin's loop: each tap's weighted output row added onto the input pixels it came from. */
function scatter(
  dOut: usize, weight: usize, dImage: usize, channels: i32, multiplier: i32,
  inH: i32, inW: i32, outH: i32, outW: i32, kH: i32, kW: i32,
  sH: i32, sW: i32, padTop: i32, padLeft: i32, dH: i32, dW: i32,
): void {
  const outChannels = channels * multiplier;
  const step = <usize>sW << 2;
  for (let o = 0; o < outChannels; o++) {
    const img = dImage + (<usize>((o / multiplier) * inH * inW) << 2);
    const src = dOut + (<usize>(o * outH * outW) << 2);
    for (let ki = 0; ki < kH; ki++) {
      for (let kj = 0; kj < kW; kj++) {
        const w = load<f32>(weight + (<usize>((o * kH + ki) * kW + kj) << 2));
        const colOffset = kj * dW - padLeft;
        const first = min(ceilDiv(-colOffset, sW), outW);
        const end = max(min(ceilDiv(inW - colOffset, sW), outW), first);
        for (let oh = 0; oh < outH; oh++) {
          const ih = oh * sH - padTop + ki * dH;
          if (<u32>ih >= <u32>inH) continue;
          let s = img + (<usize>(ih * inW + first * sW + colOffset) << 2);
          let g = src + (<usize>(oh * outW + first) << 2);
          for (let ow = first; ow < end; ow++) {
            store<f32>(s, load<f32>(s) + w * load<f32>(g));
            s += step;
            g += 4;
          }
        }
      }
    }
  }
}
