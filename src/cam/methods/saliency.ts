import { Tensor } from '../../tensor/tensor.js';
import type { Module } from '../../layers/module.js';
import { inputGradients } from '../inputGradient.js';
import type { GradientOptions, GradientResult } from '../types.js';

export interface SaliencyOptions extends GradientOptions {
  /** Return |gradient| (captum's Saliency default); default false: the signed gradient. */
  abs?: boolean;
}

/** Simonyan et al. 2014: the vanilla gradient of the score with respect to the input, [N,C,H,W]. */
export function saliency(model: Module, input: Tensor, options: SaliencyOptions = {}): GradientResult {
  const result = inputGradients(model, input, options, 'saliency');
  if (!options.abs) return result;
  const data = result.gradients.data.slice();
  for (let i = 0; i < data.length; i++) data[i] = Math.abs(data[i]!);
  return { ...result, gradients: new Tensor(data, result.gradients.shape) };
}
