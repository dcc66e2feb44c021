import { avgPool1d, avgPool3d, maxPool1d, maxPool3d, type Triple } from '../tensor/ops/pool3d.js';
import { mean } from '../tensor/ops/reduce.js';
import { ArgumentError, ShapeError } from '../tensor/errors.js';
import { Tensor, shapeString } from '../tensor/tensor.js';
import { Module } from './module.js';

/** torch.nn's 1-D and 3-D pooling layers, on the engine's pool1d / pool3d ops. */

function expectRank(x: Tensor, rank: number, layer: string, layout: string): void {
  if (x.ndim !== rank) throw new ShapeError(`${layer}: expected input ${layout}; got ${shapeString(x.shape)}`);
}

export interface Pool1dLayerOptions {
  /** Defaults to kernelSize, as in PyTorch. */
  stride?: number;
  padding?: number;
  dilation?: number;
  ceilMode?: boolean;
  countIncludePad?: boolean;
}

export interface Pool3dLayerOptions {
  stride?: Triple;
  padding?: Triple;
  dilation?: Triple;
  ceilMode?: boolean;
  countIncludePad?: boolean;
}

/** torch.nn.MaxPool1d on [N, C, L]. */
export class MaxPool1d extends Module {
  constructor(readonly kernelSize: number, readonly options: Pool1dLayerOptions = {}) {
    super();
  }
  override forward(x: Tensor): Tensor {
    expectRank(x, 3, 'MaxPool1d', '[N, C, L]');
    return maxPool1d(x, { kernelSize: this.kernelSize, ...this.options });
  }
}

/** torch.nn.AvgPool1d on [N, C, L]. */
export class AvgPool1d extends Module {
  constructor(readonly kernelSize: number, readonly options: Omit<Pool1dLayerOptions, 'dilation'> = {}) {
    super();
  }
  override forward(x: Tensor): Tensor {
    expectRank(x, 3, 'AvgPool1d', '[N, C, L]');
    return avgPool1d(x, { kernelSize: this.kernelSize, ...this.options });
  }
}

/** torch.nn.MaxPool3d on [N, C, D, H, W]. */
export class MaxPool3d extends Module {
  constructor(readonly kernelSize: Triple, readonly options: Pool3dLayerOptions = {}) {
    super();
  }
  override forward(x: Tensor): Tensor {
    expectRank(x, 5, 'MaxPool3d', '[N, C, D, H, W]');
    return maxPool3d(x, { kernelSize: this.kernelSize, ...this.options });
  }
}

/** torch.nn.AvgPool3d on [N, C, D, H, W]. */
export class AvgPool3d extends Module {
  constructor(readonly kernelSize: Triple, readonly options: Omit<Pool3dLayerOptions, 'dilation'> = {}) {
    super();
  }
  override forward(x: Tensor): Tensor {
    expectRank(x, 5, 'AvgPool3d', '[N, C, D, H, W]');
    return avgPool3d(x, { kernelSize: this.kernelSize, ...this.options });
  }
}

/**
 * torch.nn.AdaptiveAvgPool1d(1) / AdaptiveAvgPool3d(1): the mean over every
 * spatial axis, kept as size 1 (the global pooling before a 1-D or 3-D
 * classifier head; other output sizes are not supported).
 */
export class GlobalAvgPoolNd extends Module {
  constructor(readonly spatialRank: 1 | 3) {
    super();
    if (spatialRank !== 1 && spatialRank !== 3) throw new ArgumentError(`GlobalAvgPoolNd: spatialRank must be 1 or 3, got ${String(spatialRank)}`);
  }
  override forward(x: Tensor): Tensor {
    expectRank(x, this.spatialRank + 2, 'GlobalAvgPoolNd', this.spatialRank === 1 ? '[N, C, L]' : '[N, C, D, H, W]');
    return mean(x, x.shape.slice(2).map((_, i) => i + 2), true);
  }
}
