import { record } from '../autograd.js';
import { ArgumentError, ShapeError } from '../errors.js';
import { Tensor, normalizeAxis, shapeString, sizeOf, stridesOf } from '../tensor.js';

/**
 * Indexing by index tensors: gatherElements (torch.gather, ONNX
 * GatherElements), gatherND and scatterND (ONNX GatherND / ScatterND, what
 * exporters write for `x[..., idx]` reads and `x[idx] = v` writes). Indices
 * are plain numbers (integers, negative ones count from the end) and carry
 * no gradient; the values' gradients are scattered back or gathered.
 */

function checkIndex(op: string, i: number, n: number, axis: number): number {
  const j = i < 0 ? i + n : i;
  if (!Number.isInteger(j) || j < 0 || j >= n) {
    throw new ArgumentError(`${op}: index ${i} is out of range for axis ${axis} of size ${n} (accepted: ${-n} to ${n - 1})`);
  }
  return j;
}

/**
 * out[i0, ..., i_{r-1}] = x[i0, ..., index[i0, ..., i_{r-1}], ...] with the
 * index along `axis` (torch.gather(x, axis, index)); `index` has x's rank and
 * gives the output's shape (each other axis at most x's size). Repeated
 * indices add their gradients.
 */
export function gatherElements(x: Tensor, axis: number, index: readonly number[] | Float32Array, indexShape: readonly number[]): Tensor {
  const op = 'gatherElements';
  const a = normalizeAxis(axis, x.ndim, op);
  if (indexShape.length !== x.ndim) {
    throw new ShapeError(`${op}: index of shape ${shapeString(indexShape)} must have the rank of the input ${shapeString(x.shape)}`);
  }
  indexShape.forEach((d, i) => {
    if (i !== a && d > x.shape[i]!) {
      throw new ShapeError(`${op}: index of shape ${shapeString(indexShape)} is larger than the input ${shapeString(x.shape)} on axis ${i} (only axis ${a} may differ)`);
    }
  });
  const n = sizeOf(indexShape);
  if (index.length !== n) throw new ShapeError(`${op}: ${index.length} indices do not fill shape ${shapeString(indexShape)}`);
  const strides = stridesOf(x.shape);
  const offsets = new Int32Array(n);
  const counter = new Array<number>(indexShape.length).fill(0);
  for (let k = 0; k < n; k++) {
    let off = 0;
    for (let d = 0; d < counter.length; d++) {
      const pos = d === a ? checkIndex(op, index[k]!, x.shape[a]!, a) : counter[d]!;
      off += pos * strides[d]!;
    }
    offsets[k] = off;
    for (let d = counter.length - 1; d >= 0; d--) {
      if (++counter[d]! < indexShape[d]!) break;
      counter[d] = 0;
    }
  }
  const out = new Float32Array(n);
  for (let k = 0; k < n; k++) out[k] = x.data[offsets[k]!]!;
  return record(op, new Tensor(out, indexShape), [x], (g) => {
    const gi = new Float32Array(x.size);
    for (let k = 0; k < n; k++) gi[offsets[k]!]! += g.data[k]!;
    return [new Tensor(gi, x.shape)];
  });
}

/**
 * Offsets of the slices that an ND index tensor ([..., k], k <= rank, the
 * last axis an index tuple, leading `batchDims` axes shared with the data)
 * selects, each slice of `sliceSize` contiguous elements.
 */
function ndSlices(op: string, shape: readonly number[], indices: readonly number[] | Float32Array, indicesShape: readonly number[], batchDims: number): { starts: Int32Array; sliceSize: number; k: number; tuples: number } {
  const q = indicesShape.length;
  if (q < 1) throw new ShapeError(`${op}: indices must have at least one axis (the index tuples on the last), got a scalar`);
  const k = indicesShape[q - 1]!;
  if (k + batchDims > shape.length) {
    throw new ShapeError(`${op}: index tuples of length ${k} do not fit data of shape ${shapeString(shape)}${batchDims ? ` after ${batchDims} batch axes` : ''}`);
  }
  for (let b = 0; b < batchDims; b++) {
    if (indicesShape[b] !== shape[b]) throw new ShapeError(`${op}: batch axis ${b} has size ${indicesShape[b]} in the indices and ${shape[b]} in the data`);
  }
  const strides = stridesOf(shape);
  const sliceSize = sizeOf(shape.slice(batchDims + k));
  const tuples = sizeOf(indicesShape.slice(0, q - 1));
  const perBatch = sizeOf(indicesShape.slice(batchDims, q - 1));
  const batchStride = batchDims > 0 ? strides[batchDims - 1]! : 0;
  const starts = new Int32Array(tuples);
  for (let t = 0; t < tuples; t++) {
    let off = batchDims > 0 ? Math.floor(t / perBatch) * batchStride : 0;
    for (let j = 0; j < k; j++) {
      const axis = batchDims + j;
      off += checkIndex(op, indices[t * k + j]!, shape[axis]!, axis) * strides[axis]!;
    }
    starts[t] = off;
  }
  return { starts, sliceSize, k, tuples };
}

