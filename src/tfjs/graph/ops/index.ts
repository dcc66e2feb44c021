import type { NodeDef, TfOp } from '../types.js';
import { mathOps } from './math.js';
import { nnOps, unsupportedFusion } from './nn.js';
import { shapeOps } from './shape.js';

/** Every GraphDef op tinycam runs (Placeholder and Const are the graph's inputs and weights). */
export const GRAPH_OPS: Readonly<Record<string, TfOp>> = { ...nnOps, ...mathOps, ...shapeOps };

/** Ops that are not computations: the model builder handles them. */
export const SOURCE_OPS: ReadonlySet<string> = new Set(['Placeholder', 'Const', 'NoOp']);

export function supportedOps(): string[] {
  return [...SOURCE_OPS, ...Object.keys(GRAPH_OPS)].sort();
}

/** A form of a supported op tinycam does not run, found from the node alone (before anything is built), or null. */
export function unsupportedOpForm(node: NodeDef): string | null {
  const a = node.attrs;
  switch (node.op) {
    case '_FusedConv2D':
    case 'FusedDepthwiseConv2dNative':
    case '_FusedMatMul':
      return unsupportedFusion(a.strings('fused_ops') ?? []);
    case 'MirrorPad':
      return a.string('mode', 'REFLECT') === 'REFLECT' ? null : `mode ${a.string('mode', '')} (accepted: REFLECT)`;
    case 'StridedSlice':
      return a.int('ellipsis_mask', 0) || a.int('new_axis_mask', 0) ? 'ellipsis_mask or new_axis_mask (accepted: begin, end and shrink masks)' : null;
    case 'ResizeNearestNeighbor':
      return a.bool('align_corners', false) ? 'align_corners (accepted: half_pixel_centers or neither)' : null;
    case 'FusedBatchNorm':
    case 'FusedBatchNormV2':
    case 'FusedBatchNormV3':
      return a.bool('is_training', false) ? 'is_training (accepted: inference, with moving statistics)' : null;
    case 'Conv2D':
    case 'DepthwiseConv2dNative':
    case 'MaxPool':
    case 'AvgPool': {
      const padding = a.string('padding', 'VALID');
      return ['SAME', 'VALID', 'EXPLICIT'].includes(padding) ? null : `padding ${padding}`;
    }
    default:
      return null;
  }
}
