import { ShapeError } from '../tensor/errors.js';
import { reshape } from '../tensor/ops/shape.js';
import { Tensor, shapeString } from '../tensor/tensor.js';
import { BatchNorm2d, type BatchNorm2dOptions } from './normalization.js';

/**
 * torch.nn.BatchNorm1d ([N, C] or [N, C, L]) and BatchNorm3d ([N, C, D, H, W]):
 * BatchNorm2d's statistics and buffers (same state-dict names) over the
 * input viewed as [N, C, *, 1].
 */
export class BatchNorm1d extends BatchNorm2d {
  constructor(numFeatures: number, options: BatchNorm2dOptions = {}) {
    super(numFeatures, options);
  }

  override forward(x: Tensor): Tensor {
    if ((x.ndim !== 2 && x.ndim !== 3) || x.shape[1] !== this.numFeatures) {
      throw new ShapeError(`BatchNorm1d: expected input [N, ${this.numFeatures}] or [N, ${this.numFeatures}, L]; got ${shapeString(x.shape)}`);
    }
    const y = super.forward(reshape(x, [x.shape[0]!, x.shape[1]!, x.ndim === 3 ? x.shape[2]! : 1, 1]));
    return reshape(y, x.shape);
  }
}

export class BatchNorm3d extends BatchNorm2d {
  constructor(numFeatures: number, options: BatchNorm2dOptions = {}) {
    super(numFeatures, options);
  }

  override forward(x: Tensor): Tensor {
    if (x.ndim !== 5 || x.shape[1] !== this.numFeatures) {
      throw new ShapeError(`BatchNorm3d: expected input [N, ${this.numFeatures}, D, H, W]; got ${shapeString(x.shape)}`);
    }
    const [n, c, d, h, w] = x.shape as [number, number, number, number, number];
    return reshape(super.forward(reshape(x, [n, c, d, h * w])), x.shape);
  }
}
