import { noGrad } from '../tensor/autograd.js';
import { withForwardHooks } from '../layers/hooks.js';
import type { Module } from '../layers/module.js';
import type { Tensor } from '../tensor/tensor.js';
import { NonFiniteError } from './errors.js';

/** Whether every value of `t` is finite. */
export function checkFinite(t: Tensor): boolean {
  const d = t.data;
  for (let i = 0; i < d.length; i++) if (!Number.isFinite(d[i]!)) return false;
  return true;
}

function firstNonFinite(t: Tensor): number {
  const d = t.data;
  for (let i = 0; i < d.length; i++) if (!Number.isFinite(d[i]!)) return i;
  return -1;
}

const what = (value: number): string => (Number.isNaN(value) ? 'NaN' : value > 0 ? 'Infinity' : '-Infinity');

/**
 * The model's output holds NaN or infinity: find where the first one came
 * from and throw NonFiniteError saying so. In order: the input, a weight or
 * buffer (by its state-dict name), the first module whose output has one
 * (one more forward pass, hooked, without gradients).
 */
export function locateNonFinite(model: Module, input: Tensor, fn: string): never {
  const at = firstNonFinite(input);
  if (at >= 0) {
    throw new NonFiniteError(`${fn}: the input holds ${what(input.data[at]!)} (first at flat index ${at}); explanations need finite inputs`, 'input');
  }
  for (const [name, tensor] of Object.entries(model.stateDict())) {
    const i = firstNonFinite(tensor);
    if (i >= 0) {
      throw new NonFiniteError(`${fn}: the model's weight '${name}' holds ${what(tensor.data[i]!)} (first at flat index ${i}); load finite weights`, name);
    }
  }
  let culprit: { name: string; value: number } | undefined;
  const watch = (name: string, _m: Module, _inputs: readonly Tensor[], output: Tensor): void => {
    const i = culprit ? -1 : firstNonFinite(output);
    if (i >= 0) culprit = { name: name || '(the model itself)', value: output.data[i]! };
  };
  withForwardHooks(model.namedModules(), watch, () => noGrad(() => model.forward(input)));
  const where = culprit ? `layer '${culprit.name}' is the first to output ${what(culprit.value)}` : 'no single layer could be named';
  throw new NonFiniteError(`${fn}: the model's output holds non-finite values from finite inputs and weights: ${where} (an overflow or an undefined operation such as log of a negative number)`, culprit?.name ?? '');
}
