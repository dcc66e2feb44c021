import type { GemmOptions } from './gemm.js';
import type { ConvGeometry } from './im2col.js';
import { jsKernels } from './js.js';
import { isPointwise, type ConvLayout, type Kernels } from './kernels.js';
import { adjointAsForward, preferWinograd, winogradTiles } from './winograd.js';

/**
 * The WebAssembly SIMD kernels (wasm/assembly, built into ./wasm/kernels.wasm)
 * behind the `Kernels` interface. Tensors live in JS Float32Arrays, so each
 * call copies its inputs into the module's memory, runs there and copies its
 * output back; the copies are O(data) against O(data x kernel) arithmetic.
 *
 * Memory: one region after the module's own data, laid out afresh by every
 * call (gemm scratch first, then the call's arrays). It grows to the largest
 * call seen and is reused, never freed, so a loop of explanations keeps a
 * bounded heap. A call that would need more than WebAssembly's 4 GiB, or a
 * memory that cannot grow, runs on the JS kernels instead.
 */

/** The functions the module exports (byte addresses, element counts and strides). */
interface KernelExports {
  memory: WebAssembly.Memory;
  heapBase(): number;
  GEMM_WORK_BYTES: WebAssembly.Global;
  gemm(
    m: number, n: number, k: number,
    a: number, aRow: number, aCol: number,
    b: number, bRow: number, bCol: number,
    c: number, ldc: number, accumulate: number, work: number,
  ): void;
  im2col(src: number, ...geometryAndDst: number[]): void;
  winogradWeights(weight: number, O: number, C: number, U: number): void;
  winogradInput(image: number, C: number, H: number, W: number, padTop: number, padLeft: number, tilesH: number, tilesW: number, V: number, tStride: number, tOffset: number): void;
  winogradOutput(M: number, O: number, tStride: number, tOffset: number, tilesH: number, tilesW: number, outH: number, outW: number, out: number, accumulate: number): void;
  col2im(col: number, ...geometryAndDst: number[]): void;
}

const PAGE = 65536;
const MAX_BYTES = 65536 * PAGE;

/** Thrown inside a call when the memory cannot hold it; the call then runs on JS. */
class OutOfWasmMemory extends Error {}

class Heap {
  readonly #memory: WebAssembly.Memory;
  readonly #base: number;
  #f32: Float32Array;
  #top = 0;

  constructor(memory: WebAssembly.Memory, base: number) {
    this.#memory = memory;
    this.#base = base;
    this.#f32 = new Float32Array(memory.buffer);
  }

  /** Start laying out a call: everything from the base is free again. */
  reset(): void {
    this.#top = this.#base;
  }

  /** Reserve `floats` float32s (16-byte aligned); returns the byte address. */
  take(floats: number): number {
    const at = this.#top;
    const end = at + Math.ceil((floats * 4) / 16) * 16;
    if (end > MAX_BYTES) throw new OutOfWasmMemory();
    if (end > this.#memory.buffer.byteLength) {
      try {
        this.#memory.grow(Math.ceil((end - this.#memory.buffer.byteLength) / PAGE));
      } catch {
        throw new OutOfWasmMemory();
      }
    }
    this.#top = end;
    return at;
  }

  /** Reserve room for `src` and copy it in. */
  put(src: Float32Array, start = 0, end = src.length): number {
    const at = this.take(end - start);
    this.view.set(src.subarray(start, end), at >> 2);
    return at;
  }

  /** Copy `count` floats at byte address `at` into dst[dstOffset...]. */
  get(at: number, count: number, dst: Float32Array, dstOffset = 0): void {
    dst.set(this.view.subarray(at >> 2, (at >> 2) + count), dstOffset);
  }

