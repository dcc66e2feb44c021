import { enableGrad, grad, hessianVectorProduct } from '../../tensor/autograd.js';
import { ArgumentError, GradError } from '../../tensor/errors.js';
import { mul, sub } from '../../tensor/ops/elementwise.js';
import { mean } from '../../tensor/ops/reduce.js';
import { Tensor } from '../../tensor/tensor.js';
import type { Module } from '../../layers/module.js';
import type { Capture, LayerCapture } from '../capture.js';
import { dims, weightedSum, weightsTensor } from '../channels.js';
import { explainWith, type LayerMapResult } from '../explain.js';
import { scoreAndSeed } from '../targets.js';
import type { LayerResult, MapOptions, MapResult } from '../types.js';

/** How the Hessian-vector product was computed (see shapleyCam). */
export type HvpMethod = 'exact' | 'central difference';

export interface ShapleyCamOptions extends MapOptions {
  /**
   * Relative step h of the central difference used when the network after
   * the layer is not piecewise linear: the layer's output is scaled by 1 + h
   * and 1 - h (default 1e-3).
   */
  hvpStep?: number;
}

/** ShapleyCAM's results also carry each layer's Hessian-vector product H A [N, C, h, w] and how it was computed. */
export interface ShapleyCamLayerResult extends LayerResult {
  hvp: Tensor;
  hvpMethod: HvpMethod;
}

/**
 * Rerun the model with the layer's captured call (the call whose output
 * equals A bit for bit; the capture takes the last call of a shared module)
 * replaced by `factor * A`, a leaf that requires grad. Returns the leaf and
 * the model's output with its graph.
 */
function rerunFromLayer(layer: LayerCapture, capture: Capture, factor: number): { leaf: Tensor; logits: Tensor } {
  const a = layer.activation;
  let leaf: Tensor | undefined;
  const handle = layer.module.registerForwardHook((_m, _inputs, output) => {
    if (leaf || output.size !== a.size || !output.data.every((v, i) => v === a.data[i])) return undefined;
    leaf = new Tensor(factor === 1 ? output.data.slice() : Float32Array.from(output.data, (v) => v * factor), output.shape, true);
    return leaf;
  });
  try {
    const logits = enableGrad(() => capture.model.forward(capture.input));
    if (!leaf) throw new ArgumentError(`shapleyCam: layer '${layer.name}' gave a different output on a second forward pass; the model must be deterministic in eval mode`);
    return { leaf, logits };
  } finally {
    handle.remove();
  }
}

/**
 * hvp = H A, H the Hessian of the score with respect to A: exact, forward
 * over reverse (hessianVectorProduct), when every op between the layer and
 * the score has second derivatives in tinycam (tangent and curvature rules:
 * convolutions and Linear in their input, BatchNorm in eval mode, ReLU,
 * max-pool, pooling, shape ops, softmax, log-softmax, cross-entropy, exp,
 * log, sigmoid, tanh, products). Otherwise (GELU through erf, LayerNorm's
 * rsqrt, ...) the central difference of dA along A,
 * (dA(A (1 + h)) - dA(A (1 - h))) / (2 h), which is O(h^2) off and wrong
 * where the step moves a ReLU or max-pool input across its kink.
 */
function hessianVectorProductAt(layer: LayerCapture, capture: Capture, step: number): { hvp: Tensor; method: HvpMethod } {
  const scoreOf = (factor: number) => {
    const { leaf, logits } = rerunFromLayer(layer, capture, factor);
    return { leaf, ...enableGrad(() => scoreAndSeed(capture.target, capture.classes, logits, 'shapleyCam')) };
  };
  const { leaf, scores, seed } = scoreOf(1);
  try {
    return { hvp: hessianVectorProduct(scores, leaf, layer.activation, { gradOutput: seed }), method: 'exact' };
  } catch (e) {
    if (!(e instanceof GradError)) throw e;
  }
  const gradientAt = (factor: number): Tensor => {
    const at = scoreOf(factor);
    return grad(at.scores, [at.leaf], { gradOutput: at.seed })[0]!;
  };
  return { hvp: mul(sub(gradientAt(1 + step), gradientAt(1 - step)), 1 / (2 * step)), method: 'central difference' };
}

/**
 * Cai et al. 2025, ShapleyCAM, as pytorch-grad-cam computes it
 * (pytorch_grad_cam/shapley_cam.py at 084273b):
 *   w_c = mean_hw(dA_c - 0.5 hvp_c),  raw = sum_c w_c A_c,
 * where hvp = H A is the Hessian of the score with respect to A times A
 * (pytorch-grad-cam: torch.autograd.grad(dA, A, grad_outputs=A) on a graph
 * built with create_graph=True, reverse over reverse); here forward over
 * reverse, exact where the ops have second derivatives, else a central
 * difference (see hessianVectorProductAt; `hvpMethod` in each layer result
 * says which). With a class-index target on a piecewise
 * linear head hvp is exactly 0 and ShapleyCAM equals Grad-CAM, as in PyTorch;
 * softmax and ReST targets make it differ.
 */
function shapleyCamLayer(step: number, out: Map<string, { hvp: Tensor; method: HvpMethod }>) {
  return (layer: LayerCapture, capture: Capture): LayerMapResult => {
    const product = hessianVectorProductAt(layer, capture, step);
    const { n, c } = dims(layer.activation);
    const w = mean(sub(layer.gradient!, mul(product.hvp, 0.5)), [2, 3]);
    out.set(layer.name, product);
    const weights = Float64Array.from(w.data);
    return { raw: weightedSum(layer.activation, weights), weights: weightsTensor(weights, n, c) };
  };
}

/** ShapleyCAM: Grad-CAM with a second-order correction of the gradient (a Shapley-value reading of CAM). */
export function shapleyCam(model: Module, input: Tensor, options: ShapleyCamOptions = {}): MapResult & { layers: ShapleyCamLayerResult[] } {
  const step = options.hvpStep ?? 1e-3;
  if (!(step > 0 && step < 1)) throw new ArgumentError(`shapleyCam: hvpStep must be a number between 0 and 1 (default 1e-3); got ${String(step)}`);
  const products = new Map<string, { hvp: Tensor; method: HvpMethod }>();
  const result = explainWith(model, input, options, { name: 'shapleyCam', gradients: true, layerMethod: shapleyCamLayer(step, products) });
  return {
    ...result,
    layers: result.layers.map((l) => ({ ...l, hvp: products.get(l.name)!.hvp, hvpMethod: products.get(l.name)!.method })),
  };
}
