import { ShapeError } from './errors.js';
import { Tensor, shapeString, sizeOf, stridesOf, type Shape } from './tensor.js';
import { allocate } from './limits.js';

/** NumPy/PyTorch broadcasting of two shapes; throws a ShapeError naming the op. */
export function broadcastShapes(a: Shape, b: Shape, op: string): number[] {
  const n = Math.max(a.length, b.length);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new ShapeError(
        `${op}: shapes ${shapeString(a)} and ${shapeString(b)} do not broadcast (axis ${i - n} has sizes ${da} and ${db}; sizes must be equal or 1)`,
      );
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/**
 * For each output element, the offset into an input of `shape` broadcast to
 * `outShape`. Cheap to build once and lets kernels stay simple loops.
 */
export function broadcastIndex(shape: Shape, outShape: Shape): Int32Array | null {
  if (shape.length === outShape.length && shape.every((d, i) => d === outShape[i])) return null;
  const index = new Int32Array(sizeOf(outShape));
  const strides = stridesOf(shape);
  const lead = outShape.length - shape.length;
  // From the last axis out: the block of trailing axes built so far is repeated once per further
  // position along the next axis, shifted by that axis's stride (a native copy along a broadcast axis).
  let block = Math.min(1, index.length);
  for (let axis = outShape.length - 1; axis >= 0 && block > 0; axis--) {
    const j = axis - lead;
    const stride = j >= 0 && shape[j] !== 1 ? strides[j]! : 0;
    const end = block * outShape[axis]!;
    for (let at = block, shift = stride; at < end; at += block, shift += stride) {
      if (stride === 0) index.copyWithin(at, 0, block);
      else for (let k = 0; k < block; k++) index[at + k] = index[k]! + shift;
    }
    block = end;
  }
  return index;
}

/**
 * Elementwise `fn(a, b)` with broadcasting. The function is called per
 * element; ops whose speed matters have their own loops.
 */
export function binaryMap(a: Tensor, b: Tensor, op: string, fn: (x: number, y: number) => number): Tensor {
  const outShape = broadcastShapes(a.shape, b.shape, op);
  const n = sizeOf(outShape);
  const out = allocate(n, op);
  const ad = a.data;
  const bd = b.data;
  if (a.size === n && b.size === n) {
    for (let i = 0; i < n; i++) out[i] = fn(ad[i]!, bd[i]!);
  } else if (b.size === 1) {
    const y = bd[0]!;
    const ai = broadcastIndex(a.shape, outShape);
    for (let i = 0; i < n; i++) out[i] = fn(ad[ai ? ai[i]! : i]!, y);
  } else if (a.size === 1) {
    const x = ad[0]!;
    const bi = broadcastIndex(b.shape, outShape);
    for (let i = 0; i < n; i++) out[i] = fn(x, bd[bi ? bi[i]! : i]!);
  } else {
    const ai = broadcastIndex(a.shape, outShape);
    const bi = broadcastIndex(b.shape, outShape);
    for (let i = 0; i < n; i++) out[i] = fn(ad[ai ? ai[i]! : i]!, bd[bi ? bi[i]! : i]!);
  }
  return new Tensor(out, outShape);
}

/** Elementwise `fn(x)`. */
export function unaryMap(x: Tensor, fn: (v: number) => number): Tensor {
  const out = new Float32Array(x.size);
  const d = x.data;
  for (let i = 0; i < out.length; i++) out[i] = fn(d[i]!);
  return new Tensor(out, x.shape);
}

/**
 * Sum a gradient of the broadcast shape back down to `shape` (the backward
 * of broadcasting): axes that were added or stretched from 1 are summed.
 */
export function sumToShape(g: Tensor, shape: Shape): Tensor {
  if (g.shape.length === shape.length && g.shape.every((d, i) => d === shape[i])) return g;
  const out = new Float32Array(sizeOf(shape));
  const index = broadcastIndex(shape, g.shape)!;
  const gd = g.data;
  for (let i = 0; i < gd.length; i++) out[index[i]!]! += gd[i]!;
  return new Tensor(out, shape);
}
