import { record } from '../autograd.js';
import { ArgumentError, ShapeError } from '../errors.js';
import { Tensor, normalizeAxis, shapeString, type Shape } from '../tensor.js';

/** Axes to reduce: one axis, several, or all when omitted. Negative axes count from the end. */
export type Axes = number | readonly number[];

// ---------------------------------------------------------------------------
// How a reduction walks its input.
//
// Axes of size 1 are dropped and neighbouring axes that are both kept or both
// reduced are merged, so [N,C,H,W] reduced over (2,3) becomes two blocks
// [N*C kept, H*W reduced], and over axis 1 becomes [N kept, C reduced, H*W
// kept]. The input is then read as runs of its innermost block; each run
// starts at a known output offset. Kernels are a loop over runs with a tight
// inner loop over one run, whatever axes are reduced.

interface Plan {
  /** Output shape without and with the reduced axes kept as size 1. */
  readonly outShape: number[];
  readonly keptShape: number[];
  /** Elements folded into each output element. */
  readonly count: number;
  readonly outSize: number;
  /** Length of one run (the innermost block) and whether it is reduced. */
  readonly inner: number;
  readonly innerReduced: boolean;
  /** Output offset at which each run starts. */
  readonly runStarts: Int32Array;
  /** 1 for a run that is the first to reach its output elements (max/min start from it). */
  readonly firstRun: Uint8Array;
}

/** Which axes are reduced; omitted (or an empty list, as torch) means all. */
function reducedMask(op: string, shape: Shape, axis: Axes | undefined): boolean[] {
  const nd = shape.length;
  const list = axis === undefined ? [] : typeof axis === 'number' ? [axis] : axis;
  if (list.length === 0) return new Array<boolean>(nd).fill(true);
  const mask = new Array<boolean>(nd).fill(false);
  for (const a of list) {
    if (nd === 0) {
      // a scalar accepts axis 0 or -1, as PyTorch, and stays a scalar
      if (a !== 0 && a !== -1) {
        throw new ArgumentError(`${op}: axis ${a} is out of range for a scalar (accepted: 0 or -1)`);
      }
      continue;
    }
    const n = normalizeAxis(a, shape.length, op, shape);
    if (mask[n]) {
      throw new ArgumentError(`${op}: axis ${a} appears more than once in [${list.join(', ')}]; each axis may be reduced once`);
    }
    mask[n] = true;
  }
  return mask;
}

function planReduction(op: string, shape: Shape, axis: Axes | undefined): Plan {
  const mask = reducedMask(op, shape, axis);
  const outShape: number[] = [];
  const keptShape: number[] = [];
  let count = 1;
  const sizes: number[] = [];
  const reduced: boolean[] = [];
  let total = 1;
  for (let a = 0; a < shape.length; a++) {
    const n = shape[a]!;
    total *= n;
    if (mask[a]) {
      count *= n;
      keptShape.push(1);
    } else {
      outShape.push(n);
      keptShape.push(n);
    }
    if (n === 1) continue;
    const last = sizes.length - 1;
    if (last >= 0 && reduced[last] === mask[a]) sizes[last]! *= n;
    else {
      sizes.push(n);
      reduced.push(mask[a]!);
    }
  }
  if (sizes.length === 0) {
    sizes.push(1);
    reduced.push(false);
  }
  const nb = sizes.length;
  const outStrides = new Array<number>(nb);
  let outSize = 1;
  for (let b = nb - 1; b >= 0; b--) {
    outStrides[b] = reduced[b] ? 0 : outSize;
    if (!reduced[b]) outSize *= sizes[b]!;
  }
  const inner = sizes[nb - 1]!;
  const runs = total === 0 ? 0 : total / inner;
  const runStarts = new Int32Array(runs);
  const firstRun = new Uint8Array(runs);
  const counter = new Array<number>(nb).fill(0);
  // reduced blocks (other than the innermost) whose counter is not 0
  let reducedAdvanced = 0;
  let o = 0;
  for (let r = 0; r < runs; r++) {
    runStarts[r] = o;
    firstRun[r] = reducedAdvanced === 0 ? 1 : 0;
    for (let b = nb - 2; b >= 0; b--) {
      if (reduced[b]) reducedAdvanced += counter[b] === 0 ? 1 : 0;
      counter[b]!++;
      o += outStrides[b]!;
      if (counter[b]! < sizes[b]!) break;
      o -= outStrides[b]! * sizes[b]!;
      counter[b] = 0;
      if (reduced[b]) reducedAdvanced--;
    }
  }
  return { outShape, keptShape, count, outSize, inner, innerReduced: reduced[nb - 1]!, runStarts, firstRun };
}