  /** The memory as float32 (a new view after the memory grew). */
  get view(): Float32Array {
    if (this.#f32.buffer !== this.#memory.buffer) this.#f32 = new Float32Array(this.#memory.buffer);
    return this.#f32;
  }

  /** Bytes of memory the module holds now. */
  get bytes(): number {
    return this.#memory.buffer.byteLength;
  }
}

function geometryArgs(g: ConvGeometry): number[] {
  return [g.channels, g.inH, g.inW, g.outH, g.outW, g.kH, g.kW, g.strideH, g.strideW, g.padTop, g.padLeft, g.dilationH, g.dilationW];
}

/** The kernels of an instantiated module; anything it lacks runs on the JS kernels. */
export function wasmKernels(instance: WebAssembly.Instance): Kernels & { readonly heapBytes: () => number } {
  const x = instance.exports as unknown as KernelExports;
  const heap = new Heap(x.memory, x.heapBase());
  const workFloats = (x.GEMM_WORK_BYTES.value as number) / 4;

  /** Run `body` on a fresh layout; on OutOfWasmMemory run `fallback` (the JS kernel). */
  const withHeap = (body: (work: number) => void, fallback: () => void): void => {
    heap.reset();
    let work: number;
    try {
      work = heap.take(workFloats);
      body(work);
    } catch (e) {
      if (e instanceof OutOfWasmMemory) fallback();
      else throw e;
    }
  };

  const gemm = (m: number, n: number, k: number, a: Float32Array, b: Float32Array, c: Float32Array, options: GemmOptions = {}): void => {
    if (options.packB) return jsKernels.gemm(m, n, k, a, b, c, options);
    const transA = options.transA ?? false;
    const transB = options.transB ?? false;
    const aOffset = options.aOffset ?? 0;
    const bOffset = options.bOffset ?? 0;
    const cOffset = options.cOffset ?? 0;
    const lda = options.lda ?? (transA ? m : k);
    const ldb = options.ldb ?? (transB ? k : n);
    const ldc = options.ldc ?? n;
    const accumulate = options.accumulate ?? false;
    if (m === 0 || n === 0) return;
    if (k === 0) {
      if (!accumulate) for (let i = 0; i < m; i++) c.fill(0, cOffset + i * ldc, cOffset + i * ldc + n);
      return;
    }
    const [aRow, aCol] = transA ? [1, lda] : [lda, 1];
    const [bRow, bCol] = transB ? [1, ldb] : [ldb, 1];
    // The spans of the three matrices in their arrays.
    const aEnd = aOffset + (m - 1) * aRow + (k - 1) * aCol + 1;
    const bEnd = bOffset + (k - 1) * bRow + (n - 1) * bCol + 1;
    const cEnd = cOffset + (m - 1) * ldc + n;
    withHeap(
      (work) => {
        const pa = heap.put(a, aOffset, aEnd);
        const pb = heap.put(b, bOffset, bEnd);
        // C's span holds values outside the m x n window when ldc > n: copy it in so they come back unchanged.
        const pc = accumulate || ldc !== n ? heap.put(c, cOffset, cEnd) : heap.take(cEnd - cOffset);
        x.gemm(m, n, k, pa, aRow, aCol, pb, bRow, bCol, pc, ldc, accumulate ? 1 : 0, work);
        heap.get(pc, cEnd - cOffset, c, cOffset);
      },
      () => jsKernels.gemm(m, n, k, a, b, c, options),
    );
  };

  /** Winograd F(2x2, 3x3), the same steps as ./winograd.ts winogradForward. */
  const winogradForward = (image: Float32Array, weight: Float32Array, out: Float32Array, L: ConvLayout, accumulate: boolean): void => {
    const { geo } = L;
    const O = L.rowChannels;
    const C = L.imageChannels;
    const { tilesH, tilesW } = winogradTiles(L);
    const perImage = tilesH * tilesW;
    const T = L.batch * perImage;
    withHeap(
      (work) => {
        const pImage = heap.put(image);
        const pWeight = heap.put(weight);
        const pOut = accumulate ? heap.put(out) : heap.take(out.length);
        const pU = heap.take(16 * O * C);
        const pV = heap.take(16 * C * T);
        const pM = heap.take(16 * O * T);
        x.winogradWeights(pWeight, O, C, pU);
        const imageBytes = C * geo.inH * geo.inW * 4;
        for (let n = 0; n < L.batch; n++) {
          x.winogradInput(pImage + n * imageBytes, C, geo.inH, geo.inW, geo.padTop, geo.padLeft, tilesH, tilesW, pV, T, n * perImage);
        }
        for (let xi = 0; xi < 16; xi++) {
          x.gemm(O, T, C, pU + xi * O * C * 4, C, 1, pV + xi * C * T * 4, T, 1, pM + xi * O * T * 4, T, 0, work);
        }
        const outBytes = O * geo.outH * geo.outW * 4;
        for (let n = 0; n < L.batch; n++) {
          x.winogradOutput(pM, O, T, n * perImage, tilesH, tilesW, geo.outH, geo.outW, pOut + n * outBytes, accumulate ? 1 : 0);
        }
        heap.get(pOut, out.length, out);
      },
      () => jsKernels.convForward(image, weight, out, L, accumulate),
    );
  };

  const convForward = (image: Float32Array, weight: Float32Array, out: Float32Array, L: ConvLayout, accumulate: boolean): void => {
    if (preferWinograd(L)) return winogradForward(image, weight, out, L, accumulate);
    const { geo } = L;
    const k = L.imageChannels * geo.kH * geo.kW;
    const cols = geo.outH * geo.outW;
    const imageFloats = L.imageChannels * geo.inH * geo.inW;
    const pointwise = isPointwise(geo);
    const geometry = geometryArgs({ ...geo, channels: L.imageChannels });
    withHeap(
      (work) => {
        const pImage = heap.put(image);
        const pWeight = heap.put(weight);
        const pOut = accumulate ? heap.put(out) : heap.take(out.length);
        const pCol = pointwise ? 0 : heap.take(k * cols);
        for (let n = 0; n < L.batch; n++) {
          for (let g = 0; g < L.groups; g++) {
            const ng = n * L.groups + g;
            const src = pImage + ng * imageFloats * 4;
            if (!pointwise) x.im2col(src, ...geometry, pCol);
            x.gemm(
              L.rowChannels, cols, k,
              pWeight + g * L.rowChannels * k * 4, k, 1,
              pointwise ? src : pCol, cols, 1,
              pOut + ng * L.rowChannels * cols * 4, cols, accumulate ? 1 : 0, work,
            );
          }
        }
        heap.get(pOut, out.length, out);
      },
      () => jsKernels.convForward(image, weight, out, L, accumulate),
    );
  };

  const convAdjoint = (rows: Float32Array, weight: Float32Array, image: Float32Array, L: ConvLayout): void => {
    const asForward = adjointAsForward(weight, L);
    if (asForward && preferWinograd(asForward.layout)) return convForward(rows, asForward.weight, image, asForward.layout, true);
    const { geo } = L;
    const k = L.imageChannels * geo.kH * geo.kW;
    const cols = geo.outH * geo.outW;
    const imageFloats = L.imageChannels * geo.inH * geo.inW;
    const pointwise = isPointwise(geo);
    const geometry = geometryArgs({ ...geo, channels: L.imageChannels });
    withHeap(
      (work) => {
        const pRows = heap.put(rows);
        const pWeight = heap.put(weight);
        const pImage = heap.put(image);
        const pCol = pointwise ? 0 : heap.take(k * cols);
        for (let n = 0; n < L.batch; n++) {
          for (let g = 0; g < L.groups; g++) {
            const ng = n * L.groups + g;
            const dst = pImage + ng * imageFloats * 4;
            // W_g^T: W_g is [rowChannels, k] row-major, so op(A)(i, p) = W[p, i].
            x.gemm(
              k, cols, L.rowChannels,
              pWeight + g * L.rowChannels * k * 4, 1, k,
              pRows + ng * L.rowChannels * cols * 4, cols, 1,
              pointwise ? dst : pCol, cols, pointwise ? 1 : 0, work,
            );
            if (!pointwise) x.col2im(pCol, ...geometry, dst);
          }
        }
        heap.get(pImage, image.length, image);
      },
      () => jsKernels.convAdjoint(rows, weight, image, L),
    );
  };

  const convWeightGradient = (rows: Float32Array, image: Float32Array, dW: Float32Array, L: ConvLayout): void => {
    const { geo } = L;
    const k = L.imageChannels * geo.kH * geo.kW;
    const cols = geo.outH * geo.outW;
    const imageFloats = L.imageChannels * geo.inH * geo.inW;
    const pointwise = isPointwise(geo);
    const geometry = geometryArgs({ ...geo, channels: L.imageChannels });
    withHeap(
      (work) => {
        const pRows = heap.put(rows);
        const pImage = heap.put(image);
        const pdW = heap.put(dW);
        const pCol = pointwise ? 0 : heap.take(k * cols);
        for (let n = 0; n < L.batch; n++) {
          for (let g = 0; g < L.groups; g++) {
            const ng = n * L.groups + g;
            const src = pImage + ng * imageFloats * 4;
            if (!pointwise) x.im2col(src, ...geometry, pCol);
            // col^T: col is [k, cols] row-major, so op(B)(p, j) = col[j, p].
            x.gemm(
              L.rowChannels, k, cols,
              pRows + ng * L.rowChannels * cols * 4, cols, 1,
              pointwise ? src : pCol, 1, cols,
              pdW + g * L.rowChannels * k * 4, k, 1, work,
            );
          }
        }
        heap.get(pdW, dW.length, dW);
      },
      () => jsKernels.convWeightGradient(rows, image, dW, L),
    );
  };

  return {
    ...jsKernels,
    name: 'wasm',
    gemm,
    convForward,
    convAdjoint,
    convWeightGradient,
    heapBytes: () => heap.bytes,
  };
}
