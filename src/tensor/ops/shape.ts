import { record } from '../autograd.js';
import { broadcastIndex, sumToShape } from '../broadcast.js';
import { ArgumentError, ShapeError } from '../errors.js';
import { Tensor, normalizeAxis, shapeString, sizeOf, stridesOf, type Shape } from '../tensor.js';
import { allocate, checkElements } from '../limits.js';

/**
 * Ops that move elements without changing them. Their backward rules move
 * the gradient back: reshape reshapes it, permute permutes it back, slice and
 * indexSelect scatter it, expand and pad's reflect/replicate sum it.
 */

function asList(axes: number | readonly number[]): readonly number[] {
  return typeof axes === 'number' ? [axes] : axes;
}

/** Same data, new shape; one entry may be -1. Shares the data buffer (tensors are contiguous). */
export function reshape(x: Tensor, shape: Shape): Tensor {
  const target = [...shape];
  let inferAt = -1;
  let known = 1;
  for (let i = 0; i < target.length; i++) {
    const d = target[i]!;
    if (d === -1) {
      if (inferAt >= 0) throw new ArgumentError(`reshape: shape ${shapeString(shape)} has more than one -1; at most one size can be inferred`);
      inferAt = i;
    } else if (!Number.isInteger(d) || d < 0) {
      throw new ArgumentError(`reshape: shape ${shapeString(shape)} has size ${d}; sizes must be non-negative integers or one -1`);
    } else known *= d;
  }
  if (inferAt >= 0) {
    if (known === 0 || x.size % known !== 0) {
      throw new ShapeError(`reshape: cannot reshape a tensor of shape ${shapeString(x.shape)} (${x.size} elements) to ${shapeString(shape)}`);
    }
    target[inferAt] = x.size / known;
  } else if (known !== x.size) {
    throw new ShapeError(`reshape: cannot reshape a tensor of shape ${shapeString(x.shape)} (${x.size} elements) to ${shapeString(shape)} (${known} elements)`);
  }
  const out = new Tensor(x.data, target);
  return record('reshape', out, [x], (g) => [new Tensor(g.data, x.shape)], { tangent: ([dx]) => new Tensor(dx!.data, target) });
}

/** Merge axes startDim..endDim into one (torch.flatten). */
export function flatten(x: Tensor, startDim = 0, endDim = -1): Tensor {
  if (x.ndim === 0) return reshape(x, [1]);
  const s = normalizeAxis(startDim, x.ndim, 'flatten');
  const e = normalizeAxis(endDim, x.ndim, 'flatten');
  if (s > e) throw new ArgumentError(`flatten: startDim ${startDim} comes after endDim ${endDim} for a tensor with ${x.ndim} axes`);
  let merged = 1;
  for (let a = s; a <= e; a++) merged *= x.shape[a]!;
  return reshape(x, [...x.shape.slice(0, s), merged, ...x.shape.slice(e + 1)]);
}

/** Remove size-1 axes (all of them, or the ones given; a given axis of another size stays, as PyTorch). */
export function squeeze(x: Tensor, axes?: number | readonly number[]): Tensor {
  const drop = new Array<boolean>(x.ndim).fill(false);
  if (axes === undefined) {
    for (let a = 0; a < x.ndim; a++) drop[a] = x.shape[a] === 1;
  } else if (x.ndim > 0) {
    for (const axis of asList(axes)) {
      const a = normalizeAxis(axis, x.ndim, 'squeeze');
      drop[a] = x.shape[a] === 1;
    }
  }
  return reshape(x, x.shape.filter((_, a) => !drop[a]));
}

/** Insert size-1 axes at the given positions of the result. */
export function unsqueeze(x: Tensor, axes: number | readonly number[]): Tensor {
  const list = asList(axes);
  const nd = x.ndim + list.length;
  const isNew = new Array<boolean>(nd).fill(false);
  for (const axis of list) {
    const a = normalizeAxis(axis, nd, 'unsqueeze');
    if (isNew[a]) throw new ArgumentError(`unsqueeze: position ${axis} appears more than once in [${list.join(', ')}]`);
    isNew[a] = true;
  }
  const shape: number[] = [];
  let k = 0;
  for (let a = 0; a < nd; a++) shape.push(isNew[a] ? 1 : x.shape[k++]!);
  return reshape(x, shape);
}

