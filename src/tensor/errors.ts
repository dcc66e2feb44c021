/**
 * Typed errors. Every error tinycam throws on bad input is a `TinycamError`
 * with a stable `code`, and its message says what was wrong and what would be
 * accepted. Callers can branch on `instanceof` or on `code`.
 */
export class TinycamError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = new.target.name;
    this.code = code;
  }
}

/** Tensor shapes that an op cannot work with (names the op and the shapes). */
export class ShapeError extends TinycamError {
  constructor(message: string) {
    super('E_SHAPE', message);
  }
}

/** An argument outside what an op or function accepts (not a shape problem). */
export class ArgumentError extends TinycamError {
  constructor(message: string) {
    super('E_ARGUMENT', message);
  }
}

/** Autodiff misuse: asking for a gradient that cannot exist. */
export class GradError extends TinycamError {
  constructor(message: string) {
    super('E_GRAD', message);
  }
}

/**
 * A tensor or a run larger than the limits allow (`setTensorLimits`): too
 * many elements for one tensor, or more work than the budget of one run.
 */
export class LimitError extends TinycamError {
  constructor(message: string) {
    super('E_LIMIT', message);
  }
}

/** A safetensors file that is truncated, malformed or holds an unsupported dtype. */
export class SafetensorsError extends TinycamError {
  constructor(message: string) {
    super('E_SAFETENSORS', message);
  }
}

/** A state dict that does not fit a module (missing, unexpected or misshaped keys). */
export class StateDictError extends TinycamError {
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
