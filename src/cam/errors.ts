import { TinycamError } from '../tensor/errors.js';

/**
 * A target that does not fit the model's output: a class index out of range
 * or not an integer, a list whose length differs from the batch, or a target
 * function that returned the wrong shape.
 */
export class TargetError extends TinycamError {
  static override readonly typeName: string = 'TargetError';
  constructor(message: string) {
    super('E_TARGET', message);
  }
}

/**
 * NaN or infinity where an explanation needs numbers: `where` names the
 * first place it appeared ('input', a weight's state-dict name, or a layer).
 */
export class NonFiniteError extends TinycamError {
  static override readonly typeName: string = 'NonFiniteError';
  readonly where: string;
  constructor(message: string, where: string) {
    super('E_NON_FINITE', message);
    this.where = where;
  }
}
