import { noGrad } from '../../tensor/autograd.js';
import { ArgumentError, ShapeError } from '../../tensor/errors.js';
import { Tensor, shapeString } from '../../tensor/tensor.js';
import type { Module } from '../../layers/module.js';
import type { Capture, LayerCapture } from '../capture.js';
import { dims, weightedSum, weightsTensor } from '../channels.js';
import { TargetError } from '../errors.js';
import { explainWith, type LayerMapResult } from '../explain.js';
import { resolveLayers } from '../layers.js';
import type { LayerSpec, MapOptions, MapResult } from '../types.js';

export interface CamOptions extends MapOptions {
  /**
   * The Linear layer that follows global average pooling (module path or
   * Module). By default it is found: the first Linear whose input is the
   * spatial mean of the layer's output (one extra forward pass without gradients).
   */
  fc?: LayerSpec;
}

function linearWeight(module: Module, name: string): Tensor {
  const weight = (module as unknown as { weight?: unknown }).weight;
  if (!(weight instanceof Tensor) || weight.ndim !== 2) {
    throw new ArgumentError(`cam: '${name}' (${module.typeName}) has no 2-D 'weight' [classes, channels]; 'fc' must be a Linear layer`);
  }
  return weight;
}

/** Whether x [N,C] is the spatial mean of A [N,C,h,w] (to float32 rounding). */
function isGlobalAverageOf(x: Tensor, a: Tensor): boolean {
  const { n, c, hw } = dims(a);
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

/** The first Linear whose input is the global average of the layer's output (one forward, no gradients). */
function findGapLinear(capture: Capture, layer: LayerCapture): { name: string; module: Module } {
  const linears = capture.model.namedModules().filter(([, m]) => m.typeName === 'Linear');
  const seen: { name: string; module: Module; input: Tensor }[] = [];
  const handles = linears.map(([name, module]) =>
    module.registerForwardHook((_m, inputs) => {
      if (inputs[0]) seen.push({ name, module, input: inputs[0] });
    }),
  );
  try {
    noGrad(() => capture.model.forward(capture.input));
  } finally {
    for (const h of handles) h.remove();
  }
  const found = seen.find((s) => isGlobalAverageOf(s.input, layer.activation));
  if (!found) {
    throw new ArgumentError(
      `cam: no Linear layer receives the global average of layer '${layer.name}'s output, so CAM does not apply there. ` +
        `CAM needs a model that ends in global average pooling and a Linear layer, explained at the pooling's input; ` +
        `name the Linear with the 'fc' option, or use gradCam (which equals CAM on such models).`,
    );
  }
  return found;
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
    const linear = fc === undefined ? findGapLinear(capture, layer) : resolveLayers(capture.model, fc, 'cam')[0]!;
    const weight = linearWeight(linear.module, linear.name);
    const { n, c } = dims(layer.activation);
    const [k, inFeatures] = weight.shape as [number, number];
    if (inFeatures !== c) {
      throw new ShapeError(
        `cam: Linear '${linear.name}' has weight ${shapeString(weight.shape)} (${inFeatures} inputs) but layer '${layer.name}' has ${c} channels; CAM needs the Linear fed by global average pooling of this layer`,
      );
    }
    const weights = new Float64Array(n * c);
    capture.classes.forEach((t, i) => {
      if (t >= k) throw new TargetError(`cam: target ${t} is beyond the ${k} outputs of Linear '${linear.name}'`);
      for (let j = 0; j < c; j++) weights[i * c + j] = weight.data[t * c + j]!;
    });
    return { raw: weightedSum(layer.activation, weights), weights: weightsTensor(weights, n, c) };
  };
}

/** Class Activation Mapping (Zhou et al. 2016) for GAP+FC models. Uses no gradients. */
export function cam(model: Module, input: Tensor, options: CamOptions = {}): MapResult {
  return explainWith(model, input, options, { name: 'cam', gradients: false, layerMethod: camLayer(options.fc) });
}
