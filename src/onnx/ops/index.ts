import { makeIf } from './control.js';
import { detectionOps } from './detection.js';
import { elementwiseOps } from './elementwise.js';
import { indexingOps } from './indexing.js';
import { logicOps } from './logic.js';
import { mathOps } from './math.js';
import { nnOps } from './nn.js';
import { normalizationOps } from './normalization.js';
import { reduceOps } from './reduce.js';
import { resizeOps, unsupportedResizeForm } from './resize.js';
import { shapeOps } from './shape.js';
import type { NodeProto } from '../proto.js';
import { attributesOf, type OpImpl } from './types.js';

/** Every op the importer runs, by ONNX op type (default domain). */
export const ONNX_OPS: Readonly<Record<string, OpImpl>> = {
  ...elementwiseOps, ...mathOps, ...logicOps, ...nnOps, ...normalizationOps, ...shapeOps, ...indexingOps,
  ...reduceOps, ...resizeOps, ...detectionOps,
  // If runs its branch's nodes with these same ops.
  If: makeIf(() => ONNX_OPS, (opType) => !NON_CONSTANT_OPS.has(opType)),
};

/** Ops that must not be computed once and cached even when their inputs are constant. */
export const NON_CONSTANT_OPS: ReadonlySet<string> = new Set(['Dropout', 'BatchNormalization']);

/**
 * Forms of supported ops that the importer does not run, found from the node
 * alone so that loadOnnx can refuse them before building anything. Returns a
 * short description, or null when the node is fine. (Input ranks are only
 * known at run time; those errors name the node then.)
 */
export function unsupportedForm(node: NodeProto): string | null {
  const attrs = attributesOf(node);
  const autoPad = attrs.string('auto_pad');
  if (autoPad && !['NOTSET', 'SAME_UPPER', 'SAME_LOWER', 'VALID'].includes(autoPad)) return `auto_pad '${autoPad}'`;
  switch (node.opType) {
    case 'MaxPool':
      return node.outputs[1] ? 'the Indices output' : null;
    case 'Pad': {
      const mode = attrs.string('mode');
      return mode && !['constant', 'reflect', 'edge'].includes(mode) ? `mode '${mode}'` : null;
    }
    case 'Cast':
      return attrs.int('to', 1) === 8 ? 'a cast to string' : null;
    case 'Constant':
      return ['value', 'value_float', 'value_floats', 'value_int', 'value_ints'].some((name) => attrs.has(name))
        ? null
        : 'a sparse or string value';
    case 'Resize':
    case 'Upsample':
      return unsupportedResizeForm(node);
    case 'If': {
      const graphs = ['then_branch', 'else_branch'].map((name) => attrs.graph(name));
      return graphs.every((g) => g) ? null : 'a then_branch or else_branch that is not a graph';
    }
    case 'AveragePool': {
      const d = attrs.ints('dilations');
      return d && d.some((v) => v !== 1) ? 'dilations' : null;
    }
    default:
      return null;
  }
}

export function supportedOps(): string[] {
  return Object.keys(ONNX_OPS).sort();
}

export type { OpCall, OpImpl } from './types.js';
