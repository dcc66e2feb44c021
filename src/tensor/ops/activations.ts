import { Tensor } from '../tensor.js';
import { notImplemented } from '../todo.js';

/** How relu's backward treats the gradient: PyTorch's rule, guided backprop, or deconvnet. */
export type ReluBackwardRule = 'standard' | 'guided' | 'deconvnet';

/**
 * max(x, 0). Gradient at 0 is 0 (PyTorch). `backward: 'guided'` passes
 * grad * (x > 0) * (grad > 0) (Springenberg et al.); `'deconvnet'` passes
 * relu(grad) regardless of x (Zeiler & Fergus).
 */
export function relu(x: Tensor, options: { backward?: ReluBackwardRule } = {}): Tensor { return notImplemented('relu', x, options); }
/** min(max(x, 0), 6); gradient only for 0 < x < 6. */
export function relu6(x: Tensor): Tensor { return notImplemented('relu6', x); }
/** Clamp to [min, max] (either may be omitted); gradient where min < x < max... PyTorch: min <= x <= max. */
export function clip(x: Tensor, min?: number, max?: number): Tensor { return notImplemented('clip', x, min, max); }
export function leakyRelu(x: Tensor, negativeSlope = 0.01): Tensor { return notImplemented('leakyRelu', x, negativeSlope); }
/** PReLU: `weight` has 1 or C entries (channel axis 1). */
export function prelu(x: Tensor, weight: Tensor): Tensor { return notImplemented('prelu', x, weight); }
export function elu(x: Tensor, alpha = 1): Tensor { return notImplemented('elu', x, alpha); }
export function selu(x: Tensor): Tensor { return notImplemented('selu', x); }
export function sigmoid(x: Tensor): Tensor { return notImplemented('sigmoid', x); }
export function tanh(x: Tensor): Tensor { return notImplemented('tanh', x); }
/** log(1 + exp(beta x)) / beta, linear above `threshold` (PyTorch). */
export function softplus(x: Tensor, options: { beta?: number; threshold?: number } = {}): Tensor { return notImplemented('softplus', x, options); }
/** max(0, min(1, alpha x + beta)); PyTorch's defaults alpha = 1/6, beta = 0.5 (ONNX's are 0.2, 0.5). */
export function hardSigmoid(x: Tensor, options: { alpha?: number; beta?: number } = {}): Tensor { return notImplemented('hardSigmoid', x, options); }
/** x * relu6(x + 3) / 6. */
export function hardSwish(x: Tensor): Tensor { return notImplemented('hardSwish', x); }
