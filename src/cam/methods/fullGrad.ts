import { enableGrad, grad } from '../../tensor/autograd.js';
import { abs, mul } from '../../tensor/ops/elementwise.js';
import { reshape } from '../../tensor/ops/shape.js';
import { ShapeError } from '../../tensor/errors.js';
import { Tensor, shapeString } from '../../tensor/tensor.js';
import { BatchNorm2d } from '../../layers/normalization.js';
import { Conv2d } from '../../layers/conv.js';
import { withForwardHooks } from '../../layers/hooks.js';
import type { Module } from '../../layers/module.js';
import { checkInput, inEvalMode } from '../capture.js';
import { normalizeImages, resizeMaps } from '../postprocess.js';
import { runForExplanation } from '../output.js';
import { resolveClassTargets, rowIndices, scoreAndSeed } from '../targets.js';
import type { GradientOptions, LayerResult, MapResult } from '../types.js';

/** FullGrad explains the whole network (`layer` does not apply): the target and output options only. */
export type FullGradOptions = GradientOptions;

/** FullGrad's result: `terms` [N, C + L, H, W] holds the C input-channel terms, then one term per bias layer call. */
export interface FullGradResult extends MapResult {
  terms: Tensor;
}

/**
 * The bias FullGrad uses for a module, or null when the module is not one
 * FullGrad takes (pytorch-grad-cam: every nn.Conv2d and nn.BatchNorm2d whose
 * bias is not None): a convolution's bias; for BatchNorm (evaluation mode)
 * its bias after folding, beta - running_mean * gamma / sqrt(running_var + eps).
 * ONNX Conv and BatchNormalization nodes count too (their bias and
 * statistics are the node's inputs, seen by the forward hook).
 */
function effectiveBias(module: Module, inputs: readonly Tensor[], output: Tensor): Float32Array | null {
  if (output.ndim !== 4) return null;
  if (module instanceof Conv2d) return module.bias ? module.bias.data : null;
  if (module instanceof BatchNorm2d) {
    if (!module.bias || !module.running_mean || !module.running_var) return null;
    return foldedBatchNormBias(module.bias.data, module.weight?.data ?? null, module.running_mean.data, module.running_var.data, module.eps);
  }
  // ONNX nodes: Conv(x, W, B) and BatchNormalization(x, scale, B, mean, var).
  if (module.typeName === 'Conv') return inputs[2]?.data ?? null;
  if (module.typeName === 'BatchNormalization' && inputs.length >= 5) {
    const attrs = (module as unknown as { attrs?: { float(name: string, fallback: number): number } }).attrs;
    const eps = attrs ? attrs.float('epsilon', 1e-5) : 1e-5;
    return foldedBatchNormBias(inputs[2]!.data, inputs[1]!.data, inputs[3]!.data, inputs[4]!.data, eps);
  }
  return null;
}

function foldedBatchNormBias(beta: Float32Array, gamma: Float32Array | null, mean: Float32Array, variance: Float32Array, eps: number): Float32Array {
  return Float32Array.from(beta, (b, c) => b - (mean[c]! * (gamma ? gamma[c]! : 1)) / Math.sqrt(variance[c]! + eps));
}

interface BiasCall {
  name: string;
  bias: Float32Array;
  output: Tensor;
}

/**
 * Srinivas & Fleuret 2019, FullGrad, as pytorch-grad-cam computes it
 * (pytorch_grad_cam/fullgrad_cam.py at 084273b). Its terms:
 *   - the input term |x * d score / dx|, each channel of each image min-max
 *     scaled (x - min) / (max(x - min) + 1e-7);
 *   - for every call of a bias layer (see effectiveBias, all of them, in the
 *     order they run; `layer` does not apply): |b_c * g_c| with g = d score /
 *     d layer output, each channel min-max scaled, resized to the input with
 *     half-pixel bilinear and summed over channels.
 * map = the sum of all terms (no ReLU), then min-max scaled. Each layer
 * result has `raw` = its term at the layer's resolution (resizing is linear,
 * so the resized sum is the sum of resized channels); `map` is the same.
 */
export function fullGrad(model: Module, input: Tensor, options: FullGradOptions = {}): FullGradResult {
  const fn = 'fullGrad';
  checkInput(input, fn);
  if (input.ndim !== 4) throw new ShapeError(`${fn}: input has shape ${shapeString(input.shape)}; FullGrad works on images [N, C, H, W] (its layers are 2-D convolutions and BatchNorms)`);
  const [n, channels, height, width] = input.shape as [number, number, number, number];
  const size = height * width;
  return inEvalMode(model, () => {
    const calls: BiasCall[] = [];
    const watch = (name: string, m: Module, inputs: readonly Tensor[], output: Tensor): void => {
      const bias = effectiveBias(m, inputs, output);
      if (bias && bias.length === output.shape[1]) calls.push({ name, bias, output });
    };
    const x = input.requireGrad();
    const { run, gradients, classes } = withForwardHooks(model.namedModules(), watch, () =>
      enableGrad(() => {
        const out = runForExplanation(model, x, options, fn);
        const targets = resolveClassTargets(options.target, out.explained, n, fn);
        const { scores, seed } = scoreAndSeed(options.target, targets, out.explained, fn, rowIndices(n), out.outputs);
        return { run: out, classes: targets, gradients: grad(scores, [x, ...calls.map((c) => c.output)], { gradOutput: seed }) };
      }),
    );
    const termCount = channels + calls.length;
    const terms = new Float32Array(n * termCount * size);
    // input term: |x * dx| per image and channel
    const inputTerm = abs(mul(input, gradients[0]!)).data.slice();
    normalizeImages(inputTerm, n * channels, size, 'minmax');
    for (let i = 0; i < n; i++) terms.set(inputTerm.subarray(i * channels * size, (i + 1) * channels * size), i * termCount * size);
    const layers: LayerResult[] = calls.map((call, l) => {
      const g = gradients[l + 1]!;
      const [, c, h, w] = g.shape as [number, number, number, number];
      const perChannel = abs(mul(g, reshape(new Tensor(call.bias, [call.bias.length]), [1, c, 1, 1]))).data.slice();
      normalizeImages(perChannel, n * c, h * w, 'minmax');
      const raw = new Float32Array(n * h * w);
      for (let i = 0; i < n; i++) {
        for (let k = 0; k < c; k++) {
          const base = (i * c + k) * h * w;
          for (let p = 0; p < h * w; p++) raw[i * h * w + p] = raw[i * h * w + p]! + perChannel[base + p]!;
        }
      }
      const rawTensor = new Tensor(raw, [n, h, w]);
      const resized = resizeMaps(rawTensor, [height, width]);
      for (let i = 0; i < n; i++) terms.set(resized.data.subarray(i * size, (i + 1) * size), (i * termCount + channels + l) * size);
      return { name: call.name, raw: rawTensor, weights: null, map: rawTensor };
    });
    const map = new Float32Array(n * size);
    for (let i = 0; i < n; i++) {
      for (let t = 0; t < termCount; t++) {
        const base = (i * termCount + t) * size;
        for (let p = 0; p < size; p++) map[i * size + p] = map[i * size + p]! + terms[base + p]!;
      }
    }
    normalizeImages(map, n, size, 'minmax');
    return {
      maps: new Tensor(map, [n, height, width]),
      layers,
      targets: classes,
      logits: run.logits.detach(),
      output: run.name,
      terms: new Tensor(terms, [n, termCount, height, width]),
    };
  });
}
