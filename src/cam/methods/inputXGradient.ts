import { Tensor } from '../../tensor/tensor.js';
import type { Module } from '../../layers/module.js';
import { inputGradients } from '../inputGradient.js';
import type { GradientOptions, GradientResult } from '../types.js';

/** Shrikumar et al. 2016: input * d score / d input, elementwise. */
export function inputXGradient(model: Module, input: Tensor, options: GradientOptions = {}): GradientResult {
  const result = inputGradients(model, input, options, 'inputXGradient');
  const g = result.gradients.data;
  const data = new Float32Array(g.length);
  for (let i = 0; i < data.length; i++) data[i] = input.data[i]! * g[i]!;
  return { ...result, gradients: new Tensor(data, input.shape) };
}
