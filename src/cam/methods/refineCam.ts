import { Tensor } from '../../tensor/tensor.js';
import type { Module } from '../../layers/module.js';
import { checkInput } from '../capture.js';
import { normalizeImages, postprocess } from '../postprocess.js';
import type { MapOptions, MapResult } from '../types.js';
import { gradCamPlusPlus } from './gradCamPlusPlus.js';

/** A map method RefineCAM runs over the layers (default gradCamPlusPlus, as pytorch-grad-cam). */
export type RefineBaseMethod = (model: Module, input: Tensor, options: MapOptions) => MapResult;

export interface RefineCamOptions extends MapOptions {
  method?: RefineBaseMethod;
}

/** RefineCAM's result: `layerMaps` [N, L, ...spatial] holds each layer's complete map at the input's size. */
export interface RefineCamResult extends MapResult {
  layerMaps: Tensor;
}

/**
 * RefineCAM (pytorch_grad_cam/refine_cam.py at 084273b): the base method's
 * complete map for each layer given as `layer: [a, b, ...]` (ReLU,
 * normalisation, resize to the input, normalisation, as a one-layer call
 * gives), multiplied together position by position, then scaled to [0, 1]
 * by min-max. A position stays bright only where every layer agrees, which
 * removes the noise of early layers while keeping their resolution.
 * (refine_cam.py has a loop meant to rescale each map by its maximum; it
 * rebinds a local variable and changes nothing, so the maps multiplied are
 * the ones the base method returns, as here.)
 *
 * The base method runs once, capturing every layer in one pass.
 */
export function refineCam(model: Module, input: Tensor, options: RefineCamOptions = {}): RefineCamResult {
  checkInput(input, 'refineCam');
  const method = options.method ?? gradCamPlusPlus;
  const result = method(model, input, options);
  const n = input.shape[0]!;
  const spatial = input.shape.slice(2);
  const size = spatial.reduce((p, d) => p * d, 1);
  const layerMaps = result.layers.map((layer) => postprocess([layer.raw], spatial, options).maps);
  const product = new Float32Array(n * size).fill(1);
  const stacked = new Float32Array(n * layerMaps.length * size);
  layerMaps.forEach((m, l) => {
    for (let i = 0; i < n; i++) {
      for (let p = 0; p < size; p++) {
        const v = m.data[i * size + p]!;
        product[i * size + p] = product[i * size + p]! * v;
        stacked[(i * layerMaps.length + l) * size + p] = v;
      }
    }
  });
  const mode = options.normalize === false ? 'none' : options.normalize === 'max' ? 'max' : 'minmax';
  normalizeImages(product, n, size, mode);
  return {
    ...result,
    maps: new Tensor(product, [n, ...spatial]),
    layerMaps: new Tensor(stacked, [n, layerMaps.length, ...spatial]),
  };
}