/** Sums of each reduced group, accumulated in float64. */
function sumKernel(x: Float32Array, plan: Plan): Float32Array {
  const acc = new Float64Array(plan.outSize);
  const { inner, runStarts } = plan;
  const runs = runStarts.length;
  if (plan.innerReduced) {
    for (let r = 0; r < runs; r++) {
      let s = 0;
      const start = r * inner;
      for (let j = 0; j < inner; j++) s += x[start + j]!;
      acc[runStarts[r]!]! += s;
    }
  } else {
    for (let r = 0; r < runs; r++) {
      const o = runStarts[r]!;
      const start = r * inner;
      for (let j = 0; j < inner; j++) acc[o + j]! += x[start + j]!;
    }
  }
  return new Float32Array(acc);
}

/** The backward of a sum: each input element gets its group's gradient times `scale`. */
function spreadKernel(g: Float32Array, plan: Plan, inputSize: number, scale: number): Float32Array {
  const out = new Float32Array(inputSize);
  const { inner, runStarts } = plan;
  const runs = runStarts.length;
  if (plan.innerReduced) {
    for (let r = 0; r < runs; r++) {
      const v = g[runStarts[r]!]! * scale;
      const start = r * inner;
      for (let j = 0; j < inner; j++) out[start + j] = v;
    }
  } else {
    for (let r = 0; r < runs; r++) {
      const o = runStarts[r]!;
      const start = r * inner;
      for (let j = 0; j < inner; j++) out[start + j] = g[o + j]! * scale;
    }
  }
  return out;
}

/**
 * Largest (sign = 1) or smallest (sign = -1) value of each group and the flat
 * input offset of its first occurrence in row-major order. NaN wins, as in
 * PyTorch. Groups must not be empty.
 */
function extremumKernel(x: Float32Array, plan: Plan, sign: number): { values: Float32Array; at: Int32Array } {
  const values = new Float32Array(plan.outSize);
  const at = new Int32Array(plan.outSize);
  const { inner, runStarts, firstRun } = plan;
  const runs = runStarts.length;
  if (plan.innerReduced) {
    for (let r = 0; r < runs; r++) {
      const o = runStarts[r]!;
      const start = r * inner;
      let best = firstRun[r] ? x[start]! : values[o]!;
      let bestAt = firstRun[r] ? start : at[o]!;
      for (let j = 0; j < inner; j++) {
        const v = x[start + j]!;
        if (sign * v > sign * best || (v !== v && best === best)) {
          best = v;
          bestAt = start + j;
        }
      }
      values[o] = best;
      at[o] = bestAt;
    }
  } else {
    for (let r = 0; r < runs; r++) {
      const o = runStarts[r]!;
      const start = r * inner;
      if (firstRun[r]) {
        for (let j = 0; j < inner; j++) {
          values[o + j] = x[start + j]!;
          at[o + j] = start + j;
        }
        continue;
      }
      for (let j = 0; j < inner; j++) {
        const v = x[start + j]!;
        const best = values[o + j]!;
        if (sign * v > sign * best || (v !== v && best === best)) {
          values[o + j] = v;
          at[o + j] = start + j;
        }
      }
    }
  }
  return { values, at };
}

// ---------------------------------------------------------------------------
// ops

/** Sum over `axis` (all axes when omitted), as torch.sum(x, dim, keepdim). */
export function sum(x: Tensor, axis?: Axes, keepdim = false): Tensor {
  const plan = planReduction('sum', x.shape, axis);
  const out = new Tensor(sumKernel(x.data, plan), keepdim ? plan.keptShape : plan.outShape);
  return record('sum', out, [x], (g) => [new Tensor(spreadKernel(g.data, plan, x.size, 1), x.shape)], {
    tangent: ([dx]) => new Tensor(sumKernel(dx!.data, plan), out.shape),
  });
}

