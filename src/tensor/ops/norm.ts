import { Tensor } from '../tensor.js';
import { notImplemented } from '../todo.js';

export interface BatchNormOptions {
  /** Use batch statistics and update the running ones (default false: running statistics). */
  training?: boolean;
  momentum?: number;
  eps?: number;
}
/**
 * Batch normalisation over axis 1 (F.batch_norm). In training mode the
 * running statistics are updated in place (unbiased variance, as PyTorch).
 */
export function batchNorm(
  x: Tensor,
  runningMean: Tensor | null,
  runningVar: Tensor | null,
  weight?: Tensor | null,
  bias?: Tensor | null,
  options: BatchNormOptions = {},
): Tensor { return notImplemented('batchNorm', x, runningMean, runningVar, weight, bias, options); }

/** Local response normalisation across channels (torch.nn.LocalResponseNorm / ONNX LRN). */
export function localResponseNorm(x: Tensor, size: number, options: { alpha?: number; beta?: number; k?: number } = {}): Tensor { return notImplemented('localResponseNorm', x, size, options); }
