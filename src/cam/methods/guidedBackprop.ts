import type { Tensor } from '../../tensor/tensor.js';
import type { Module } from '../../layers/module.js';
import { inputGradients } from '../inputGradient.js';
import type { GradientOptions, GradientResult } from '../types.js';

/**
 * Springenberg et al. 2015: the input gradient with every ReLU module passing
 * back grad * (x > 0) * (grad > 0). Batched. Only modules of type ReLU
 * change (pytorch-grad-cam's GuidedBackpropReLUModel): ReLU6 and functional
 * relu keep their ordinary rule, so a ReLU6-only network gives `saliency`.
 */
export function guidedBackprop(model: Module, input: Tensor, options: GradientOptions = {}): GradientResult {
  return inputGradients(model, input, options, 'guidedBackprop', 'guided');
}
