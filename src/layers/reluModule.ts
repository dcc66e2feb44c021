import type { ReluBackwardRule } from '../tensor/ops/activations.js';
import type { Module } from './module.js';

// Its own file, with no class in it: the CAM code checks the contract, and a
// bundle that never builds a ReLU layer need not carry the layer classes.

/**
 * The brand of a ReLU module: a module whose forward is
 * `relu(x, { backwardRule: this.backwardRule })`. A registered symbol, so
 * that modules from any entry point or bundle of tinycam carry the same one.
 */
export const RELU_MODULE: unique symbol = Symbol.for('tinycam.ReluModule');

/**
 * The contract guided backprop and deconvnet rely on (pytorch-grad-cam's
 * `isinstance(m, nn.ReLU)`): the layers API's ReLU, an ONNX Relu node
 * (tinycam/onnx's OnnxReLU) and TensorFlow.js's Keras ReLU layer implement
 * it. ReLU6, LeakyReLU, Keras's Activation('relu'), fused activations and
 * functional relus do not, so they keep PyTorch's rule, as in
 * pytorch-grad-cam. A module named 'ReLU' without the brand is not one.
 */
export interface ReluModule {
  readonly [RELU_MODULE]: true;
  /** How the module's backward treats the gradient; guided backprop and deconvnet set it for one call. */
  backwardRule: ReluBackwardRule;
}

/** Whether `m` implements the ReLU module contract (it carries the brand, own or inherited). */
export function isReluModule(m: Module): m is Module & ReluModule {
  return (m as Partial<ReluModule>)[RELU_MODULE] === true;
}