/** Copy of `data` (of `shape`) with axes reordered: result axis i is input axis dims[i]. */
function permuteData(data: Float32Array, shape: Shape, dims: readonly number[]): Float32Array {
  const nd = shape.length;
  const out = new Float32Array(data.length);
  if (data.length === 0) return out;
  const inStrides = stridesOf(shape);
  const outShape = dims.map((d) => shape[d]!);
  const strides = dims.map((d) => inStrides[d]!);
  if (nd === 0) {
    out[0] = data[0]!;
    return out;
  }
  // walk the output in order; the innermost output axis is a strided read
  const inner = outShape[nd - 1]!;
  const innerStride = strides[nd - 1]!;
  const runs = data.length / inner;
  const counter = new Array<number>(nd).fill(0);
  let src = 0;
  let dst = 0;
  for (let r = 0; r < runs; r++) {
    for (let j = 0, s = src; j < inner; j++, s += innerStride) out[dst++] = data[s]!;
    for (let a = nd - 2; a >= 0; a--) {
      counter[a]!++;
      src += strides[a]!;
      if (counter[a]! < outShape[a]!) break;
      src -= strides[a]! * outShape[a]!;
      counter[a] = 0;
    }
  }
  return out;
}

/** Reorder axes: result axis i is input axis dims[i]. */
export function permute(x: Tensor, dims: readonly number[]): Tensor {
  const nd = x.ndim;
  if (dims.length !== nd) {
    throw new ShapeError(`permute: dims [${dims.join(', ')}] has ${dims.length} entries but the tensor of shape ${shapeString(x.shape)} has ${nd} axes`);
  }
  const order = dims.map((d) => normalizeAxis(d, nd, 'permute'));
  const seen = new Set(order);
  if (seen.size !== nd) throw new ArgumentError(`permute: dims [${dims.join(', ')}] repeat an axis; they must be a permutation of 0..${nd - 1}`);
  const inverse = new Array<number>(nd);
  order.forEach((d, i) => (inverse[d] = i));
  const outShape = order.map((d) => x.shape[d]!);
  const out = new Tensor(permuteData(x.data, x.shape, order), outShape);
  return record('permute', out, [x], (g) => [new Tensor(permuteData(g.data, outShape, inverse), x.shape)], {
    tangent: ([dx]) => new Tensor(permuteData(dx!.data, x.shape, order), outShape),
  });
}

/** Swap two axes. */
export function transpose(x: Tensor, dim0: number, dim1: number): Tensor {
  const a = normalizeAxis(dim0, x.ndim, 'transpose');
  const b = normalizeAxis(dim1, x.ndim, 'transpose');
  const dims = x.shape.map((_, i) => i);
  dims[a] = b;
  dims[b] = a;
  return permute(x, dims);
}

/** Join tensors along an axis (torch.cat). */
export function concat(tensors: readonly Tensor[], axis = 0): Tensor {
  if (tensors.length === 0) throw new ArgumentError('concat: needs at least one tensor, got an empty list');
  const first = tensors[0]!;
  if (first.ndim === 0) throw new ShapeError('concat: cannot join scalars (shape []); unsqueeze them to shape [1] first');
  const a = normalizeAxis(axis, first.ndim, 'concat');
  const shapes = tensors.map((t) => shapeString(t.shape)).join(', ');
  for (const t of tensors) {
    const ok = t.ndim === first.ndim && t.shape.every((d, i) => i === a || d === first.shape[i]);
    if (!ok) {
      throw new ShapeError(`concat: shapes ${shapes} do not match except along axis ${axis}; all tensors need the same sizes on the other axes`);
    }
  }
  let outer = 1;
  for (let i = 0; i < a; i++) outer *= first.shape[i]!;
  let inner = 1;
  for (let i = a + 1; i < first.ndim; i++) inner *= first.shape[i]!;
  const chunks = tensors.map((t) => t.shape[a]! * inner);
  const row = chunks.reduce((s, c) => s + c, 0);
  const out = allocate(outer * row, 'concat');
  let at = 0;
  tensors.forEach((t, k) => {
    const c = chunks[k]!;
    for (let o = 0; o < outer; o++) out.set(t.data.subarray(o * c, (o + 1) * c), o * row + at);
    at += c;
  });
  const outShape = [...first.shape];
  outShape[a] = tensors.reduce((s, t) => s + t.shape[a]!, 0);
  const result = new Tensor(out, outShape);
  return record('concat', result, tensors, (g, needs) => {
    let offset = 0;
    return tensors.map((t, k) => {
      const c = chunks[k]!;
      const start = offset;
      offset += c;
      if (!needs[k]) return null;
      const gi = new Float32Array(outer * c);
      for (let o = 0; o < outer; o++) gi.set(g.data.subarray(o * row + start, o * row + start + c), o * c);
      return new Tensor(gi, t.shape);
    });
  }, {
    tangent: (tangents) => {
      const d = new Float32Array(out.length);
      let offset = 0;
      tangents.forEach((t, k) => {
        const c = chunks[k]!;
        if (t) for (let o = 0; o < outer; o++) d.set(t.data.subarray(o * c, (o + 1) * c), o * row + offset);
        offset += c;
      });
      return new Tensor(d, outShape);
    },
  });
}

