/**
 * im2col / col2im: the data movement that turns a 2-D convolution into one
 * matrix product (Chellapilla et al. 2006; Caffe's im2col).
 *
 * For an image of `channels` planes of inH x inW and a kernel kH x kW
 * applied at outH x outW positions, the column matrix has one row per
 * (channel, ki, kj) and one column per output position:
 *
 *   col[(c*kH + ki)*kW + kj][oh*outW + ow] = image[c][oh*sH - padTop + ki*dH][ow*sW - padLeft + kj*dW]
 *
 * (zero where that pixel falls in the padding). Bottom/right padding only
 * shows up through outH/outW, so asymmetric padding needs nothing special.
 * col2im is the adjoint: it adds each column entry back onto its pixel.
 */
export interface ConvGeometry {
  /** Planes per image (per group). */
  channels: number;
  inH: number;
  inW: number;
  outH: number;
  outW: number;
  kH: number;
  kW: number;
  strideH: number;
  strideW: number;
  padTop: number;
  padLeft: number;
  dilationH: number;
  dilationW: number;
}

/**
 * The range of output columns ow whose input column ow*sW - padLeft + offset
 * lies inside [0, inW): returns [first, end).
 */
export function validRange(offset: number, stride: number, inSize: number, outSize: number): [number, number] {
  // smallest o with o*stride + offset >= 0, and smallest o with o*stride + offset >= inSize
  const first = offset >= 0 ? 0 : Math.ceil(-offset / stride);
  const end = inSize - offset <= 0 ? 0 : Math.ceil((inSize - offset) / stride);
  return [Math.min(first, outSize), Math.max(Math.min(end, outSize), Math.min(first, outSize))];
}

/** Fill `col` ([channels*kH*kW, outH*outW], from index 0) from the image at src[srcOffset...]. */
export function im2col(src: Float32Array, srcOffset: number, g: ConvGeometry, col: Float32Array): void {
  const { channels, inH, inW, outH, outW, kH, kW, strideH, strideW, padTop, padLeft, dilationH, dilationW } = g;
  const plane = inH * inW;
  let row = 0;
  for (let c = 0; c < channels; c++) {
    const planeBase = srcOffset + c * plane;
    for (let ki = 0; ki < kH; ki++) {
      for (let kj = 0; kj < kW; kj++) {
        const colOffset = kj * dilationW - padLeft;
        const [owFirst, owEnd] = validRange(colOffset, strideW, inW, outW);
        let d = row * outH * outW;
        for (let oh = 0; oh < outH; oh++) {
          const ih = oh * strideH - padTop + ki * dilationH;
          if (ih < 0 || ih >= inH) {
            col.fill(0, d, d + outW);
            d += outW;
            continue;
          }
          for (let ow = 0; ow < owFirst; ow++) col[d++] = 0;
          let s = planeBase + ih * inW + owFirst * strideW + colOffset;
          if (strideW === 1) {
            for (let ow = owFirst; ow < owEnd; ow++) col[d++] = src[s++]!;
          } else {
            for (let ow = owFirst; ow < owEnd; ow++) {
              col[d++] = src[s]!;
              s += strideW;
            }
          }
          for (let ow = owEnd; ow < outW; ow++) col[d++] = 0;
        }
        row++;
      }
    }
  }
}

/** Add `col` ([channels*kH*kW, outH*outW]) back onto the image at dst[dstOffset...] (the adjoint of im2col). */
export function col2im(col: Float32Array, g: ConvGeometry, dst: Float32Array, dstOffset: number): void {
  const { channels, inH, inW, outH, outW, kH, kW, strideH, strideW, padTop, padLeft, dilationH, dilationW } = g;
  const plane = inH * inW;
  let row = 0;
  for (let c = 0; c < channels; c++) {
    const planeBase = dstOffset + c * plane;
    for (let ki = 0; ki < kH; ki++) {
      for (let kj = 0; kj < kW; kj++) {
        const colOffset = kj * dilationW - padLeft;
        const [owFirst, owEnd] = validRange(colOffset, strideW, inW, outW);
        const rowBase = row * outH * outW;
        for (let oh = 0; oh < outH; oh++) {
          const ih = oh * strideH - padTop + ki * dilationH;
          if (ih < 0 || ih >= inH) continue;
          let d = planeBase + ih * inW + owFirst * strideW + colOffset;
          let s = rowBase + oh * outW + owFirst;
          for (let ow = owFirst; ow < owEnd; ow++) {
            dst[d] = dst[d]! + col[s++]!;
            d += strideW;
          }
        }
        row++;
      }
    }
  }
}

