import type { Tensor } from '../../tensor/tensor.js';
import type { Module } from '../../layers/module.js';
import { inputGradients } from '../inputGradient.js';
import type { GradientOptions, GradientResult } from '../types.js';

/**
 * Zeiler & Fergus 2014 as captum's Deconvolution: every ReLU module passes
 * back relu(grad), whatever its input was. Batched; ReLU modules only.
 */
export function deconvnet(model: Module, input: Tensor, options: GradientOptions = {}): GradientResult {
  return inputGradients(model, input, options, 'deconvnet', 'deconvnet');
}
