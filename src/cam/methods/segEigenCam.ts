import { noGrad } from '../../tensor/autograd.js';
import { abs, mul } from '../../tensor/ops/elementwise.js';
import { Tensor } from '../../tensor/tensor.js';
import type { Module } from '../../layers/module.js';
import type { LayerCapture } from '../capture.js';
import { positions } from '../spatial.js';
import { firstComponentProjection } from '../eigen.js';
import { explainWith, type LayerMapResult } from '../explain.js';
import type { MapOptions, MapResult } from '../types.js';

/**
 * Chung & Ying 2025, Seg-Eigen-CAM, as pytorch-grad-cam computes it
 * (pytorch_grad_cam/seg_eigen_cam.py and utils/svd_on_activations.py,
 * get_2d_projection_with_sign_correction, at 084273b): M = |dA| * A as
 * [hw, C] with each channel centred over positions; raw = M v1 (v1 the first
 * right singular vector); then raw = -raw when |min(raw)| > |max(raw)|, so the
 * largest deviation is positive. The sign is fixed by that rule, not by the
 * SVD, so results compare directly.
 */
export function segEigenCamLayer(layer: LayerCapture): LayerMapResult {
  const [n, c] = layer.activation.shape as [number, number];
  const hw = positions(layer.activation);
  const weighted = noGrad(() => mul(abs(layer.gradient!), layer.activation));
  const out = new Float32Array(n * hw);
  for (let i = 0; i < n; i++) {
    const projection = firstComponentProjection(weighted.data.subarray(i * c * hw, (i + 1) * c * hw), c, hw, 'none');
    let lo = Infinity;
    let hi = -Infinity;
    for (const v of projection) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    const sign = Math.abs(lo) > Math.abs(hi) ? -1 : 1;
    for (let p = 0; p < hw; p++) out[i * hw + p] = sign * projection[p]!;
  }
  return { raw: new Tensor(out, [n, ...layer.activation.shape.slice(2)]), weights: null };
}

/**
 * Seg-Eigen-CAM: EigenCAM on |dA| * A with a sign rule; made for
 * segmentation models (with a segmentation target) but works on any target.
 */
export function segEigenCam(model: Module, input: Tensor, options: MapOptions = {}): MapResult {
  return explainWith(model, input, options, { name: 'segEigenCam', gradients: true, layerMethod: segEigenCamLayer });
}