// Per-block index tables for the packer, grown on demand and reused.
let columnRow = new Int32Array(0);
let columnCol = new Int32Array(0);
let depthPlane = new Int32Array(0);
let depthRow = new Int32Array(0);
let depthCol = new Int32Array(0);

/**
 * A GEMM BlockPacker (see gemm.ts) that packs blocks of the column matrix
 * straight from the image, so conv2d's forward never materialises im2col:
 * the same values as im2col(...) would hold, 4-wide panels, zeros for padding.
 */
export function imagePanelPacker(src: Float32Array, srcOffset: number, g: ConvGeometry): (dst: Float64Array, pc: number, kc: number, jc: number, nc: number) => void {
  const { inH, inW, outW, kH, kW, strideH, strideW, padTop, padLeft, dilationH, dilationW } = g;
  const plane = inH * inW;
  return (dst, pc, kc, jc, nc) => {
    const panels = Math.ceil(nc / 4);
    if (columnRow.length < panels * 4) {
      columnRow = new Int32Array(panels * 4);
      columnCol = new Int32Array(panels * 4);
    }
    if (depthPlane.length < kc) {
      depthPlane = new Int32Array(kc);
      depthRow = new Int32Array(kc);
      depthCol = new Int32Array(kc);
    }
    // Column j (an output position) reads pixel (oh*sH - padTop + ki*dH, ow*sW - padLeft + kj*dW).
    // Columns past nc get a row far outside the image, so they pack as zeros.
    for (let j = 0; j < panels * 4; j++) {
      const col = jc + j;
      const oh = Math.floor(col / outW);
      columnRow[j] = j < nc ? oh * strideH - padTop : -1 << 30;
      columnCol[j] = (col - oh * outW) * strideW - padLeft;
    }
    // Depth p is (channel, ki, kj).
    for (let q = 0; q < kc; q++) {
      const p = pc + q;
      const c = Math.floor(p / (kH * kW));
      const tap = p - c * kH * kW;
      const ki = Math.floor(tap / kW);
      depthPlane[q] = srcOffset + c * plane;
      depthRow[q] = ki * dilationH;
      depthCol[q] = (tap - ki * kW) * dilationW;
    }
    let d = 0;
    for (let panel = 0; panel < panels; panel++) {
      const j = panel * 4;
      const r0 = columnRow[j]!, r1 = columnRow[j + 1]!, r2 = columnRow[j + 2]!, r3 = columnRow[j + 3]!;
      const c0 = columnCol[j]!, c1 = columnCol[j + 1]!, c2 = columnCol[j + 2]!, c3 = columnCol[j + 3]!;
      for (let q = 0; q < kc; q++) {
        const base = depthPlane[q]!;
        const dr = depthRow[q]!;
        const dc = depthCol[q]!;
        // (x >>> 0) < n tests 0 <= x < n in one comparison.
        let ih = r0 + dr, iw = c0 + dc;
        dst[d] = (ih >>> 0) < inH && (iw >>> 0) < inW ? src[base + ih * inW + iw]! : 0;
        ih = r1 + dr; iw = c1 + dc;
        dst[d + 1] = (ih >>> 0) < inH && (iw >>> 0) < inW ? src[base + ih * inW + iw]! : 0;
        ih = r2 + dr; iw = c2 + dc;
        dst[d + 2] = (ih >>> 0) < inH && (iw >>> 0) < inW ? src[base + ih * inW + iw]! : 0;
        ih = r3 + dr; iw = c3 + dc;
        dst[d + 3] = (ih >>> 0) < inH && (iw >>> 0) < inW ? src[base + ih * inW + iw]! : 0;
        d += 4;
      }
    }
  };
}
