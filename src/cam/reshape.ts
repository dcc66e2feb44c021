import { ArgumentError, ShapeError } from '../tensor/errors.js';
import { permute, reshape, slice } from '../tensor/ops/shape.js';
import { shapeString, type Tensor } from '../tensor/tensor.js';
import type { ReshapeTransform } from './types.js';

/** A grid of tokens: [rows, columns]. */
export type TokenGrid = readonly [number, number];

export interface VitReshapeOptions {
  /** The patch grid [h, w]; by default the square root of the number of patch tokens. */
  grid?: TokenGrid;
  /** Tokens before the patches (the class token; a distillation token too in DeiT). Default 1. */
  prefixTokens?: number;
}

/** The square grid that `tokens` patch tokens make, or null. */
export function squareGrid(tokens: number): TokenGrid | null {
  const side = Math.round(Math.sqrt(tokens));
  return side * side === tokens && side > 0 ? [side, side] : null;
}

function checkGrid(grid: TokenGrid, fn: string): void {
  if (!Array.isArray(grid) || grid.length !== 2 || !grid.every((d) => Number.isInteger(d) && d > 0)) {
    throw new ArgumentError(`${fn}: 'grid' must be [rows, columns] of positive integers; got ${JSON.stringify(grid)}`);
  }
}

/**
 * A vision transformer's token layer [N, prefix + h*w, C] as an image of
 * channels [N, C, h, w]: the prefix tokens (class token) are dropped, token
 * prefix + w*i + j goes to cell (i, j). pytorch-grad-cam's
 * vit_reshape_transform.
 */
export function vitReshape(options: VitReshapeOptions = {}): ReshapeTransform {
  const prefix = options.prefixTokens ?? 1;
  if (!Number.isInteger(prefix) || prefix < 0) {
    throw new ArgumentError(`vitReshape: 'prefixTokens' must be a non-negative integer; got ${prefix}`);
  }
  if (options.grid) checkGrid(options.grid, 'vitReshape');
  return (tokens: Tensor): Tensor => {
    if (tokens.ndim !== 3) {
      throw new ShapeError(`vitReshape: expects a token layer [N, tokens, C]; got ${shapeString(tokens.shape)}`);
    }
    const [n, count, c] = tokens.shape as [number, number, number];
    const patches = count - prefix;
    const grid = options.grid ?? squareGrid(patches);
    if (!grid || grid[0] * grid[1] !== patches) {
      const square = squareGrid(patches);
      throw new ShapeError(
        `vitReshape: ${count} tokens minus ${prefix} prefix token(s) leave ${patches} patch tokens, which ` +
          (options.grid ? `do not fill the grid ${grid![0]}x${grid![1]}` : 'is not a square number') +
          `; pass grid: [rows, columns] with rows * columns = ${patches}` +
          (square && options.grid ? ` (such as [${square[0]}, ${square[1]}])` : '') +
          ', or the right prefixTokens',
      );
    }
    const patchTokens = prefix > 0 ? slice(tokens, 1, prefix) : tokens;
    return permute(reshape(patchTokens, [n, grid[0], grid[1], c]), [0, 3, 1, 2]);
  };
}

export interface SwinReshapeOptions {
  /** For token layers [N, h*w, C] (timm's Swin): the grid [h, w]; by default square. */
  grid?: TokenGrid;
}

/**
 * A channels-last layer [N, h, w, C] (torchvision's Swin, TensorFlow's
 * NHWC) as [N, C, h, w]; token layers [N, h*w, C] (timm's Swin) are first
 * laid out on the grid. pytorch-grad-cam's swinT_reshape_transform.
 */
export function swinReshape(options: SwinReshapeOptions = {}): ReshapeTransform {
  if (options.grid) checkGrid(options.grid, 'swinReshape');
  return (x: Tensor): Tensor => {
    if (x.ndim === 4) return permute(x, [0, 3, 1, 2]);
    if (x.ndim === 3) {
      const [n, count, c] = x.shape as [number, number, number];
      const grid = options.grid ?? squareGrid(count);
      if (!grid || grid[0] * grid[1] !== count) {
        throw new ShapeError(`swinReshape: ${count} tokens do not fill ${options.grid ? `the grid ${grid![0]}x${grid![1]}` : 'a square grid'}; pass grid: [rows, columns] with rows * columns = ${count}`);
      }
      return permute(reshape(x, [n, grid[0], grid[1], c]), [0, 3, 1, 2]);
    }
    throw new ShapeError(`swinReshape: expects a channels-last layer [N, h, w, C] or tokens [N, h*w, C]; got ${shapeString(x.shape)}`);
  };
}
