import { batchNorm, localResponseNorm } from '../tensor/ops/norm.js';
import { ArgumentError, ShapeError } from '../tensor/errors.js';
import { Parameter, Tensor, shapeString, zeros, ones } from '../tensor/tensor.js';
import { constantParameter, positiveInteger, pyNumber } from './init.js';
import { Module } from './module.js';

export interface BatchNorm2dOptions {
  eps?: number;
  /** Weight of the new batch in the running averages; null for a cumulative average (PyTorch's None). Default 0.1. */
  momentum?: number | null;
  /** Learnable weight (gamma, init 1) and bias (beta, init 0). Default true. */
  affine?: boolean;
  /** Keep running_mean / running_var / num_batches_tracked and use them in eval mode. Default true. */
  trackRunningStats?: boolean;
}

/**
 * torch.nn.BatchNorm2d over the channel axis of [N, C, H, W]. Training mode
 * normalises with the batch statistics and updates the running ones
 * (unbiased variance) and num_batches_tracked; eval mode uses the running ones.
 * Without running statistics it always uses the batch's, as PyTorch.
 */
export class BatchNorm2d extends Module {
  static override readonly typeName: string = 'BatchNorm2d';
  readonly numFeatures: number;
  readonly eps: number;
  readonly momentum: number | null;
  readonly affine: boolean;
  readonly trackRunningStats: boolean;
  weight: Parameter | null;
  bias: Parameter | null;
  declare running_mean: Tensor | null;
  declare running_var: Tensor | null;
  /** A scalar (shape []); torchvision state dicts store it as an int64 scalar. */
  declare num_batches_tracked: Tensor | null;

  constructor(numFeatures: number, options: BatchNorm2dOptions = {}) {
    super();
    this.numFeatures = positiveInteger(numFeatures, 'numFeatures', 'BatchNorm2d');
    this.eps = options.eps ?? 1e-5;
    this.momentum = options.momentum === undefined ? 0.1 : options.momentum;
    this.affine = options.affine ?? true;
    this.trackRunningStats = options.trackRunningStats ?? true;
    if (!(this.eps >= 0)) throw new ArgumentError(`BatchNorm2d: eps must be >= 0; got ${this.eps}`);
    if (this.momentum !== null && !(this.momentum >= 0 && this.momentum <= 1)) {
      throw new ArgumentError(`BatchNorm2d: momentum must be in [0, 1] or null; got ${this.momentum}`);
    }
    this.weight = this.affine ? constantParameter([numFeatures], 1) : null;
    this.bias = this.affine ? constantParameter([numFeatures], 0) : null;
    this.registerBuffer('running_mean', this.trackRunningStats ? zeros([numFeatures]) : null);
    this.registerBuffer('running_var', this.trackRunningStats ? ones([numFeatures]) : null);
    this.registerBuffer('num_batches_tracked', this.trackRunningStats ? zeros([]) : null);
  }

  /** A fresh output (the statistics it updates in training are its own buffers, not its input). */
  override isolatedForward(): boolean {
    return this.constructor === BatchNorm2d;
  }

  override forward(x: Tensor): Tensor {
    if (x.ndim !== 4 || x.shape[1] !== this.numFeatures) {
      throw new ShapeError(`BatchNorm2d: expected input [N, ${this.numFeatures}, H, W]; got ${shapeString(x.shape)}`);
    }
    let momentum = this.momentum ?? 0;
    if (this.training && this.num_batches_tracked) {
      const count = this.num_batches_tracked.data;
      count[0] = count[0]! + 1;
      if (this.momentum === null) momentum = 1 / count[0]!;
    }
    const useBatchStats = this.training || !this.running_mean;
    return batchNorm(x, this.running_mean, this.running_var, this.weight, this.bias, {
      training: useBatchStats,
      momentum,
      eps: this.eps,
    });
  }

  override extraRepr(): string {
    const m = this.momentum === null ? 'None' : `${this.momentum}`;
    const py = (b: boolean): string => (b ? 'True' : 'False');
    return `${this.numFeatures}, eps=${pyNumber(this.eps)}, momentum=${m}, affine=${py(this.affine)}, track_running_stats=${py(this.trackRunningStats)}`;
  }
}

/** torch.nn.LocalResponseNorm(size, alpha=1e-4, beta=0.75, k=1) across channels. */
export class LocalResponseNorm extends Module {
  static override readonly typeName: string = 'LocalResponseNorm';
  readonly size: number;
  readonly alpha: number;
  readonly beta: number;
  readonly k: number;

  constructor(size: number, options: { alpha?: number; beta?: number; k?: number } = {}) {
    super();
    this.size = positiveInteger(size, 'size', 'LocalResponseNorm');
    this.alpha = options.alpha ?? 1e-4;
    this.beta = options.beta ?? 0.75;
    this.k = options.k ?? 1;
  }

  override forward(x: Tensor): Tensor {
    return localResponseNorm(x, this.size, { alpha: this.alpha, beta: this.beta, k: this.k });
  }

  override extraRepr(): string {
    return `${this.size}, alpha=${pyNumber(this.alpha)}, beta=${this.beta}, k=${this.k}`;
  }
}
