import { elementwiseOps } from './elementwise.js';
import { nnOps } from './nn.js';
import { shapeOps } from './shape.js';
import type { OpImpl } from './types.js';

/** Every op the importer runs, by ONNX op type (default domain). */
export const ONNX_OPS: Readonly<Record<string, OpImpl>> = { ...elementwiseOps, ...nnOps, ...shapeOps };

/** Ops that must not be computed once and cached even when their inputs are constant. */
export const NON_CONSTANT_OPS: ReadonlySet<string> = new Set(['Dropout', 'BatchNormalization']);

export function supportedOps(): string[] {
  return Object.keys(ONNX_OPS).sort();
}

export type { OpCall, OpImpl } from './types.js';
