/**
 * A class's name that survives minification: its own `static readonly
 * typeName` when it declares one (an inherited one does not count, so a
 * user's subclass keeps its own name), else the constructor's name.
 */
export function typeNameOf(ctor: Function): string {
  const own = Object.getOwnPropertyDescriptor(ctor, 'typeName')?.value;
  return typeof own === 'string' ? own : ctor.name;
}

/**
 * Typed errors. Every error tinycam throws on bad input is a `TinycamError`
 * with a stable `code`, and its message says what was wrong and what would be
 * accepted. Callers can branch on `instanceof` or on `code`.
 */
export class TinycamError extends Error {
  static readonly typeName: string = 'TinycamError';
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = typeNameOf(new.target);
    this.code = code;
  }
}

/** Tensor shapes that an op cannot work with (names the op and the shapes). */
export class ShapeError extends TinycamError {
  static override readonly typeName: string = 'ShapeError';
  constructor(message: string) {
    super('E_SHAPE', message);
  }
}

/** An argument outside what an op or function accepts (not a shape problem). */
export class ArgumentError extends TinycamError {
  static override readonly typeName: string = 'ArgumentError';
  constructor(message: string) {
    super('E_ARGUMENT', message);
  }
}

/** Autodiff misuse: asking for a gradient that cannot exist. */
export class GradError extends TinycamError {
  static override readonly typeName: string = 'GradError';
  constructor(message: string) {
    super('E_GRAD', message);
  }
}

/**
 * A tensor or a run larger than the limits allow (`setTensorLimits`): too
 * many elements for one tensor, or more work than the budget of one run.
 */
export class LimitError extends TinycamError {
  static override readonly typeName: string = 'LimitError';
  constructor(message: string) {
    super('E_LIMIT', message);
  }
}

/** A safetensors file that is truncated, malformed or holds an unsupported dtype. */
export class SafetensorsError extends TinycamError {
  static override readonly typeName: string = 'SafetensorsError';
  constructor(message: string) {
    super('E_SAFETENSORS', message);
  }
}

/** A state dict that does not fit a module (missing, unexpected or misshaped keys). */
export class StateDictError extends TinycamError {
  static override readonly typeName: string = 'StateDictError';
  readonly missing: string[];
  readonly unexpected: string[];
  readonly mismatched: { key: string; expected: number[]; got: number[] }[];
  constructor(
    message: string,
    details: {
      missing?: string[];
      unexpected?: string[];
      mismatched?: { key: string; expected: number[]; got: number[] }[];
    } = {},
  ) {
    super('E_STATE_DICT', message);
    this.missing = details.missing ?? [];
    this.unexpected = details.unexpected ?? [];
    this.mismatched = details.mismatched ?? [];
  }
}

/** A module path that does not exist; `candidates` lists the closest names first. */
export class LayerNotFoundError extends TinycamError {
  static override readonly typeName: string = 'LayerNotFoundError';
  readonly layer: string;
  readonly candidates: string[];
  constructor(layer: string, candidates: string[], message?: string) {
    super(
      'E_LAYER_NOT_FOUND',
      message ??
        `no layer named '${layer}'. ` +
          (candidates.length
            ? `Closest names: ${candidates.slice(0, 10).map((c) => `'${c}'`).join(', ')}` +
              (candidates.length > 10 ? ` (and ${candidates.length - 10} more)` : '')
            : 'The model has no named layers.'),
    );
    this.layer = layer;
    this.candidates = candidates;
  }
}
