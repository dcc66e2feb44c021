import type { GemmOptions } from './gemm.js';
import type { ConvGeometry } from './im2col.js';
import { jsKernels } from './js.js';
import { isPointwise, type ChannelAffine, type ConvLayout, type Kernels } from './kernels.js';
import type { PoolWindow } from './pool.js';
import { serialGemms, type GemmBatch, type GemmExports } from './thread-share.js';
import type { KernelThreadTeam } from './threads.js';
import { adjointLayout, winogradTileSize, winogradTilesOf } from './winograd.js';

/**
 * The WebAssembly SIMD kernels (wasm/assembly, built into ./wasm/kernels.wasm)
 * behind the `Kernels` interface. Tensors live in JS Float32Arrays, so each
 * call copies its inputs into the module's memory, runs there and copies its
 * output back; the copies are O(data) against O(data x kernel) arithmetic.
 * Batches go through image by image (element-wise ops in chunks), so the
 * memory a call needs does not grow with the batch.
 *
 * Memory, after the module's own data: first the weight cache (below), then
 * a scratch region laid out afresh by every call. Both grow to the largest
 * size seen and are reused, never freed, so a loop of explanations keeps a
 * bounded heap. A call that would need more than WebAssembly's 4 GiB, or a
 * memory that cannot grow, runs on the JS kernels instead.
 *
 * The weight cache: Winograd's transformed weights (16 matrices per
 * convolution, packed for the GEMM) depend only on the weights, so they are
 * kept per weight array, with one copy of the weights they were made from
 * (shared by the variants: F(2x2), F(4x4), flipped).
 * Each call copies the weights in and compares them with that copy (SIMD, at
 * memory speed); any difference (an optimiser step, loadStateDict, a write
 * by hand) recomputes them, so a cached result is never stale. The cache
 * holds at most `cacheBytes` (setBackend's `weightCacheBytes`). When a new
 * entry does not fit, the cache is emptied and refilled only if it holds an
 * entry that has not been used since that same weight array last failed to
 * fit (another model's, or a dropped model's); otherwise the model's
 * transforms are more than the cache holds, and the entry is made for this
 * call alone, so that the cache keeps what it has instead of being emptied
 * and refilled at every call (VGG-16's need about 294 MB).
 */

/** A conv epilogue (see convForward) and what to tell once the body that applies it has run to its end. */
type AffineStep = ChannelAffine & { done(): void };

/** The functions the module exports (byte addresses, element counts and strides). */
interface KernelExports extends GemmExports {
  memory: WebAssembly.Memory;
  heapBase(): number;
  GEMM_WORK_BYTES: WebAssembly.Global;
  packAll(a: number, aRow: number, aCol: number, m: number, k: number, dst: number): void;
  packedSize(m: number, k: number): number;
  im2col(src: number, ...geometryAndDst: number[]): void;
  col2im(col: number, ...geometryAndDst: number[]): void;
  winogradWeights(weight: number, O: number, C: number, U: number): void;
  winogradInput(image: number, C: number, H: number, W: number, padTop: number, padLeft: number, tilesH: number, tilesW: number, V: number, tStride: number, tOffset: number): void;
  winogradOutput(M: number, O: number, tStride: number, tOffset: number, tilesH: number, tilesW: number, outH: number, outW: number, out: number, accumulate: number): void;
  flip3x3(src: number, O: number, C: number, dst: number): void;
  winograd4Weights(weight: number, O: number, C: number, U: number): void;
  winograd4Input(image: number, C: number, H: number, W: number, padTop: number, padLeft: number, tilesH: number, tilesW: number, V: number, tStride: number, tOffset: number, pad: number): void;
  winograd4Output(M: number, O: number, tStride: number, tOffset: number, tilesH: number, tilesW: number, outH: number, outW: number, out: number, accumulate: number, pad: number): void;
  winograd4InputScratch(tilesH: number, tilesW: number): number;
  winograd4OutputScratch(tilesH: number, tilesW: number): number;
  scaleShift(src: number, dst: number, planes: number, inner: number, C: number, scale: number, shift: number, relu: number, first: number): void;
  relu(src: number, dst: number, n: number): void;
  relu6(src: number, dst: number, n: number): void;
  addArrays(a: number, b: number, dst: number, n: number): void;
  sameBytes(a: number, b: number, bytes: number): number;
  depthwiseForward(image: number, weight: number, out: number, channels: number, multiplier: number, ...geometry: number[]): void;
  depthwiseInputGradient(dOut: number, weight: number, dImage: number, channels: number, multiplier: number, ...geometry: number[]): void;
  maxPool2d(
    src: number, dst: number, argmax: number, planes: number, H: number, W: number, outH: number, outW: number,
    kh: number, kw: number, sh: number, sw: number, dh: number, dw: number, top: number, left: number,
  ): void;
}

