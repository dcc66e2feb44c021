import { ArgumentError, ShapeError } from './errors.js';
import type { GradNode } from './autograd.js';
import { allocate, chargeElements } from './limits.js';

/** A shape: sizes of each axis, outermost first (PyTorch order, e.g. NCHW). */
export type Shape = readonly number[];

/** Nested number arrays accepted by `tensor()`. */
export type NestedArray = number | readonly NestedArray[];

/**
 * A dense float32 tensor in row-major (C) order.
 *
 * Tensors are values: ops never change their inputs, they return new tensors.
 * Only optimisers and `loadStateDict` write into a parameter's `data` in place.
 *
 * `gradFn` records how the tensor was computed (the op and its inputs) when
 * autodiff is on; it is `null` for leaves such as inputs and parameters.
 */
export class Tensor {
  readonly shape: Shape;
  readonly data: Float32Array;
  /** Whether gradients flow to (or through) this tensor. */
  requiresGrad: boolean;
  /** Accumulated gradient, filled by `backward()` for leaves that require it. */
  grad: Tensor | null = null;
  /** The op that produced this tensor, or null for a leaf. Set by autodiff. */
  gradFn: GradNode | null = null;

  constructor(data: Float32Array, shape: Shape, requiresGrad = false) {
    const size = sizeOf(shape);
    if (data.length !== size) {
      throw new ShapeError(
        `Tensor: data has ${data.length} elements but shape [${shape.join(', ')}] needs ${size}`,
      );
    }
    chargeElements(size);
    this.data = data;
    this.shape = Object.freeze([...shape]);
    this.requiresGrad = requiresGrad;
  }

  /** Number of elements. */
  get size(): number {
    return this.data.length;
  }

  /** Number of axes. */
  get ndim(): number {
    return this.shape.length;
  }

  /** The value of a one-element tensor. */
  item(): number {
    if (this.data.length !== 1) {
      throw new ShapeError(
        `item: tensor of shape [${this.shape.join(', ')}] has ${this.data.length} elements; only one-element tensors have an item`,
      );
    }
    return this.data[0]!;
  }

  /** The element at a full index, e.g. `t.get(0, 2, 1, 1)`; negative indices count from the end. */
  get(...index: number[]): number {
    return this.data[this.offsetOf(index)]!;
  }

  /** Flat offset of a full index (checked). */
  offsetOf(index: readonly number[]): number {
    if (index.length !== this.shape.length) {
      throw new ArgumentError(
        `index [${index.join(', ')}] has ${index.length} entries; tensor of shape [${this.shape.join(', ')}] needs ${this.shape.length}`,
      );
    }
    let offset = 0;
    for (let axis = 0; axis < index.length; axis++) {
      const n = this.shape[axis]!;
      let i = index[axis]!;
      if (i < 0) i += n;
      if (!Number.isInteger(i) || i < 0 || i >= n) {
        throw new ArgumentError(
          `index ${index[axis]} is out of range for axis ${axis} of size ${n} (shape [${this.shape.join(', ')}])`,
        );
      }
      offset = offset * n + i;
    }
    return offset;
  }

  /** Nested arrays of numbers, like `torch.Tensor.tolist()`. */
  toArray(): NestedArray {
    if (this.shape.length === 0) return this.data[0]!;
    const build = (axis: number, offset: number): NestedArray[] => {
      const n = this.shape[axis]!;
      const stride = sizeOf(this.shape.slice(axis + 1));
      const out: NestedArray[] = [];
      for (let i = 0; i < n; i++) {
        out.push(
          axis === this.shape.length - 1
            ? this.data[offset + i]!
            : build(axis + 1, offset + i * stride),
        );
      }
      return out;
    };
    return build(0, 0);
  }

  /** A copy with its own data; not connected to the graph. */
  clone(): Tensor {
    return new Tensor(this.data.slice(), this.shape);
  }

  /** The same data, cut from the graph: a leaf that does not require grad. */
  detach(): Tensor {
    return new Tensor(this.data, this.shape);
  }

  /** A leaf sharing this data that requires grad (for asking `grad()` about an input). */
  requireGrad(): Tensor {
    return new Tensor(this.data, this.shape, true);
  }

  toString(): string {
    return `Tensor([${this.shape.join(', ')}]${this.gradFn ? `, gradFn=${this.gradFn.op}` : ''})`;
  }
}

