import { validRange, type ConvGeometry } from './im2col.js';

/**
 * Direct loops for depthwise convolution (one input channel per group,
 * `multiplier` output channels per input channel, as in MobileNet). Through
 * im2col + GEMM each group would be a 1-row matrix product, which measured
 * about 0.35 GFLOP/s; these loops walk each kernel tap as a shifted
 * multiply-add over whole output rows instead.
 *
 * All three visit the same (image pixel, output pixel, tap) triples:
 *   output[o][oh][ow] ~ image[c][oh*sH - padTop + ki*dH][ow*sW - padLeft + kj*dW] * weight[o][ki][kj]
 * with c = floor(o / multiplier). `geo.channels` is the number of input channels.
 */

/** out[n, o] += sum over taps of weight[o, tap] * image[n, c] (out may hold the bias). */
export function depthwiseForward(image: Float32Array, weight: Float32Array, out: Float32Array, batch: number, multiplier: number, geo: ConvGeometry): void {
  const { channels, inH, inW, outH, outW, kH, kW, strideH, strideW, padTop, padLeft, dilationH, dilationW } = geo;
  const outChannels = channels * multiplier;
  for (let n = 0; n < batch; n++) {
    for (let o = 0; o < outChannels; o++) {
      const imageBase = (n * channels + Math.floor(o / multiplier)) * inH * inW;
      const outBase = (n * outChannels + o) * outH * outW;
      for (let ki = 0; ki < kH; ki++) {
        for (let kj = 0; kj < kW; kj++) {
          const w = weight[(o * kH + ki) * kW + kj]!;
          const colOffset = kj * dilationW - padLeft;
          const [owFirst, owEnd] = validRange(colOffset, strideW, inW, outW);
          for (let oh = 0; oh < outH; oh++) {
            const ih = oh * strideH - padTop + ki * dilationH;
            if (ih < 0 || ih >= inH) continue;
            let s = imageBase + ih * inW + owFirst * strideW + colOffset;
            const d = outBase + oh * outW;
            for (let ow = owFirst; ow < owEnd; ow++) {
              out[d + ow] = out[d + ow]! + w * image[s]!;
              s += strideW;
            }
          }
        }
      }
    }
  }
}

/** dImage[n, c] += sum over taps of weight[o, tap] * dOut[n, o] (the adjoint in the image). */
export function depthwiseInputGradient(dOut: Float32Array, weight: Float32Array, dImage: Float32Array, batch: number, multiplier: number, geo: ConvGeometry): void {
  const { channels, inH, inW, outH, outW, kH, kW, strideH, strideW, padTop, padLeft, dilationH, dilationW } = geo;
  const outChannels = channels * multiplier;
  for (let n = 0; n < batch; n++) {
    for (let o = 0; o < outChannels; o++) {
      const imageBase = (n * channels + Math.floor(o / multiplier)) * inH * inW;
      const outBase = (n * outChannels + o) * outH * outW;
      for (let ki = 0; ki < kH; ki++) {
        for (let kj = 0; kj < kW; kj++) {
          const w = weight[(o * kH + ki) * kW + kj]!;
          const colOffset = kj * dilationW - padLeft;
          const [owFirst, owEnd] = validRange(colOffset, strideW, inW, outW);
          for (let oh = 0; oh < outH; oh++) {
            const ih = oh * strideH - padTop + ki * dilationH;
            if (ih < 0 || ih >= inH) continue;
            let s = imageBase + ih * inW + owFirst * strideW + colOffset;
            const d = outBase + oh * outW;
            for (let ow = owFirst; ow < owEnd; ow++) {
              dImage[s] = dImage[s]! + w * dOut[d + ow]!;
              s += strideW;
            }
          }
        }
      }
    }
  }
}

/** dWeight[o, tap] = sum over n and output pixels of dOut[n, o] * image[n, c] (float64 sums). */
export function depthwiseWeightGradient(dOut: Float32Array, image: Float32Array, dWeight: Float32Array, batch: number, multiplier: number, geo: ConvGeometry): void {
  const { channels, inH, inW, outH, outW, kH, kW, strideH, strideW, padTop, padLeft, dilationH, dilationW } = geo;
  const outChannels = channels * multiplier;
  for (let o = 0; o < outChannels; o++) {
    for (let ki = 0; ki < kH; ki++) {
      for (let kj = 0; kj < kW; kj++) {
        const colOffset = kj * dilationW - padLeft;
        const [owFirst, owEnd] = validRange(colOffset, strideW, inW, outW);
        let sum = 0;
        for (let n = 0; n < batch; n++) {
          const imageBase = (n * channels + Math.floor(o / multiplier)) * inH * inW;
          const outBase = (n * outChannels + o) * outH * outW;
          for (let oh = 0; oh < outH; oh++) {
            const ih = oh * strideH - padTop + ki * dilationH;
            if (ih < 0 || ih >= inH) continue;
            let s = imageBase + ih * inW + owFirst * strideW + colOffset;
            const d = outBase + oh * outW;
            for (let ow = owFirst; ow < owEnd; ow++) {
              sum += dOut[d + ow]! * image[s]!;
              s += strideW;
            }
          }
        }
        dWeight[(o * kH + ki) * kW + kj] = sum;
      }
    }
  }
}