/** Copy the entries `indices` of axis `a` (outer/inner split around it). */
function gatherAxis(data: Float32Array, shape: Shape, a: number, indices: Int32Array): Float32Array {
  let outer = 1;
  for (let i = 0; i < a; i++) outer *= shape[i]!;
  let inner = 1;
  for (let i = a + 1; i < shape.length; i++) inner *= shape[i]!;
  const n = shape[a]!;
  const m = indices.length;
  const out = allocate(outer * m * inner, 'indexSelect');
  for (let o = 0; o < outer; o++) {
    for (let k = 0; k < m; k++) {
      const src = (o * n + indices[k]!) * inner;
      out.set(data.subarray(src, src + inner), (o * m + k) * inner);
    }
  }
  return out;
}

/** The backward of gatherAxis: add each gathered slab back where it came from. */
function scatterAddAxis(g: Float32Array, shape: Shape, a: number, indices: Int32Array): Float32Array {
  let outer = 1;
  for (let i = 0; i < a; i++) outer *= shape[i]!;
  let inner = 1;
  for (let i = a + 1; i < shape.length; i++) inner *= shape[i]!;
  const n = shape[a]!;
  const m = indices.length;
  const out = new Float32Array(sizeOf(shape));
  for (let o = 0; o < outer; o++) {
    for (let k = 0; k < m; k++) {
      const dst = (o * n + indices[k]!) * inner;
      const src = (o * m + k) * inner;
      for (let j = 0; j < inner; j++) out[dst + j]! += g[src + j]!;
    }
  }
  return out;
}

function selectAlong(op: string, x: Tensor, a: number, indices: Int32Array): Tensor {
  const outShape = [...x.shape];
  outShape[a] = indices.length;
  const out = new Tensor(gatherAxis(x.data, x.shape, a, indices), outShape);
  return record(op, out, [x], (g) => [new Tensor(scatterAddAxis(g.data, x.shape, a, indices), x.shape)], {
    tangent: ([dx]) => new Tensor(gatherAxis(dx!.data, x.shape, a, indices), outShape),
  });
}

/** The indices Python's `range(n)[start:end:step]` picks. */
function sliceIndices(n: number, start: number | undefined, end: number | undefined, step: number): Int32Array {
  let lo: number;
  let hi: number;
  if (step > 0) {
    lo = start === undefined ? 0 : start < 0 ? Math.max(start + n, 0) : Math.min(start, n);
    hi = end === undefined ? n : end < 0 ? Math.max(end + n, 0) : Math.min(end, n);
  } else {
    lo = start === undefined ? n - 1 : start < 0 ? Math.max(start + n, -1) : Math.min(start, n - 1);
    hi = end === undefined ? -1 : end < 0 ? Math.max(end + n, -1) : Math.min(end, n - 1);
  }
  const count = Math.max(0, Math.ceil((hi - lo) / step));
  const indices = new Int32Array(count);
  for (let k = 0; k < count; k++) indices[k] = lo + k * step;
  return indices;
}

