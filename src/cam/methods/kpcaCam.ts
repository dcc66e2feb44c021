import { ArgumentError } from '../../tensor/errors.js';
import { Tensor } from '../../tensor/tensor.js';
import type { Module } from '../../layers/module.js';
import type { LayerCapture } from '../capture.js';
import { positions } from '../spatial.js';
import { topEigenpair } from '../eigen.js';
import { explainWith, type LayerMapResult } from '../explain.js';
import type { MapOptions, MapResult } from '../types.js';

/** scikit-learn's pairwise kernels, as KernelPCA names them. */
export type KpcaKernel = 'sigmoid' | 'rbf' | 'poly' | 'linear' | 'cosine';

export interface KpcaCamOptions extends MapOptions {
  /** Kernel (default 'sigmoid', as pytorch-grad-cam). */
  kernel?: KpcaKernel;
  /** Kernel coefficient of 'sigmoid', 'rbf' and 'poly' (default 1 / C, scikit-learn's choice). */
  gamma?: number;
  /** Constant term of 'sigmoid' and 'poly' (default 1). */
  coef0?: number;
  /** Degree of 'poly' (default 3). */
  degree?: number;
}

interface KernelParameters {
  kernel: KpcaKernel;
  gamma: number | undefined;
  coef0: number;
  degree: number;
}

/** The kernel matrix K [hw, hw] of the rows of x [hw, C] (float64). */
function kernelMatrix(x: Float64Array, rows: number, cols: number, p: KernelParameters): Float64Array {
  const gamma = p.gamma ?? 1 / cols;
  const k = new Float64Array(rows * rows);
  const norms = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    let s = 0;
    for (let c = 0; c < cols; c++) s += x[i * cols + c]! ** 2;
    norms[i] = s;
  }
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j <= i; j++) {
      let dot = 0;
      for (let c = 0; c < cols; c++) dot += x[i * cols + c]! * x[j * cols + c]!;
      let value: number;
      switch (p.kernel) {
        case 'sigmoid':
          value = Math.tanh(gamma * dot + p.coef0);
          break;
        case 'poly':
          value = (gamma * dot + p.coef0) ** p.degree;
          break;
        case 'rbf':
          value = Math.exp(-gamma * Math.max(norms[i]! + norms[j]! - 2 * dot, 0));
          break;
        case 'linear':
          value = dot;
          break;
        case 'cosine': {
          const norm = Math.sqrt(norms[i]!) * Math.sqrt(norms[j]!);
          value = norm > 0 ? dot / norm : 0;
          break;
        }
      }
      k[i * rows + j] = value;
      k[j * rows + i] = value;
    }
  }
  return k;
}

/** KernelCenterer: K - 1K/n - K1/n + 1K1/n^2, in place. */
function centreKernel(k: Float64Array, n: number): void {
  const rowMeans = new Float64Array(n);
  let total = 0;
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < n; j++) s += k[i * n + j]!;
    rowMeans[i] = s / n;
    total += s;
  }
  const grand = total / (n * n);
  // K is symmetric: column means equal row means.
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) k[i * n + j] = k[i * n + j]! - rowMeans[i]! - rowMeans[j]! + grand;
}

/**
 * One image: X = A as [hw, C] centred per channel; the centred kernel's
 * leading eigenpair (l, v); raw = v sqrt(max(l, 0)), with v's sign chosen so
 * that its largest-magnitude entry (the first on ties) is positive
 * (scikit-learn's svd_flip).
 */
function kernelPcaProjection(values: Float32Array, channels: number, positions: number, p: KernelParameters): Float64Array {
  const x = new Float64Array(positions * channels);
  for (let c = 0; c < channels; c++) {
    let mean = 0;
    for (let q = 0; q < positions; q++) mean += values[c * positions + q]!;
    mean /= positions;
    for (let q = 0; q < positions; q++) x[q * channels + c] = values[c * positions + q]! - mean;
  }
  const k = kernelMatrix(x, positions, channels, p);
  centreKernel(k, positions);
  const { value, vector } = topEigenpair(k, positions);
  let largest = 0;
  for (let q = 1; q < positions; q++) if (Math.abs(vector[q]!) > Math.abs(vector[largest]!)) largest = q;
  const scale = (vector[largest]! < 0 ? -1 : 1) * Math.sqrt(Math.max(value, 0));
  return vector.map((v) => v * scale);
}

/**
 * Karmani et al. 2024, KPCA-CAM, as pytorch-grad-cam computes it
 * (pytorch_grad_cam/kpca_cam.py and utils/svd_on_activations.py,
 * get_2d_projection_kernel, at 084273b, which calls scikit-learn's
 * KernelPCA(n_components=1)): the activations' first kernel principal
 * component. The eigenproblem is solved exactly in float64 (scikit-learn
 * uses eigh for up to 200 positions and ARPACK beyond; both converge to the
 * same eigenvector).
 */
function kpcaCamLayer(p: KernelParameters) {
  return (layer: LayerCapture): LayerMapResult => {
    const [n, c] = layer.activation.shape as [number, number];
    const hw = positions(layer.activation);
    const out = new Float32Array(n * hw);
    for (let i = 0; i < n; i++) {
      out.set(kernelPcaProjection(layer.activation.data.subarray(i * c * hw, (i + 1) * c * hw), c, hw, p), i * hw);
    }
    return { raw: new Tensor(out, [n, ...layer.activation.shape.slice(2)]), weights: null };
  };
}

const KERNELS: readonly KpcaKernel[] = ['sigmoid', 'rbf', 'poly', 'linear', 'cosine'];

/** KPCA-CAM: class-agnostic like EigenCAM, with a kernel. Uses no gradients; costs O((h w)^3) per image. */
export function kpcaCam(model: Module, input: Tensor, options: KpcaCamOptions = {}): MapResult {
  const p: KernelParameters = {
    kernel: options.kernel ?? 'sigmoid',
    gamma: options.gamma,
    coef0: options.coef0 ?? 1,
    degree: options.degree ?? 3,
  };
  if (!KERNELS.includes(p.kernel)) throw new ArgumentError(`kpcaCam: kernel '${String(p.kernel)}' is not supported; accepted: ${KERNELS.join(', ')}`);
  for (const [name, value] of [['gamma', p.gamma], ['coef0', p.coef0], ['degree', p.degree]] as const) {
    if (value !== undefined && !Number.isFinite(value)) throw new ArgumentError(`kpcaCam: ${name} must be a finite number; got ${String(value)}`);
  }
  return explainWith(model, input, options, { name: 'kpcaCam', gradients: false, layerMethod: kpcaCamLayer(p) });
}