const PAGE = 65536;
const MAX_BYTES = 65536 * PAGE;
/** Element-wise calls go in chunks of at most this many floats (4 MiB). */
const CHUNK_FLOATS = 1 << 20;
/** Below this many floats an element-wise op stays in JS (the copies would cost more than they save). */
const SMALL = 4096;
/** Winograd takes this many tiles or more per batch of products (images are grouped up to it). */
const TILES_PER_PASS = 256;
/** Default size of the weight cache. */
export const DEFAULT_WEIGHT_CACHE_BYTES = 256 * 1024 * 1024;

/** Thrown inside a call when the memory cannot hold it; the call then runs on JS. */
class OutOfWasmMemory extends Error {}

const align16 = (bytes: number): number => Math.ceil(bytes / 16) * 16;

class Heap {
  readonly #memory: WebAssembly.Memory;
  readonly #base: number;
  #f32: Float32Array;
  #i32: Int32Array;
  /** End of the weight cache; the scratch region starts here. */
  #cacheTop: number;
  #top = 0;

  constructor(memory: WebAssembly.Memory, base: number) {
    this.#memory = memory;
    this.#base = base;
    this.#cacheTop = base;
    this.#f32 = new Float32Array(memory.buffer);
    this.#i32 = new Int32Array(memory.buffer);
  }

