import { add, relu, relu6, scaleShift } from './elementwise.js';
import { depthwiseForward, depthwiseInputGradient, depthwiseWeightGradient } from './depthwise.js';
import { gemm } from './gemm.js';
import { col2im, im2col, imagePanelPacker } from './im2col.js';
import { isPointwise, type ChannelAffine, type ConvLayout, type Kernels } from './kernels.js';
import { maxPool2d } from './pool.js';
import { adjointLayout, flippedWeights, preferWinograd, winogradForward } from './winograd.js';

/**
 * The pure-TS kernels: the reference every other backend is tested against,
 * and the fallback wherever WebAssembly is missing.
 */

// Scratch column buffer, grown on demand and reused across calls.
let colScratch = new Float32Array(0);
function colBuffer(size: number): Float32Array {
  if (colScratch.length < size) colScratch = new Float32Array(size);
  return colScratch;
}

function convForward(image: Float32Array, weight: Float32Array, out: Float32Array, L: ConvLayout, accumulate: boolean, then?: ChannelAffine): void {
  convolve(image, weight, out, L, accumulate);
  if (then) scaleShift(out, out, L.groups * L.rowChannels, L.geo.outH * L.geo.outW, then.scale, then.shift, then.relu);
}

function convolve(image: Float32Array, weight: Float32Array, out: Float32Array, L: ConvLayout, accumulate: boolean): void {
  if (preferWinograd(L)) return winogradForward(image, weight, out, L, accumulate);
  const { geo } = L;
  const k = L.imageChannels * geo.kH * geo.kW;
  const cols = geo.outH * geo.outW;
  const imagePlane = geo.inH * geo.inW;
  const pointwise = isPointwise(geo);
  for (let n = 0; n < L.batch; n++) {
    for (let g = 0; g < L.groups; g++) {
      const imageOffset = (n * L.groups + g) * L.imageChannels * imagePlane;
      gemm(L.rowChannels, cols, k, weight, image, out, {
        aOffset: g * L.rowChannels * k,
        cOffset: (n * L.groups + g) * L.rowChannels * cols,
        accumulate,
        // A 1x1 stride-1 kernel reads the image as its column matrix; otherwise
        // the GEMM packs its column blocks straight from the image (no im2col,
        // measured ~15% faster than building col first).
        ...(pointwise ? { bOffset: imageOffset } : { packB: imagePanelPacker(image, imageOffset, geo) }),
      });
    }
  }
}

function convAdjoint(rows: Float32Array, weight: Float32Array, image: Float32Array, L: ConvLayout): void {
  const asForward = adjointLayout(L);
  if (asForward && preferWinograd(asForward)) return convForward(rows, flippedWeights(weight, L.rowChannels, L.imageChannels), image, asForward, true);
  const { geo } = L;
  const k = L.imageChannels * geo.kH * geo.kW;
  const cols = geo.outH * geo.outW;
  const imagePlane = geo.inH * geo.inW;
  const pointwise = isPointwise(geo);
  const col = pointwise ? null : colBuffer(k * cols);
  for (let n = 0; n < L.batch; n++) {
    for (let g = 0; g < L.groups; g++) {
      const imageOffset = (n * L.groups + g) * L.imageChannels * imagePlane;
      const options = { transA: true, aOffset: g * L.rowChannels * k, bOffset: (n * L.groups + g) * L.rowChannels * cols };
      if (col) {
        gemm(k, cols, L.rowChannels, weight, rows, col, options);
        col2im(col, geo, image, imageOffset);
      } else {
        gemm(k, cols, L.rowChannels, weight, rows, image, { ...options, cOffset: imageOffset, accumulate: true });
      }
    }
  }
}

function convWeightGradient(rows: Float32Array, image: Float32Array, dW: Float32Array, L: ConvLayout): void {
  const { geo } = L;
  const k = L.imageChannels * geo.kH * geo.kW;
  const cols = geo.outH * geo.outW;
  const imagePlane = geo.inH * geo.inW;
  const pointwise = isPointwise(geo);
  const col = pointwise ? image : colBuffer(k * cols);
  for (let n = 0; n < L.batch; n++) {
    for (let g = 0; g < L.groups; g++) {
      const imageOffset = (n * L.groups + g) * L.imageChannels * imagePlane;
      if (!pointwise) im2col(image, imageOffset, geo, col);
      gemm(L.rowChannels, k, cols, rows, col, dW, {
        transB: true,
        accumulate: true,
        aOffset: (n * L.groups + g) * L.rowChannels * cols,
        bOffset: pointwise ? imageOffset : 0,
        cOffset: g * L.rowChannels * k,
      });
    }
  }
}

export const jsKernels: Kernels = {
  name: 'js',
  gemm,
  convForward,
  convAdjoint,
  convWeightGradient,
  depthwiseForward,
  depthwiseInputGradient,
  depthwiseWeightGradient,
  scaleShift,
  relu,
  relu6,
  add,
  maxPool2d,
};
