// tinycam's WebAssembly kernels (AssemblyScript, 128-bit SIMD). Built by
// `npm run build:wasm` (wasm/build.mjs) into src/tensor/kernels/wasm/;
// the JS side (src/tensor/kernels/wasm.ts) owns the memory layout: every
// function takes byte addresses into this module's memory.
export { gemm, gemmPackedA, packAll, packedSize, GEMM_WORK_BYTES } from './gemm';
export { im2col, col2im } from './im2col';
export { winogradWeights, winogradInput, winogradOutput, flip3x3 } from './winograd';
export { winograd4Weights, winograd4Input, winograd4Output, winograd4InputScratch, winograd4OutputScratch } from './winograd4';
export { scaleShift, relu, relu6, addArrays, sameBytes } from './elementwise';
export { maxPool2d } from './pool';
export { depthwiseForward, depthwiseInputGradient } from './depthwise';

/** First byte the JS side may use (after the module's own data). */
export function heapBase(): usize {
  return (__heap_base + 15) & ~15;
}