/** A trainable tensor: a leaf with `requiresGrad = true`, owned by a Module. */
export class Parameter extends Tensor {
  constructor(data: Float32Array, shape: Shape, requiresGrad = true) {
    super(data, shape, requiresGrad);
  }
  static from(t: Tensor): Parameter {
    return new Parameter(t.data.slice(), t.shape);
  }
}

// ---------------------------------------------------------------------------
// shape helpers

/** Number of elements of a shape (1 for a scalar). */
export function sizeOf(shape: Shape): number {
  let n = 1;
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) {
      throw new ShapeError(`invalid shape [${shape.join(', ')}]: sizes must be non-negative integers`);
    }
    n *= d;
  }
  return n;
}

/** Row-major strides of a shape. */
export function stridesOf(shape: Shape): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i]!;
  }
  return strides;
}

export function shapeString(shape: Shape): string {
  return `[${shape.join(', ')}]`;
}

export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/**
 * Normalise a possibly negative axis (-ndim to ndim - 1) for a tensor of
 * `ndim` axes. Given the tensor's `shape`, the error names it and a scalar
 * has no axis (reductions, softmax); without it, axis 0 of a scalar passes
 * (the shape ops, which treat a scalar as one element).
 */
export function normalizeAxis(axis: number, ndim: number, op: string, shape?: Shape): number {
  const a = axis < 0 ? axis + ndim : axis;
  if (!Number.isInteger(a) || a < 0 || a >= (shape ? ndim : Math.max(ndim, 1))) {
    const of = shape ? `a tensor of shape ${shapeString(shape)}` : `a tensor with ${ndim} axes`;
    throw new ArgumentError(`${op}: axis ${axis} is out of range for ${of} (accepted: ${-ndim} to ${ndim - 1})`);
  }
  return a;
}

// ---------------------------------------------------------------------------
// creation

function flatten(data: NestedArray, shape: number[], out: number[], depth: number): void {
  if (typeof data === 'number') {
    if (depth !== shape.length) throw new ShapeError('tensor: nested array is ragged');
    out.push(data);
    return;
  }
  if (depth === shape.length) shape.push(data.length);
  else if (shape[depth] !== data.length) throw new ShapeError('tensor: nested array is ragged');
  for (const d of data) flatten(d, shape, out, depth + 1);
}

/**
 * Make a tensor from numbers. `tensor([[1, 2], [3, 4]])` infers the shape;
 * `tensor(flatValues, [2, 2])` takes flat values and a shape.
 */
export function tensor(
  data: NestedArray | Float32Array | ArrayLike<number>,
  shape?: Shape,
  options: { requiresGrad?: boolean } = {},
): Tensor {
  let values: Float32Array;
  let inferred: number[];
  if (typeof data === 'number') {
    values = Float32Array.of(data);
    inferred = [];
  } else if (data instanceof Float32Array) {
    values = data;
    inferred = [data.length];
  } else if (Array.isArray(data)) {
    const flat: number[] = [];
    inferred = [];
    flatten(data as NestedArray, inferred, flat, 0);
    values = Float32Array.from(flat);
  } else {
    values = Float32Array.from(data as ArrayLike<number>);
    inferred = [values.length];
  }
  const finalShape = shape ?? inferred;
  if (sizeOf(finalShape) !== values.length) {
    throw new ShapeError(
      `tensor: ${values.length} values do not fill shape ${shapeString(finalShape)} (${sizeOf(finalShape)} elements)`,
    );
  }
  return new Tensor(values, finalShape, options.requiresGrad ?? false);
}

export function full(shape: Shape, value: number): Tensor {
  return new Tensor(allocate(sizeOf(shape), 'full').fill(value), shape);
}

export function zeros(shape: Shape): Tensor {
  return new Tensor(allocate(sizeOf(shape), 'zeros'), shape);
}

export function ones(shape: Shape): Tensor {
  return full(shape, 1);
}

export function zerosLike(t: Tensor): Tensor {
  return zeros(t.shape);
}

export function onesLike(t: Tensor): Tensor {
  return ones(t.shape);
}

/** 0, 1, ..., n-1 (or start..end by step), as float32. */
export function arange(start: number, end?: number, step = 1): Tensor {
  if (end === undefined) {
    end = start;
    start = 0;
  }
  if (step === 0) throw new ArgumentError('arange: step must not be 0');
  const n = Math.max(0, Math.ceil((end - start) / step));
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = start + i * step;
  return new Tensor(data, [n]);
}
