import { TinycamError } from '../tensor/errors.js';

/**
 * A scoring function (or model) whose answer cannot be used: the wrong
 * number of values for the batch it was given, NaN or infinite scores, or
 * something that is neither a Tensor nor a Float32Array.
 */
export class ScoreError extends TinycamError {
  static override readonly typeName: string = 'ScoreError';
  constructor(message: string) {
    super('E_SCORE', message);
  }
}
