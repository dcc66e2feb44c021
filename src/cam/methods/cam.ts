import { enableGrad, grad, noGrad } from '../../tensor/autograd.js';
import { ArgumentError, ShapeError } from '../../tensor/errors.js';
import { Tensor, sameShape } from '../../tensor/tensor.js';
import { withForwardHooks } from '../../layers/hooks.js';
import type { Module } from '../../layers/module.js';
import type { Capture, LayerCapture } from '../capture.js';
import { positions, weightedSum } from '../spatial.js';
import { TargetError } from '../errors.js';
import { explainWith, type LayerMapResult } from '../explain.js';
import { resolveLayers } from '../layers.js';
import type { LayerSpec, MapOptions, MapResult } from '../types.js';

export interface CamOptions extends MapOptions {
  /**
   * The classifier that follows global average pooling (module path or
   * Module), usually the final Linear. By default it is found: the first
   * module whose input is the spatial mean of the layer's output and whose
   * output is the logits (one extra forward pass without gradients).
   */
  fc?: LayerSpec;
}

/** Whether x (any shape with N*C values) is the spatial mean of A [N,C,h,w] (to float32 rounding). */
function isGlobalAverageOf(x: Tensor, a: Tensor): boolean {
  const [n, c] = a.shape as [number, number];
  const hw = positions(a);
  if (x.size !== n * c || x.shape[0] !== n) return false;
  let worst = 0;
  let scale = 0;
  for (let nc = 0; nc < n * c; nc++) {
    let s = 0;
    for (let p = nc * hw; p < (nc + 1) * hw; p++) s += a.data[p]!;
    worst = Math.max(worst, Math.abs(s / hw - x.data[nc]!));
    scale = Math.max(scale, Math.abs(x.data[nc]!));
  }
  return worst <= 1e-4 * scale + 1e-6;
}

export interface ClassifierCall {
  name: string;
  module: Module;
  inputs: readonly Tensor[];
  output: Tensor;
}

/**
 * Every module call of one forward pass without gradients (in the order
 * calls finish), with its inputs and output; only modules in `among`.
 */
function recordCalls(capture: Capture, among: readonly [string, Module][]): ClassifierCall[] {
  const calls: ClassifierCall[] = [];
  const watch = (name: string, module: Module, inputs: readonly Tensor[], output: Tensor): void => void calls.push({ name, module, inputs, output });
  withForwardHooks(among, watch, () => noGrad(() => capture.model.forward(capture.input)));
  return calls;
}

/**
 * The classifier that follows global average pooling: a module whose first
 * input is the spatial mean of the layer's output and whose output has the
 * logits' shape (a Linear, an ONNX Gemm, or a container of Flatten + Linear).
 * The first such call is taken, or the named module's call.
 */
export function findClassifier(capture: Capture, layer: LayerCapture, fc: LayerSpec | undefined): ClassifierCall {
  const candidates =
    fc === undefined
      ? capture.model.namedModules().filter(([name]) => name !== '')
      : resolveLayers(capture.model, fc, 'cam').map((l): [string, Module] => [l.name, l.module]);
  const calls = recordCalls(capture, candidates);
  // Found by itself, the classifier must return the logits themselves (so a
  // Flatten, whose output is the pooled input, never passes for one); named,
  // it only has to return [N, K].
  const returnsLogits = (out: Tensor): boolean =>
    sameShape(out.shape, capture.logits.shape) && out.data.every((v, i) => Math.abs(v - capture.logits.data[i]!) <= 1e-5 * (1 + Math.abs(v)));
  const fits = (call: ClassifierCall): boolean =>
    call.inputs.length > 0 &&
    isGlobalAverageOf(call.inputs[0]!, layer.activation) &&
    (fc === undefined ? returnsLogits(call.output) : call.output.ndim === 2 && call.output.shape[0] === capture.logits.shape[0]);
  const found = calls.find(fits);
  if (!found) {
    throw new ArgumentError(
      fc === undefined
        ? `cam: no module takes the global average of layer '${layer.name}'s output and returns the logits, so CAM does not apply there. ` +
            `CAM needs a model that ends in global average pooling and a Linear layer, explained at the pooling's input; ` +
            `name the classifier with the 'fc' option, or use gradCam (which equals CAM on such models).`
        : `cam: the 'fc' module '${candidates[0]![0]}' does not take the global average of layer '${layer.name}'s output and return the logits [${capture.logits.shape.join(', ')}]`,
    );
  }
  return found;
}

/**
 * W[t_i, :] for each image: the classifier's derivative with respect to its
 * pooled input, by a backward pass through that module alone. For a Linear
 * this is its weight row; reading it this way works for any affine
 * classifier (an ONNX Gemm, MatMul + Add) without knowing its parameters.
 */
function classifierRows(call: ClassifierCall, classes: number[], channels: number): Tensor {
  const pooled = call.inputs[0]!;
  const leaf = pooled.requireGrad();
  const out = enableGrad(() => call.module.forward(leaf, ...call.inputs.slice(1)));
  const [n, k] = out.shape as [number, number];
  for (const t of classes) {
    if (t >= k) throw new TargetError(`cam: target ${t} is beyond the ${k} outputs of the classifier '${call.name}'`);
  }
  const seed = new Float32Array(n * k);
  classes.forEach((t, i) => (seed[i * k + t] = 1));
  const [rows] = grad(out, [leaf], { gradOutput: new Tensor(seed, out.shape) });
  if (rows!.size !== n * channels) {
    throw new ShapeError(`cam: the classifier '${call.name}' gave ${rows!.size} values for ${n} image(s) of ${channels} channels`);
  }
  return new Tensor(rows!.data, [n, channels]);
}

/**
 * Zhou et al. 2016: raw = sum_c W[t, c] A_c, with W the weight of the Linear
 * that follows global average pooling (no bias), t the target class. Then
 * logits[t] = mean_hw(raw) + bias[t]. Weights are the row W[t, :].
 */
function camLayer(fc: LayerSpec | undefined) {
  return (layer: LayerCapture, capture: Capture): LayerMapResult => {
    if (!capture.classes) {
      throw new TargetError(`cam: a target function cannot be used with CAM, which needs a class index (a row of the Linear weight); pass class indices`);
    }
    const classifier = findClassifier(capture, layer, fc);
    const weights = classifierRows(classifier, capture.classes, layer.activation.shape[1]!);
    return { raw: weightedSum(layer.activation, weights), weights };
  };
}

/** Class Activation Mapping (Zhou et al. 2016) for GAP+FC models. Uses no gradients. */
export function cam(model: Module, input: Tensor, options: CamOptions = {}): MapResult {
  return explainWith(model, input, options, { name: 'cam', gradients: false, layerMethod: camLayer(options.fc) });
}
