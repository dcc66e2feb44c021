import { abs, add, div, exp, mul } from '../../tensor/ops/elementwise.js';
import { elu, hardSigmoid, relu, relu6, selu, sigmoid, softplus, tanh } from '../../tensor/ops/activations.js';
import { logSoftmax, softmax } from '../../tensor/ops/softmax.js';
import type { Tensor } from '../../tensor/tensor.js';
import type { Layout } from '../layout.js';

/**
 * Keras's activation functions by name (the `activation` of Activation,
 * Conv2D, Dense…), as TensorFlow.js computes them. Names are matched
 * without case or underscores, so Keras's 'hard_sigmoid' and older tfjs
 * saves' 'hardSigmoid' are one.
 */

export type FinalActivation = 'softmax' | 'logSoftmax';

type Activation = (x: Tensor, layout: Layout) => Tensor;

/** Over the last axis of the model's tensor (axis 1 of a stored 4-D channels_last tensor). */
const lastAxis = (x: Tensor, layout: Layout): number => layout.axis(-1, x.ndim);

const ACTIVATIONS: Record<string, Activation> = {
  linear: (x) => x,
  relu: (x) => relu(x),
  relu6: (x) => relu6(x),
  sigmoid: (x) => sigmoid(x),
  tanh: (x) => tanh(x),
  softmax: (x, layout) => softmax(x, lastAxis(x, layout)),
  logsoftmax: (x, layout) => logSoftmax(x, lastAxis(x, layout)),
  swish: (x) => mul(x, sigmoid(x)),
  silu: (x) => mul(x, sigmoid(x)),
  // Keras 2 and TensorFlow.js: clip(0.2 x + 0.5, 0, 1).
  hardsigmoid: (x) => hardSigmoid(x, { alpha: 0.2, beta: 0.5 }),
  elu: (x) => elu(x, 1),
  selu: (x) => selu(x),
  softplus: (x) => softplus(x),
  softsign: (x) => div(x, add(abs(x), 1)),
  mish: (x) => mul(x, tanh(softplus(x))),
  exponential: (x) => exp(x),
};

function key(name: string): string {
  return name.toLowerCase().replace(/_/g, '');
}

/** The activation names tinycam runs, as Keras spells them. */
export const SUPPORTED_ACTIVATIONS: readonly string[] = [
  'linear', 'relu', 'relu6', 'sigmoid', 'tanh', 'softmax', 'log_softmax', 'swish', 'silu',
  'hard_sigmoid', 'elu', 'selu', 'softplus', 'softsign', 'mish', 'exponential',
];

export function isSupportedActivation(name: string): boolean {
  return Object.hasOwn(ACTIVATIONS, key(name));
}

/** Which final activation (if any) the name is: the CAM methods explain the tensor before it. */
export function finalActivationOf(name: string): FinalActivation | null {
  const k = key(name);
  return k === 'softmax' ? 'softmax' : k === 'logsoftmax' ? 'logSoftmax' : null;
}

/** Apply the named activation to a stored tensor. */
export function activate(name: string, x: Tensor, layout: Layout): Tensor {
  const f = ACTIVATIONS[key(name)];
  // Names were checked at load (isSupportedActivation).
  return f ? f(x, layout) : x;
}
