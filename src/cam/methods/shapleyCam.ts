import { enableGrad, grad, hessianVectorProduct } from '../../tensor/autograd.js';
import { ArgumentError, GradError } from '../../tensor/errors.js';
import { mul, sub } from '../../tensor/ops/elementwise.js';
import { mean } from '../../tensor/ops/reduce.js';
import { Tensor } from '../../tensor/tensor.js';
import { withForwardHooks } from '../../layers/hooks.js';
import type { Module } from '../../layers/module.js';
import type { Capture, LayerCapture } from '../capture.js';
import { explainWith, type LayerMapResult } from '../explain.js';
import { runForExplanation } from '../output.js';
import { spatialAxes, weightedSum } from '../spatial.js';
import { rowIndices, scoreAndSeed } from '../targets.js';
import type { LayerResult, MapOptions, MapResult, OutputOptions, ReshapeTransform } from '../types.js';

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

/** One rerun from the layer: the leaf that replaced its output, and what the target scores. */
interface Rerun {
  leaf: Tensor;
  scores: Tensor;
  seed: Tensor;
  calls: number;
}

/**
 * Rerun the model with the layer's output replaced by a leaf that requires
 * grad, at the call the capture took (the last one of a shared module:
 * `call`, counted by a first rerun), scaled by `factor`. The leaf is the
 * layer's output as the module emits it (before any `reshape`).
 */
function rerunFromLayer(layer: LayerCapture, capture: Capture, run: OutputOptions, factor: number, call?: number): Rerun {
  let leaf: Tensor | undefined;
  let calls = 0;
  const replace = (_name: string, _m: Module, _inputs: readonly Tensor[], output: Tensor): Tensor => {
    const scaled = call === undefined || calls === call;
    calls++;
    const next = new Tensor(scaled && factor !== 1 ? Float32Array.from(output.data, (v) => v * factor) : output.data, output.shape, true);
    if (scaled) leaf = next;
    return next;
  };
  return withForwardHooks([[layer.name, layer.module]], replace, () =>
    enableGrad(() => {
      const out = runForExplanation(capture.model, capture.input, run, 'shapleyCam');
      const { scores, seed } = scoreAndSeed(capture.target, capture.classes, out.explained, 'shapleyCam', rowIndices(capture.input.shape[0]!), out.outputs);
      return { leaf: leaf!, scores, seed, calls };
    }),
  );
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
 * where the step moves a ReLU or max-pool input across its kink. With a
 * `reshape`, H is taken along the layer's output as emitted and the product
 * reshaped, as pytorch-grad-cam does.
 */
function hessianVectorProductAt(layer: LayerCapture, capture: Capture, run: OutputOptions, reshape: ReshapeTransform | undefined, step: number): { hvp: Tensor; method: HvpMethod } {
  const first = rerunFromLayer(layer, capture, run, 1);
  const view = (t: Tensor): Tensor => (reshape ? reshape(t) : t).detach();
  try {
    return { hvp: view(hessianVectorProduct(first.scores, first.leaf, first.leaf.detach(), { gradOutput: first.seed })), method: 'exact' };
  } catch (e) {
    if (!(e instanceof GradError)) throw e;
  }
  const gradientAt = (factor: number): Tensor => {
    const at = rerunFromLayer(layer, capture, run, factor, first.calls - 1);
    return grad(at.scores, [at.leaf], { gradOutput: at.seed })[0]!;
  };
  return { hvp: view(mul(sub(gradientAt(1 + step), gradientAt(1 - step)), 1 / (2 * step))), method: 'central difference' };
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
function shapleyCamLayer(options: ShapleyCamOptions, step: number, out: Map<string, { hvp: Tensor; method: HvpMethod }>) {
  return (layer: LayerCapture, capture: Capture): LayerMapResult => {
    const run = { output: capture.outputName, explainProbability: options.explainProbability };
    const product = hessianVectorProductAt(layer, capture, run, options.reshape, step);
    const weights = mean(sub(layer.gradient!, mul(product.hvp, 0.5)), spatialAxes(layer.activation));
    out.set(layer.name, product);
    return { raw: weightedSum(layer.activation, weights), weights };
  };
}

/** ShapleyCAM: Grad-CAM with a second-order correction of the gradient (a Shapley-value reading of CAM). */
export function shapleyCam(model: Module, input: Tensor, options: ShapleyCamOptions = {}): MapResult & { layers: ShapleyCamLayerResult[] } {
  const step = options.hvpStep ?? 1e-3;
  if (!(step > 0 && step < 1)) throw new ArgumentError(`shapleyCam: hvpStep must be a number between 0 and 1 (default 1e-3); got ${String(step)}`);
  const products = new Map<string, { hvp: Tensor; method: HvpMethod }>();
  const result = explainWith(model, input, options, { name: 'shapleyCam', gradients: true, layerMethod: shapleyCamLayer(options, step, products) });
  return {
    ...result,
    layers: result.layers.map((l) => ({ ...l, hvp: products.get(l.name)!.hvp, hvpMethod: products.get(l.name)!.method })),
  };
}