/** Python-style slice of one axis: start and end clamp, negatives count from the end, step > 0 or < 0. */
export function slice(x: Tensor, axis: number, start?: number, end?: number, step = 1): Tensor {
  const a = normalizeAxis(axis, x.ndim, 'slice');
  if (!Number.isInteger(step) || step === 0) throw new ArgumentError(`slice: step must be a non-zero integer, got ${step}`);
  for (const [name, v] of [['start', start], ['end', end]] as const) {
    if (v !== undefined && !Number.isInteger(v)) throw new ArgumentError(`slice: ${name} must be an integer or omitted, got ${v}`);
  }
  return selectAlong('slice', x, a, sliceIndices(x.shape[a]!, start, end, step));
}

/**
 * Pick entries along an axis by index (torch.index_select / ONNX Gather with
 * 1-D indices). Negative indices count from the end, as in ONNX Gather;
 * repeated indices add their gradients.
 */
export function indexSelect(x: Tensor, axis: number, indices: readonly number[]): Tensor {
  const a = normalizeAxis(axis, x.ndim, 'indexSelect');
  const n = x.shape[a]!;
  const idx = new Int32Array(indices.length);
  indices.forEach((i, k) => {
    if (!Number.isInteger(i) || i < -n || i >= n) {
      throw new ArgumentError(`indexSelect: index ${i} is out of range for axis ${axis} of size ${n} (shape ${shapeString(x.shape)}; accepted: ${-n} to ${n - 1})`);
    }
    idx[k] = i < 0 ? i + n : i;
  });
  return selectAlong('indexSelect', x, a, idx);
}

/** Broadcast to a larger shape (torch.expand; copies). -1 keeps an existing size. */
export function expand(x: Tensor, shape: Shape): Tensor {
  const lead = shape.length - x.ndim;
  const fail = (why: string): never => {
    throw new ShapeError(`expand: cannot expand shape ${shapeString(x.shape)} to ${shapeString(shape)}: ${why} (sizes must match or be 1 in the input; -1 keeps a size)`);
  };
  if (lead < 0) fail('the target has fewer axes than the input');
  const target = shape.map((d, i) => {
    if (i < lead) {
      if (d === -1) fail(`-1 is not allowed for the new leading axis ${i}`);
      if (!Number.isInteger(d) || d < 0) fail(`size ${d} is not a non-negative integer`);
      return d;
    }
    const have = x.shape[i - lead]!;
    if (d === -1) return have;
    if (d !== have && have !== 1) fail(`axis ${i} has size ${have}, not 1`);
    if (!Number.isInteger(d) || d < 0) fail(`size ${d} is not a non-negative integer`);
    return d;
  });
  const index = broadcastIndex(x.shape, target);
  const n = sizeOf(target);
  const out = new Float32Array(n);
  if (index) for (let i = 0; i < n; i++) out[i] = x.data[index[i]!]!;
  else out.set(x.data);
  return record('expand', new Tensor(out, target), [x], (g) => [sumToShape(g, x.shape)], {
    tangent: ([dx]) => new Tensor(index ? Float32Array.from(index, (i) => dx!.data[i]!) : dx!.data.slice(), target),
  });
}

export type PadMode = 'constant' | 'reflect' | 'replicate';

/**
 * Pad the last axes, PyTorch's F.pad order: [left, right] pads the last axis,
 * [left, right, top, bottom] the last two, and so on. Negative pads crop.
 */