  #ensure(end: number): void {
    if (end > MAX_BYTES) throw new OutOfWasmMemory();
    if (end > this.#memory.buffer.byteLength) {
      try {
        this.#memory.grow(Math.ceil((end - this.#memory.buffer.byteLength) / PAGE));
      } catch {
        throw new OutOfWasmMemory();
      }
    }
  }

  /** Start laying out a call: everything after the cache is free again. */
  reset(): void {
    this.#top = this.#cacheTop;
  }

  /** Reserve `floats` float32s (16-byte aligned) of scratch; returns the byte address. */
  take(floats: number): number {
    const at = this.#top;
    const end = at + align16(floats * 4);
    this.#ensure(end);
    this.#top = end;
    return at;
  }

  /** Bytes used by the cache region. */
  get cacheBytes(): number {
    return this.#cacheTop - this.#base;
  }

  /** Reserve `bytes` at the end of the cache region (call before reset()); returns the byte address. */
  cacheTake(bytes: number): number {
    const at = this.#cacheTop;
    const end = at + align16(bytes);
    this.#ensure(end);
    this.#cacheTop = end;
    return at;
  }

  /** Forget every cache entry's memory. */
  cacheClear(): void {
    this.#cacheTop = this.#base;
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

  /** Copy `count` int32s at byte address `at` into dst[dstOffset...]. */
  getInt32(at: number, count: number, dst: Int32Array, dstOffset = 0): void {
    this.view; // refresh the views after growth
    dst.set(this.#i32.subarray(at >> 2, (at >> 2) + count), dstOffset);
  }

  /** The memory as float32 (a new view after the memory grew). */
  get view(): Float32Array {
    if (this.#f32.buffer !== this.#memory.buffer) {
      this.#f32 = new Float32Array(this.#memory.buffer);
      this.#i32 = new Int32Array(this.#memory.buffer);
    }
    return this.#f32;
  }

  /** Bytes of memory the module holds now. */
  get bytes(): number {
    return this.#memory.buffer.byteLength;
  }
}

/**
 * One weight array's place in the cache region: a copy of the weights (the
 * snapshot), and the packed transforms of each variant made from it
 * (F(2x2), F(4x4), flipped for the input gradient), which share it.
 */
interface CacheEntry {
  /** Byte address of the copy of the weights. */
  snapshot: number;
  /** Whether the snapshot holds the weights (false until first filled). */
  valid: boolean;
  /** Byte address of each variant's packed transforms. */
  packed: Map<string, number>;
  /** The variants whose transforms are of the snapshot. */
  filled: Set<string>;
  /** The cache generation it belongs to (entries of an emptied cache are dropped). */
  generation: number;
  /** The cache's clock (lookups so far) when it was last looked up. */
  lastUse: number;
}

/** What the weight cache did so far (for tests and benchmarks). */
export interface WeightCacheStats {
  /** Transforms taken from the cache. */
  reused: number;
  /** Transforms computed (first use, changed weights, or no room). */
  made: number;
  /** Times the cache was emptied to make room. */
  emptied: number;
}

/**
 * What the im2col paths (forward, input gradient, weight gradient) size
 * their buffers by, per image: the unfolded k x cols matrix, one image's
 * pixels and rows (over all groups), and the geometry as the module takes it.
 */
function im2colSizes(L: ConvLayout): { geo: ConvGeometry; k: number; cols: number; imageFloats: number; rowFloats: number; pointwise: boolean; geometry: number[] } {
  const { geo } = L;
  const cols = geo.outH * geo.outW;
  return {
    geo,
    k: L.imageChannels * geo.kH * geo.kW,
    cols,
    imageFloats: L.groups * L.imageChannels * geo.inH * geo.inW,
    rowFloats: L.groups * L.rowChannels * cols,
    pointwise: isPointwise(geo),
    geometry: geometryArgs({ ...geo, channels: L.imageChannels }),
  };
}

function geometryArgs(g: ConvGeometry): number[] {
  return [g.channels, g.inH, g.inW, g.outH, g.outW, g.kH, g.kW, g.strideH, g.strideW, g.padTop, g.padLeft, g.dilationH, g.dilationW];
}

export interface WasmKernelOptions {
  /** Largest size of the weight cache in bytes (default 256 MiB; 0 turns it off). */
  weightCacheBytes?: number;
  /**
   * Helper threads over this instance's (shared) memory, see ./threads.ts:
   * the convolutions' and gemm's products are split over them.
   */
  team?: KernelThreadTeam;
  /** Bytes after the module's own data that the heap leaves alone (the threads' control block). */
  reservedBytes?: number;
}

/** What the WebAssembly kernels add to `Kernels`: their memory and cache, for tests and benchmarks. */
export interface WasmKernels extends Kernels {
  /** Bytes of memory the module holds. */
  heapBytes(): number;
  /** Bytes the weight cache uses. */
  cacheBytes(): number;
  /** What the weight cache did so far. */
  cacheStats(): WeightCacheStats;
  /** Threads the products are split over (1: the calling thread alone). */
  threads(): number;
  /** End the helper threads, if any (later calls run on one thread). */
  close(): void;
  /** Batches of products split over the threads so far (0 without threads). */
  splitTasks(): number;
}

/** The kernels of an instantiated module; anything it lacks runs on the JS kernels. */
export function wasmKernels(instance: WebAssembly.Instance, options: WasmKernelOptions = {}): WasmKernels {
  const x = instance.exports as unknown as KernelExports;
  const heap = new Heap(x.memory, x.heapBase() + (options.reservedBytes ?? 0));
  const workFloats = (x.GEMM_WORK_BYTES.value as number) / 4;
  const team = options.team;
  /** GEMM scratch areas: one per thread. */
  const lanes = team?.threads ?? 1;
  const takeWork = (): number => heap.take(workFloats * lanes);
  /** A batch of GEMMs: split over the threads when there are some, else in order on this thread. */
  const gemms = team ? (batch: GemmBatch): void => team.gemms(batch) : (batch: GemmBatch): void => serialGemms(x, batch);
  /** One GEMM as x.gemm takes it, through `gemms`. */
  const gemm1 = (
    m: number, n: number, k: number, a: number, aRow: number, aCol: number,
    b: number, bRow: number, bCol: number, c: number, ldc: number, accumulate: boolean, work: number,
  ): void =>
    gemms({ packedA: false, count: 1, m, n, k, a, aRow, aCol, aStep: 0, b, bRow, bCol, bStep: 0, c, ldc, cStep: 0, accumulate, work, workStep: workFloats * 4 });
  const cacheLimit = Math.max(0, options.weightCacheBytes ?? DEFAULT_WEIGHT_CACHE_BYTES);

  /** Run `body` on a fresh layout; on OutOfWasmMemory run `fallback` (the JS kernel). */
  const withHeap = (body: () => void, fallback: () => void): void => {
    heap.reset();
    try {
      body();
    } catch (e) {
      if (e instanceof OutOfWasmMemory) fallback();
      else throw e;
    }
  };

  // ---------------------------------------------------------------------------
  // the weight cache

  let cache = new WeakMap<Float32Array, CacheEntry>();
  /** The entries of the current generation (to tell whether any is stale). */
  let entries: CacheEntry[] = [];
  let generation = 0;
  /** Counts lookups: entries' lastUse and missedAt are read on it. */
  let clock = 0;
  /** When each weight array's transforms last found no room. */
  const missedAt = new WeakMap<Float32Array, number>();
  const stats: WeightCacheStats = { reused: 0, made: 0, emptied: 0 };

  /**
   * The cache entry of `weights` and the address of variant `what`'s packed
   * transforms (`packedFloats`), made if they fit; null when caching is off
   * or they cannot fit. Call before heap.reset().
   */
  const cacheSlot = (weights: Float32Array, what: string, packedFloats: number): { entry: CacheEntry; packed: number } | null => {
    const now = ++clock;
    const snapshotBytes = align16(weights.length * 4);
    const packedBytes = align16(packedFloats * 4);
    if (snapshotBytes + packedBytes > cacheLimit) return null;
    let entry = cache.get(weights);
    if (entry && entry.generation !== generation) entry = undefined;
    if (entry) entry.lastUse = now;
    const known = entry?.packed.get(what);
    if (entry && known !== undefined) return { entry, packed: known };
    if (heap.cacheBytes + (entry ? 0 : snapshotBytes) + packedBytes > cacheLimit) {
      // No room. Empty the cache only if something in it went unused for a whole round of this
      // weight's calls (since it last found no room): that entry belongs to another model. If
      // everything in it is in use, the model needs more than the cache holds: keep it as it is.
      const since = missedAt.get(weights);
      missedAt.set(weights, now);
      if (since === undefined || !entries.some((e) => e.lastUse < since)) return null;
      cache = new WeakMap();
      entries = [];
      entry = undefined;
      generation++;
      stats.emptied++;
      heap.cacheClear();
    }
    try {
      if (!entry) {
        entry = { snapshot: heap.cacheTake(weights.length * 4), valid: false, packed: new Map(), filled: new Set(), generation, lastUse: now };
        cache.set(weights, entry);
        entries.push(entry);
      }
      const packed = heap.cacheTake(packedFloats * 4);
      entry.packed.set(what, packed);
      return { entry, packed };
    } catch (e) {
      if (e instanceof OutOfWasmMemory) return null;
      throw e;
    }
  };

  // ---------------------------------------------------------------------------
  // GEMM

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
      () => {
        const work = takeWork();
        const pa = heap.put(a, aOffset, aEnd);
        const pb = heap.put(b, bOffset, bEnd);
        // C's span holds values outside the m x n window when ldc > n: copy it in so they come back unchanged.
        const pc = accumulate || ldc !== n ? heap.put(c, cOffset, cEnd) : heap.take(cEnd - cOffset);
        gemm1(m, n, k, pa, aRow, aCol, pb, bRow, bCol, pc, ldc, accumulate, work);
        heap.get(pc, cEnd - cOffset, c, cOffset);
      },
      () => jsKernels.gemm(m, n, k, a, b, c, options),
    );
  };

  // ---------------------------------------------------------------------------
  // convolutions

  /**
   * A channel scale and shift (then ReLU) over planes already in the module's
   * memory, in place: scaleShift's own function and float32 operands, so
   * the values of the scaleShift kernel below. Puts the operands on the heap
   * now, with the call's other takes, before any output is copied out.
   */
  const affineInHeap = (then: ChannelAffine): ((at: number, planes: number, inner: number, channels: number, firstPlane: number) => void) => {
    const pScale = heap.put(Float32Array.from(then.scale));
    const pShift = heap.put(Float32Array.from(then.shift));
    return (at, planes, inner, channels, firstPlane) => x.scaleShift(at, at, planes, inner, channels, pScale, pShift, then.relu ? 1 : 0, firstPlane);
  };

  /**
   * Winograd F(2x2, 3x3) (tile 2, the same steps as ./winograd.ts
   * winogradForward) or F(4x4, 3x3) (tile 4, wasm/assembly/winograd4.ts), on
   * transformed weights from the cache. `weights` is the convolution's own
   * weight array; with `flip` the convolution runs with its flipped weight
   * (the input gradient of `weights`' convolution, see adjointLayout).
   */
  const winograd = (tile: 2 | 4, image: Float32Array, weights: Float32Array, flip: boolean, out: Float32Array, L: ConvLayout, accumulate: boolean, fallback: () => void, then?: AffineStep): void => {
    const { geo } = L;
    const O = L.rowChannels;
    const C = L.imageChannels;
    const { tilesH, tilesW } = winogradTilesOf(L, tile);
    const perImage = tilesH * tilesW;
    /** Products: one per point of the (tile + 2)^2 transformed patch. */
    const points = (tile + 2) * (tile + 2);
    const packedPerXi = x.packedSize(O, C);
    const what = `${flip ? 'flipped ' : ''}F(${tile}x${tile}) ${O}x${C}`;
    const slot = cacheSlot(weights, what, points * packedPerXi);
    withHeap(() => {
      const work = takeWork();
      const pWeights = heap.put(weights);
      const weightBytes = weights.length * 4;
      if (slot) {
        const { entry } = slot;
        // Weights changed since the snapshot (or none yet): every variant's transforms are stale.
        if (!entry.valid || !x.sameBytes(pWeights, entry.snapshot, weightBytes)) {
          heap.view.copyWithin(entry.snapshot >> 2, pWeights >> 2, (pWeights >> 2) + weights.length);
          entry.valid = true;
          entry.filled.clear();
        }
      }
      let pU: number;
      if (slot && slot.entry.filled.has(what)) {
        pU = slot.packed;
        stats.reused++;
      } else {
        stats.made++;
        pU = slot ? slot.packed : heap.take(points * packedPerXi);
        let pW = pWeights;
        if (flip) {
          pW = heap.take(weights.length);
          x.flip3x3(pWeights, C, O, pW);
        }
        const plain = heap.take(points * O * C);
        if (tile === 4) x.winograd4Weights(pW, O, C, plain);
        else x.winogradWeights(pW, O, C, plain);
        for (let xi = 0; xi < points; xi++) x.packAll(plain + xi * O * C * 4, C, 1, O, C, pU + xi * packedPerXi * 4);
        slot?.entry.filled.add(what);
      }
      // Images in groups of about TILES_PER_PASS tiles: one set of products per group.
      const group = Math.min(L.batch, Math.max(1, Math.ceil(TILES_PER_PASS / perImage)));
      const imageFloats = C * geo.inH * geo.inW;
      const outFloats = O * geo.outH * geo.outW;
      const pImage = heap.take(group * imageFloats);
      const pOut = heap.take(group * outFloats);
      const pV = heap.take(points * C * group * perImage);
      // 4 floats of slack: F(4x4)'s output transform loads four tiles at a time, past the last one of a short row.
      const pM = heap.take(points * O * group * perImage + 4);
      const pPadIn = tile === 4 ? heap.take(x.winograd4InputScratch(tilesH, tilesW)) : 0;
      const pPadOut = tile === 4 ? heap.take(x.winograd4OutputScratch(tilesH, tilesW)) : 0;
      const epilogue = then && affineInHeap(then);
      for (let first = 0; first < L.batch; first += group) {
        const count = Math.min(group, L.batch - first);
        const T = count * perImage;
        heap.view.set(image.subarray(first * imageFloats, (first + count) * imageFloats), pImage >> 2);
        if (accumulate) heap.view.set(out.subarray(first * outFloats, (first + count) * outFloats), pOut >> 2);
        for (let n = 0; n < count; n++) {
          const src = pImage + n * imageFloats * 4;
          if (tile === 4) x.winograd4Input(src, C, geo.inH, geo.inW, geo.padTop, geo.padLeft, tilesH, tilesW, pV, T, n * perImage, pPadIn);
          else x.winogradInput(src, C, geo.inH, geo.inW, geo.padTop, geo.padLeft, tilesH, tilesW, pV, T, n * perImage);
        }
        // The (tile + 2)^2 products in one batch: M_xi[O x T] = U_xi[O x C] V_xi[C x T].
        gemms({
          packedA: true, count: points, m: O, n: T, k: C,
          a: pU, aRow: 0, aCol: 0, aStep: packedPerXi * 4,
          b: pV, bRow: T, bCol: 1, bStep: C * T * 4,
          c: pM, ldc: T, cStep: O * T * 4,
          accumulate: false, work, workStep: workFloats * 4,
        });
        for (let n = 0; n < count; n++) {
          const dst = pOut + n * outFloats * 4;
          if (tile === 4) x.winograd4Output(pM, O, T, n * perImage, tilesH, tilesW, geo.outH, geo.outW, dst, accumulate ? 1 : 0, pPadOut);
          else x.winogradOutput(pM, O, T, n * perImage, tilesH, tilesW, geo.outH, geo.outW, dst, accumulate ? 1 : 0);
        }
        epilogue?.(pOut, count * O, geo.outH * geo.outW, O, first * O);
        heap.get(pOut, count * outFloats, out, first * outFloats);
      }
      then?.done();
    }, fallback);
  };

  /**
   * With `then`, the convolution's output gets its channel scale and shift
   * while it is still in the module's memory, when scaleShift would have run
   * there (the same size rule, so the same values): one copy out instead of
   * a copy out, in and out again. Otherwise (a small output, or the JS
   * fallback) scaleShift runs after, as a separate call would.
   */
  const convForward = (image: Float32Array, weight: Float32Array, out: Float32Array, L: ConvLayout, accumulate: boolean, then?: ChannelAffine): void => {
    const channels = L.groups * L.rowChannels;
    const inner = L.geo.outH * L.geo.outW;
    const inHeap = then !== undefined && out.length >= SMALL && inner > 0 ? then : undefined;
    let appliedInHeap = false;
    const step: AffineStep | undefined = inHeap && { ...inHeap, done: () => void (appliedInHeap = true) };
    const fallback = (): void => jsKernels.convForward(image, weight, out, L, accumulate);
    const tile = winogradTileSize(L, 'wasm');
    if (tile) winograd(tile, image, weight, false, out, L, accumulate, fallback, step);
    else convIm2col(image, weight, out, L, accumulate, fallback, step);
    if (then && !appliedInHeap) scaleShift(out, out, channels, inner, then.scale, then.shift, then.relu);
  };

  const convIm2col = (image: Float32Array, weight: Float32Array, out: Float32Array, L: ConvLayout, accumulate: boolean, fallback: () => void, then?: AffineStep): void => {
    const { geo, k, cols, imageFloats, rowFloats: outFloats, pointwise, geometry } = im2colSizes(L);
    const channels = L.groups * L.rowChannels;
    withHeap(() => {
      const work = takeWork();
      const pWeight = heap.put(weight);
      const pImage = heap.take(imageFloats);
      const pOut = heap.take(outFloats);
      const pCol = pointwise ? 0 : heap.take(k * cols);
      const epilogue = then && affineInHeap(then);
      for (let n = 0; n < L.batch; n++) {
        heap.view.set(image.subarray(n * imageFloats, (n + 1) * imageFloats), pImage >> 2);
        if (accumulate) heap.view.set(out.subarray(n * outFloats, (n + 1) * outFloats), pOut >> 2);
        for (let g = 0; g < L.groups; g++) {
          const src = pImage + g * L.imageChannels * geo.inH * geo.inW * 4;
          if (!pointwise) x.im2col(src, ...geometry, pCol);
          gemm1(
            L.rowChannels, cols, k,
            pWeight + g * L.rowChannels * k * 4, k, 1,
            pointwise ? src : pCol, cols, 1,
            pOut + g * L.rowChannels * cols * 4, cols, accumulate, work,
          );
        }
        epilogue?.(pOut, channels, cols, channels, n * channels);
        heap.get(pOut, outFloats, out, n * outFloats);
      }
      then?.done();
    }, fallback);
  };

  const convAdjoint = (rows: Float32Array, weight: Float32Array, image: Float32Array, L: ConvLayout): void => {
    const fallback = (): void => jsKernels.convAdjoint(rows, weight, image, L);
    const asForward = adjointLayout(L);
    const tile = asForward ? winogradTileSize(asForward, 'wasm') : 0;
    if (asForward && tile) return winograd(tile, rows, weight, true, image, asForward, true, fallback);
    const { geo, k, cols, imageFloats, rowFloats, pointwise, geometry } = im2colSizes(L);
    withHeap(() => {
      const work = takeWork();
      const pWeight = heap.put(weight);
      const pRows = heap.take(rowFloats);
      const pImage = heap.take(imageFloats);
      const pCol = pointwise ? 0 : heap.take(k * cols);
      for (let n = 0; n < L.batch; n++) {
        heap.view.set(rows.subarray(n * rowFloats, (n + 1) * rowFloats), pRows >> 2);
        heap.view.set(image.subarray(n * imageFloats, (n + 1) * imageFloats), pImage >> 2);
        for (let g = 0; g < L.groups; g++) {
          const dst = pImage + g * L.imageChannels * geo.inH * geo.inW * 4;
          // W_g^T: W_g is [rowChannels, k] row-major, so op(A)(i, p) = W[p, i].
          gemm1(
            k, cols, L.rowChannels,
            pWeight + g * L.rowChannels * k * 4, 1, k,
            pRows + g * L.rowChannels * cols * 4, cols, 1,
            pointwise ? dst : pCol, cols, pointwise, work,
          );
          if (!pointwise) x.col2im(pCol, ...geometry, dst);
        }
        heap.get(pImage, imageFloats, image, n * imageFloats);
      }
    }, fallback);
  };

  const convWeightGradient = (rows: Float32Array, image: Float32Array, dW: Float32Array, L: ConvLayout): void => {
    const { geo, k, cols, imageFloats, rowFloats, pointwise, geometry } = im2colSizes(L);
    withHeap(() => {
      const work = takeWork();
      const pdW = heap.put(dW);
      const pRows = heap.take(rowFloats);
      const pImage = heap.take(imageFloats);
      const pCol = pointwise ? 0 : heap.take(k * cols);
      for (let n = 0; n < L.batch; n++) {
        heap.view.set(rows.subarray(n * rowFloats, (n + 1) * rowFloats), pRows >> 2);
        heap.view.set(image.subarray(n * imageFloats, (n + 1) * imageFloats), pImage >> 2);
        for (let g = 0; g < L.groups; g++) {
          const src = pImage + g * L.imageChannels * geo.inH * geo.inW * 4;
          if (!pointwise) x.im2col(src, ...geometry, pCol);
          // col^T: col is [k, cols] row-major, so op(B)(p, j) = col[j, p].
          gemm1(
            L.rowChannels, k, cols,
            pRows + g * L.rowChannels * cols * 4, cols, 1,
            pointwise ? src : pCol, 1, cols,
            pdW + g * L.rowChannels * k * 4, k, true, work,
          );
        }
      }
      heap.get(pdW, dW.length, dW);
    }, () => jsKernels.convWeightGradient(rows, image, dW, L));
  };

  /** Depthwise geometry as the module takes it (after channels and multiplier). */
  const depthwiseArgs = (g: ConvGeometry): number[] => [g.inH, g.inW, g.outH, g.outW, g.kH, g.kW, g.strideH, g.strideW, g.padTop, g.padLeft, g.dilationH, g.dilationW];

  /** Depthwise convolution image by image; `into` accumulates (the bias, or the gradient so far). */
  const depthwise = (
    run: (src: number, weight: number, dst: number, channels: number, multiplier: number, ...geometry: number[]) => void,
    src: Float32Array, srcFloats: number, weight: Float32Array, into: Float32Array, intoFloats: number,
    batch: number, multiplier: number, geo: ConvGeometry, fallback: () => void,
  ): void => {
    withHeap(() => {
      const pWeight = heap.put(weight);
      // 8 floats of slack: the stride-2 vector path reads a float past a row it uses.
      const pSrc = heap.take(srcFloats + 8);
      const pInto = heap.take(intoFloats);
      const args = depthwiseArgs(geo);
      for (let n = 0; n < batch; n++) {
        heap.view.set(src.subarray(n * srcFloats, (n + 1) * srcFloats), pSrc >> 2);
        heap.view.set(into.subarray(n * intoFloats, (n + 1) * intoFloats), pInto >> 2);
        run(pSrc, pWeight, pInto, geo.channels, multiplier, ...args);
        heap.get(pInto, intoFloats, into, n * intoFloats);
      }
    }, fallback);
  };

  const depthwiseForward = (image: Float32Array, weight: Float32Array, out: Float32Array, batch: number, multiplier: number, geo: ConvGeometry): void => {
    const imageFloats = geo.channels * geo.inH * geo.inW;
    const outFloats = geo.channels * multiplier * geo.outH * geo.outW;
    depthwise(x.depthwiseForward, image, imageFloats, weight, out, outFloats, batch, multiplier, geo, () =>
      jsKernels.depthwiseForward(image, weight, out, batch, multiplier, geo));
  };

  const depthwiseInputGradient = (dOut: Float32Array, weight: Float32Array, dImage: Float32Array, batch: number, multiplier: number, geo: ConvGeometry): void => {
    const imageFloats = geo.channels * geo.inH * geo.inW;
    const outFloats = geo.channels * multiplier * geo.outH * geo.outW;
    depthwise(x.depthwiseInputGradient, dOut, outFloats, weight, dImage, imageFloats, batch, multiplier, geo, () =>
      jsKernels.depthwiseInputGradient(dOut, weight, dImage, batch, multiplier, geo));
  };

  // ---------------------------------------------------------------------------
  // element-wise and pooling

  /** Run `body(start, end)` over [0, count) in chunks of `per` units, each under its own layout. */
  // Only the first chunk can run out of memory (the later ones are no larger and reuse its room), so
  // the fallback never starts over on an output that earlier chunks wrote: in-place calls (out === src,
  // layers/fusion.ts) are safe.
  const inChunks = (count: number, per: number, body: (start: number, end: number) => void, fallback: () => void): void => {
    const step = Math.max(1, Math.floor(CHUNK_FLOATS / Math.max(per, 1)));
    for (let start = 0; start < count; start += step) {
      const end = Math.min(count, start + step);
      let failed = false;
      withHeap(() => body(start, end), () => (failed = true));
      if (failed) return fallback();
    }
  };

  const scaleShift = (src: Float32Array, out: Float32Array, channels: number, inner: number, scale: Float64Array, shift: Float64Array, relu: boolean): void => {
    if (src.length < SMALL || inner === 0) return jsKernels.scaleShift(src, out, channels, inner, scale, shift, relu);
    const planes = src.length / inner;
    inChunks(planes, inner, (p0, p1) => {
      const pScale = heap.put(Float32Array.from(scale));
      const pShift = heap.put(Float32Array.from(shift));
      const pSrc = heap.put(src, p0 * inner, p1 * inner);
      x.scaleShift(pSrc, pSrc, p1 - p0, inner, channels, pScale, pShift, relu ? 1 : 0, p0);
      heap.get(pSrc, (p1 - p0) * inner, out, p0 * inner);
    }, () => jsKernels.scaleShift(src, out, channels, inner, scale, shift, relu));
  };

  /** A one-array element-wise op: its JS twin below the size cutoff, else through the module in chunks. */
  const unary = (inModule: (src: number, dst: number, n: number) => void, inJs: (src: Float32Array, out: Float32Array) => void) =>
    (src: Float32Array, out: Float32Array): void => {
      if (src.length < SMALL) return inJs(src, out);
      inChunks(src.length, 1, (i0, i1) => {
        const p = heap.put(src, i0, i1);
        inModule(p, p, i1 - i0);
        heap.get(p, i1 - i0, out, i0);
      }, () => inJs(src, out));
    };
  const relu = unary(x.relu, jsKernels.relu);
  const relu6 = unary(x.relu6, jsKernels.relu6);

  // With reluAfter, the ReLU runs on the sum in the module's memory: relu's own function, as relu(out, out)
  // would run it (the same size rule), with one copy out instead of three copies.
  const add = (a: Float32Array, b: Float32Array, out: Float32Array, reluAfter = false): void => {
    if (out.length < SMALL) return jsKernels.add(a, b, out, reluAfter);
    inChunks(out.length, 2, (i0, i1) => {
      const pa = heap.put(a, i0, i1);
      const pb = heap.put(b, i0, i1);
      x.addArrays(pa, pb, pa, i1 - i0);
      if (reluAfter) x.relu(pa, pa, i1 - i0);
      heap.get(pa, i1 - i0, out, i0);
    }, () => jsKernels.add(a, b, out, reluAfter));
  };

  const maxPool2d = (src: Float32Array, out: Float32Array, argmax: Int32Array | null, planes: number, H: number, W: number, w: PoolWindow): void => {
    if (src.length < SMALL) return jsKernels.maxPool2d(src, out, argmax, planes, H, W, w);
    const outPlane = w.outH * w.outW;
    inChunks(planes, H * W + 2 * outPlane, (p0, p1) => {
      const count = p1 - p0;
      // 8 floats of slack: the vector path may read a few floats past a row it uses.
      const pSrc = heap.take(count * H * W + 8);
      heap.view.set(src.subarray(p0 * H * W, p1 * H * W), pSrc >> 2);
      const pOut = heap.take(count * outPlane);
      const pArg = argmax ? heap.take(count * outPlane) : 0;
      x.maxPool2d(pSrc, pOut, pArg, count, H, W, w.outH, w.outW, w.kh, w.kw, w.sh, w.sw, w.dh, w.dw, w.top, w.left);
      heap.get(pOut, count * outPlane, out, p0 * outPlane);
      if (argmax) heap.getInt32(pArg, count * outPlane, argmax, p0 * outPlane);
    }, () => jsKernels.maxPool2d(src, out, argmax, planes, H, W, w));
  };

  return {
    ...jsKernels,
    name: 'wasm',
    gemm,
    convForward,
    convAdjoint,
    convWeightGradient,
    depthwiseForward,
    depthwiseInputGradient,
    scaleShift,
    relu,
    relu6,
    add,
    maxPool2d,
    heapBytes: () => heap.bytes,
    cacheBytes: () => heap.cacheBytes,
    cacheStats: () => ({ ...stats }),
    threads: () => (team?.active ? team.threads : 1),
    close: () => team?.close(),
    splitTasks: () => team?.splitTasks ?? 0,
  };
}