/** ONNX GatherND: the slices of x at the index tuples on the last axis of `indices`. */
export function gatherND(x: Tensor, indices: readonly number[] | Float32Array, indicesShape: readonly number[], batchDims = 0): Tensor {
  const op = 'gatherND';
  const { starts, sliceSize, k, tuples } = ndSlices(op, x.shape, indices, indicesShape, batchDims);
  const outShape = [...indicesShape.slice(0, -1), ...x.shape.slice(batchDims + k)];
  const out = new Float32Array(tuples * sliceSize);
  for (let t = 0; t < tuples; t++) out.set(x.data.subarray(starts[t]!, starts[t]! + sliceSize), t * sliceSize);
  return record(op, new Tensor(out, outShape), [x], (g) => {
    const gi = new Float32Array(x.size);
    for (let t = 0; t < tuples; t++) {
      for (let j = 0; j < sliceSize; j++) gi[starts[t]! + j]! += g.data[t * sliceSize + j]!;
    }
    return [new Tensor(gi, x.shape)];
  });
}

export type ScatterReduction = 'none' | 'add';

/**
 * ONNX ScatterND: a copy of `data` whose slices at the index tuples are
 * replaced by (or, with 'add', increased by) the matching slices of
 * `updates` (shape indices.shape[:-1] + data.shape[k:]). Gradients: data
 * gets g except where a slice was replaced; updates get g at their slices.
 */
export function scatterND(data: Tensor, indices: readonly number[] | Float32Array, indicesShape: readonly number[], updates: Tensor, reduction: ScatterReduction = 'none'): Tensor {
  const op = 'scatterND';
  if (reduction !== 'none' && reduction !== 'add') {
    throw new ArgumentError(`${op}: reduction '${String(reduction)}' is not supported (accepted: 'none', 'add')`);
  }
  const { starts, sliceSize, k, tuples } = ndSlices(op, data.shape, indices, indicesShape, 0);
  const expected = [...indicesShape.slice(0, -1), ...data.shape.slice(k)];
  if (updates.ndim !== expected.length || updates.shape.some((d, i) => d !== expected[i])) {
    throw new ShapeError(`${op}: updates of shape ${shapeString(updates.shape)} do not fit; indices ${shapeString(indicesShape)} on data ${shapeString(data.shape)} need ${shapeString(expected)}`);
  }
  const out = data.data.slice();
  const ud = updates.data;
  for (let t = 0; t < tuples; t++) {
    const s = starts[t]!;
    if (reduction === 'none') out.set(ud.subarray(t * sliceSize, (t + 1) * sliceSize), s);
    else for (let j = 0; j < sliceSize; j++) out[s + j]! += ud[t * sliceSize + j]!;
  }
  return record(op, new Tensor(out, data.shape), [data, updates], (g, needs) => {
    let dData: Tensor | null = null;
    if (needs[0]) {
      const d = g.data.slice();
      if (reduction === 'none') for (let t = 0; t < tuples; t++) d.fill(0, starts[t]!, starts[t]! + sliceSize);
      dData = new Tensor(d, data.shape);
    }
    let dUpdates: Tensor | null = null;
    if (needs[1]) {
      const d = new Float32Array(updates.size);
      // With repeated tuples and 'none' only the last write survives: only it gets the gradient.
      const last = new Map<number, number>();
      if (reduction === 'none') for (let t = 0; t < tuples; t++) last.set(starts[t]!, t);
      for (let t = 0; t < tuples; t++) {
        if (reduction === 'none' && last.get(starts[t]!) !== t) continue;
        d.set(g.data.subarray(starts[t]!, starts[t]! + sliceSize), t * sliceSize);
      }
      dUpdates = new Tensor(d, updates.shape);
    }
    return [dData, dUpdates];
  });
}