export function pad(x: Tensor, pads: readonly number[], options: { mode?: PadMode; value?: number } = {}): Tensor {
  const mode = options.mode ?? 'constant';
  const value = options.value ?? 0;
  if (mode !== 'constant' && mode !== 'reflect' && mode !== 'replicate') {
    throw new ArgumentError(`pad: mode '${String(mode)}' is not supported (accepted: 'constant', 'reflect', 'replicate')`);
  }
  if (pads.length % 2 !== 0 || pads.length / 2 > x.ndim) {
    throw new ArgumentError(`pad: pads [${pads.join(', ')}] must have an even length of at most 2 * ${x.ndim} (two per padded axis, last axis first) for shape ${shapeString(x.shape)}`);
  }
  const nd = x.ndim;
  const sideOf = (a: number, side: 0 | 1): number => {
    const k = nd - 1 - a; // pads[2k], pads[2k+1] pad axis a
    return k < pads.length / 2 ? pads[2 * k + side]! : 0;
  };
  if (!pads.every((v) => Number.isInteger(v))) throw new ArgumentError(`pad: pads [${pads.join(', ')}] must be integers`);
  // Every axis is checked, and the result's size, before the per-axis tables of those sizes are made.
  const outShape = [...x.shape];
  let outSize = 1;
  for (let a = 0; a < nd; a++) {
    const n = x.shape[a]!;
    const before = sideOf(a, 0);
    const after = sideOf(a, 1);
    const size = n + before + after;
    if (size < 0 || (size === 0 && mode !== 'constant')) {
      throw new ShapeError(`pad: pads (${before}, ${after}) on axis ${a} of size ${n} leave ${size} elements (shape ${shapeString(x.shape)}); the result needs a non-negative size`);
    }
    if (mode === 'reflect' && (before >= n || after >= n) && (before > 0 || after > 0)) {
      throw new ShapeError(`pad: reflect pads (${before}, ${after}) on axis ${a} of size ${n} must be smaller than the size (shape ${shapeString(x.shape)})`);
    }
    if (mode === 'replicate' && n === 0 && (before > 0 || after > 0)) {
      throw new ShapeError(`pad: replicate cannot pad the empty axis ${a} (shape ${shapeString(x.shape)})`);
    }
    checkElements(size, 'pad', `axis ${a} of its result`);
    outShape[a] = size;
    outSize *= size;
  }
  checkElements(outSize, 'pad');
  // per axis: for each output position, the input position it reads (-1: the constant)
  const maps: Int32Array[] = [];
  for (let a = 0; a < nd; a++) {
    const n = x.shape[a]!;
    const before = sideOf(a, 0);
    const size = outShape[a]!;
    const map = new Int32Array(size);
    for (let o = 0; o < size; o++) {
      let i = o - before;
      if (i < 0 || i >= n) {
        if (mode === 'constant') i = -1;
        else if (mode === 'replicate') i = i < 0 ? 0 : n - 1;
        else i = i < 0 ? -i : 2 * (n - 1) - i;
      }
      map[o] = i;
    }
    maps.push(map);
  }
  const inStrides = stridesOf(x.shape);
  const out = new Float32Array(outSize);
  // Input offset where each output run (one line of the last axis) reads,
  // or -1 when the whole line is padding; forward and backward share it.
  const inner = nd === 0 ? 1 : outShape[nd - 1]!;
  const lastMap = nd === 0 ? Int32Array.of(0) : maps[nd - 1]!;
  const runs = outSize === 0 ? 0 : outSize / inner;
  const runBase = new Int32Array(runs);
  const counter = new Array<number>(nd).fill(0);
  for (let r = 0; r < runs; r++) {
    let base = 0;
    for (let a = 0; a < nd - 1; a++) {
      const i = maps[a]![counter[a]!]!;
      if (i < 0) {
        base = -1;
        break;
      }
      base += i * inStrides[a]!;
    }
    runBase[r] = base;
    for (let a = nd - 2; a >= 0; a--) {
      if (++counter[a]! < outShape[a]!) break;
      counter[a] = 0;
    }
  }
  const src = x.data;
  for (let r = 0, dst = 0; r < runs; r++) {
    const base = runBase[r]!;
    for (let j = 0; j < inner; j++, dst++) {
      const i = lastMap[j]!;
      out[dst] = base < 0 || i < 0 ? value : src[base + i]!;
    }
  }
  return record('pad', new Tensor(out, outShape), [x], (g) => {
    const gi = new Float32Array(x.size);
    const gd = g.data;
    for (let r = 0, dst = 0; r < runs; r++) {
      const base = runBase[r]!;
      if (base < 0) {
        dst += inner;
        continue;
      }
      for (let j = 0; j < inner; j++, dst++) {
        const i = lastMap[j]!;
        if (i >= 0) gi[base + i]! += gd[dst]!;
      }
    }
    return [new Tensor(gi, x.shape)];
  }, {
    // The padding value is a constant: the tangent is padded with zeros.
    tangent: ([dx]) => {
      const d = new Float32Array(out.length);
      for (let r = 0, dst = 0; r < runs; r++) {
        const base = runBase[r]!;
        for (let j = 0; j < inner; j++, dst++) {
          const i = lastMap[j]!;
          d[dst] = base < 0 || i < 0 ? 0 : dx!.data[base + i]!;
        }
      }
      return new Tensor(d, outShape);
    },
  });
}