/** Mean over `axis` (all axes when omitted), as torch.mean; NaN over an empty axis. */
export function mean(x: Tensor, axis?: Axes, keepdim = false): Tensor {
  const plan = planReduction('mean', x.shape, axis);
  const sums = sumKernel(x.data, plan);
  const scale = 1 / plan.count;
  for (let i = 0; i < sums.length; i++) sums[i] = sums[i]! * scale;
  const out = new Tensor(sums, keepdim ? plan.keptShape : plan.outShape);
  return record('mean', out, [x], (g) => [new Tensor(spreadKernel(g.data, plan, x.size, scale), x.shape)], {
    tangent: ([dx]) => new Tensor(sumKernel(dx!.data, plan).map((v) => v * scale), out.shape),
  });
}

/**
 * Maximum values over `axis`; the gradient goes to the first maximum in
 * row-major order (PyTorch's max(dim)). Unlike torch.amax and the
 * all-axes torch.max(), ties do not share the gradient.
 */
export function max(x: Tensor, axis?: Axes, keepdim = false): Tensor {
  return extremum('max', x, axis, keepdim, 1);
}

/** Minimum values over `axis`; the gradient goes to the first minimum. */
export function min(x: Tensor, axis?: Axes, keepdim = false): Tensor {
  return extremum('min', x, axis, keepdim, -1);
}

function extremum(op: string, x: Tensor, axis: Axes | undefined, keepdim: boolean, sign: number): Tensor {
  const plan = planReduction(op, x.shape, axis);
  requireNonEmptyGroups(op, x.shape, plan);
  const { values, at } = extremumKernel(x.data, plan, sign);
  const out = new Tensor(values, keepdim ? plan.keptShape : plan.outShape);
  return record(op, out, [x], (g) => {
    const gi = new Float32Array(x.size);
    const gd = g.data;
    for (let o = 0; o < at.length; o++) gi[at[o]!]! += gd[o]!;
    return [new Tensor(gi, x.shape)];
  }, { tangent: ([dx]) => new Tensor(Float32Array.from(at, (i) => dx!.data[i]!), out.shape) });
}

function requireNonEmptyGroups(op: string, shape: Shape, plan: Plan): void {
  if (plan.count === 0 && plan.outSize > 0) {
    throw new ShapeError(`${op}: cannot reduce over an empty axis of a tensor of shape ${shapeString(shape)} (the reduced axes must have size >= 1)`);
  }
}

/** Index of the first maximum along one axis (flat index when omitted), as float32 values; no gradient. */
export function argmax(x: Tensor, axis?: number, keepdim = false): Tensor {
  return argExtremum('argmax', x, axis, keepdim, 1);
}

/** Index of the first minimum along one axis (flat index when omitted), as float32 values; no gradient. */
export function argmin(x: Tensor, axis?: number, keepdim = false): Tensor {
  return argExtremum('argmin', x, axis, keepdim, -1);
}

function argExtremum(op: string, x: Tensor, axis: number | undefined, keepdim: boolean, sign: number): Tensor {
  if (axis !== undefined && !Number.isInteger(axis)) {
    throw new ArgumentError(`${op}: axis must be one integer or omitted, got ${String(axis)}`);
  }
  const plan = planReduction(op, x.shape, axis);
  requireNonEmptyGroups(op, x.shape, plan);
  if (x.size === 0 && axis === undefined) {
    throw new ShapeError(`${op}: the tensor of shape ${shapeString(x.shape)} is empty; there is no index to return`);
  }
  const { at } = extremumKernel(x.data, plan, sign);
  // the flat offset becomes an index along the reduced axis
  let stride = 1;
  let n = Number.POSITIVE_INFINITY;
  if (axis !== undefined && x.ndim > 0) {
    const a = normalizeAxis(axis, x.ndim, op, x.shape);
    n = x.shape[a]!;
    for (let k = a + 1; k < x.ndim; k++) stride *= x.shape[k]!;
  }
  const out = new Float32Array(at.length);
  for (let o = 0; o < at.length; o++) out[o] = Math.floor(at[o]! / stride) % n;
  return new Tensor(out, keepdim ? plan.keptShape : plan.outShape);
}
