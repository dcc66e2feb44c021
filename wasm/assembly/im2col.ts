// im2col / col2im (see src/tensor/kernels/im2col.ts for the layout):
//   col[(c*kH + ki)*kW + kj][oh*outW + ow] = image[c][oh*sH - padTop + ki*dH][ow*sW - padLeft + kj*dW]
// zero where that pixel is padding; col2im adds each entry back onto its pixel.

/** [first, end) of output columns whose input column ow*stride + offset lies in [0, inSize). */
// @ts-ignore: decorator
@inline
function firstValid(offset: i32, stride: i32, outSize: i32): i32 {
  const first = offset >= 0 ? 0 : (-offset + stride - 1) / stride;
  return min(first, outSize);
}
// @ts-ignore: decorator
@inline
function endValid(offset: i32, stride: i32, inSize: i32, outSize: i32, first: i32): i32 {
  const end = inSize - offset <= 0 ? 0 : (inSize - offset + stride - 1) / stride;
  return max(min(end, outSize), first);
}

export function im2col(
  src: usize, channels: i32, inH: i32, inW: i32, outH: i32, outW: i32,
  kH: i32, kW: i32, strideH: i32, strideW: i32, padTop: i32, padLeft: i32, dilationH: i32, dilationW: i32,
  col: usize,
): void {
  const plane = <usize>(inH * inW) << 2;
  let d = col;
  for (let c = 0; c < channels; c++) {
    const planeBase = src + <usize>c * plane;
    for (let ki = 0; ki < kH; ki++) {
      for (let kj = 0; kj < kW; kj++) {
        const colOffset = kj * dilationW - padLeft;
        const owFirst = firstValid(colOffset, strideW, outW);
        const owEnd = endValid(colOffset, strideW, inW, outW, owFirst);
        for (let oh = 0; oh < outH; oh++) {
          const ih = oh * strideH - padTop + ki * dilationH;
          if (ih < 0 || ih >= inH) {
            memory.fill(d, 0, <usize>outW << 2);
            d += <usize>outW << 2;
            continue;
          }
          if (owFirst > 0) memory.fill(d, 0, <usize>owFirst << 2);
          d += <usize>owFirst << 2;
          let s = planeBase + (<usize>(ih * inW + owFirst * strideW + colOffset) << 2);
          if (strideW == 1) {
            const bytes = <usize>(owEnd - owFirst) << 2;
            memory.copy(d, s, bytes);
            d += bytes;
          } else {
            const step = <usize>strideW << 2;
            for (let ow = owFirst; ow < owEnd; ow++) {
              store<f32>(d, load<f32>(s));
              d += 4;
              s += step;
            }
          }
          if (owEnd < outW) memory.fill(d, 0, <usize>(outW - owEnd) << 2);
          d += <usize>(outW - owEnd) << 2;
        }
      }
    }
  }
}

export function col2im(
  col: usize, channels: i32, inH: i32, inW: i32, outH: i32, outW: i32,
  kH: i32, kW: i32, strideH: i32, strideW: i32, padTop: i32, padLeft: i32, dilationH: i32, dilationW: i32,
  dst: usize,
): void {
  const plane = <usize>(inH * inW) << 2;
  let row = 0;
  for (let c = 0; c < channels; c++) {
    const planeBase = dst + <usize>c * plane;
    for (let ki = 0; ki < kH; ki++) {
      for (let kj = 0; kj < kW; kj++) {
        const colOffset = kj * dilationW - padLeft;
        const owFirst = firstValid(colOffset, strideW, outW);
        const owEnd = endValid(colOffset, strideW, inW, outW, owFirst);
        const rowBase = col + (<usize>(row * outH * outW) << 2);
        for (let oh = 0; oh < outH; oh++) {
          const ih = oh * strideH - padTop + ki * dilationH;
          if (ih < 0 || ih >= inH) continue;
          let d = planeBase + (<usize>(ih * inW + owFirst * strideW + colOffset) << 2);
          let s = rowBase + (<usize>(oh * outW + owFirst) << 2);
          if (strideW == 1) {
            let ow = owFirst;
            for (; ow + 4 <= owEnd; ow += 4) {
              v128.store(d, f32x4.add(v128.load(d), v128.load(s)));
              d += 16;
              s += 16;
            }
            for (; ow < owEnd; ow++) {
              store<f32>(d, load<f32>(d) + load<f32>(s));
              d += 4;
              s += 4;
            }
          } else {
            const step = <usize>strideW << 2;
            for (let ow = owFirst; ow < owEnd; ow++) {
              store<f32>(d, load<f32>(d) + load<f32>(s));
              d += step;
              s += 4;
            }
          }
        }
        row++;
      }
    }
  }
}
