import { LimitError } from './errors.js';

/**
 * Bounds on what one op and one model run may ask of memory and time, so
 * that a hostile or broken model (an ONNX file whose shapes lie, a 5 KB
 * graph padding a tensor by 65,535 cells) ends in a LimitError instead of a
 * multi-gigabyte allocation, a RangeError or a run of minutes.
 *
 * - `maxElements`: the elements of any tensor an op makes, checked before
 *   it is allocated. Default 2^28 (268 million float32 values, 1 GiB).
 * - `maxWork`: the work one run of a model may do per batch item, in
 *   multiply-adds (convolutions, matrix products) plus one per element of
 *   every tensor made. Default 2^36 (about 69 billion: a VGG-19 at 224x224
 *   needs 20 billion per image, a ResNet-50 4 billion). Counted inside
 *   `withWorkBudget` (the ONNX graph runs its forward passes in one), and
 *   per op call elsewhere.
 *
 * Both are global, as the allocator they protect is; `setTensorLimits`
 * returns the previous values so a caller can restore them.
 */
export interface TensorLimits {
  maxElements: number;
  maxWork: number;
}

const DEFAULTS: TensorLimits = { maxElements: 2 ** 28, maxWork: 2 ** 36 };
let limits: TensorLimits = { ...DEFAULTS };

/** The limits in force. */
export function tensorLimits(): Readonly<TensorLimits> {
  return { ...limits };
}

/** Change some limits; returns the previous ones. Each must be a positive number (Infinity turns a check off). */
export function setTensorLimits(changes: Partial<TensorLimits>): TensorLimits {
  for (const key of ['maxElements', 'maxWork'] as const) {
    const v = changes[key];
    if (v !== undefined && !(typeof v === 'number' && v > 0)) {
      throw new LimitError(`setTensorLimits: ${key} must be a positive number or Infinity (got ${String(v)})`);
    }
  }
  const previous = limits;
  limits = { ...limits, ...Object.fromEntries(Object.entries(changes).filter(([, v]) => v !== undefined)) };
  return previous;
}

/** Throw a LimitError unless `count` elements (of the tensor `what` describes) fit the element limit. */
export function checkElements(count: number, op: string, what = 'its result'): void {
  if (Number.isSafeInteger(count) && count >= 0 && count <= limits.maxElements) return;
  throw new LimitError(
    `${op}: ${what} would hold ${Number.isFinite(count) ? count.toLocaleString('en-US') : count} elements; ` +
      `the limit is ${limits.maxElements.toLocaleString('en-US')} (setTensorLimits({ maxElements }) raises it)`,
  );
}

/** A zeroed Float32Array of `count` elements, after checking the element limit. */
export function allocate(count: number, op: string, what?: string): Float32Array<ArrayBuffer> {
  checkElements(count, op, what);
  return new Float32Array(count);
}

interface Budget {
  left: number;
  items: number;
  what: string;
}

let budget: Budget | null = null;

/**
 * Run `fn` with a work budget of `maxWork` per batch item: every op inside
 * charges its work, and the first that overdraws throws a LimitError.
 * Budgets do not nest: an inner call runs on the outer budget.
 */
export function withWorkBudget<T>(items: number, what: string, fn: () => T): T {
  if (budget) return fn();
  budget = { left: limits.maxWork * Math.max(1, items), items: Math.max(1, items), what };
  try {
    return fn();
  } finally {
    budget = null;
  }
}

/**
 * Charge `work` (multiply-adds, or elements written) of one op. Inside a
 * budget it is taken from the budget; outside, one op alone may do
 * `maxWork` per item of its batch.
 */
export function chargeWork(work: number, op: string, items = 1): void {
  if (budget) {
    budget.left -= work;
    if (budget.left < 0) {
      budget.left = Infinity; // one error per run: hooks and cleanup after the throw run free
      throw new LimitError(
        `${budget.what}: the run asks for more than ${limits.maxWork.toLocaleString('en-US')} multiply-adds per batch item (stopped at ${op}); ` +
          'setTensorLimits({ maxWork }) raises the limit if the model really needs that much',
      );
    }
    return;
  }
  if (work > limits.maxWork * Math.max(1, items)) {
    throw new LimitError(
      `${op}: this call asks for ${work.toExponential(2)} multiply-adds, more than ${limits.maxWork.toLocaleString('en-US')} per batch item ` +
        '(setTensorLimits({ maxWork }) raises the limit)',
    );
  }
}

/** Charge the elements of a tensor just made, inside a budget (every op's output passes here). */
export function chargeElements(count: number): void {
  if (budget) chargeWork(count, 'a new tensor');
}
