import { Tensor } from '../../tensor/tensor.js';
import { DataType } from '../tensorData.js';
import { input, nodeError, type OpImpl } from './types.js';

/**
 * NonMaxSuppression, forward only: its output is a list of int64 indices
 * [num_selected, 3] (batch, class, box) with no gradient. Per batch and
 * class, boxes scoring above score_threshold are taken best first (ties in
 * index order) and kept unless their IoU with a kept box exceeds
 * iou_threshold, up to max_output_boxes_per_class (0 or absent: none), as
 * onnxruntime does.
 */

/** [y1, x1, y2, x2] with the corners in order, from either box format. */
function corners(b: Float32Array, i: number, centerPoint: boolean): [number, number, number, number] {
  const [a, c, d, e] = [b[4 * i]!, b[4 * i + 1]!, b[4 * i + 2]!, b[4 * i + 3]!];
  if (centerPoint) return [c - e / 2, a - d / 2, c + e / 2, a + d / 2]; // [x_c, y_c, w, h]
  return [Math.min(a, d), Math.min(c, e), Math.max(a, d), Math.max(c, e)];
}

function iou(p: [number, number, number, number], q: [number, number, number, number]): number {
  const h = Math.max(0, Math.min(p[2], q[2]) - Math.max(p[0], q[0]));
  const w = Math.max(0, Math.min(p[3], q[3]) - Math.max(p[1], q[1]));
  const inter = h * w;
  const areaP = (p[2] - p[0]) * (p[3] - p[1]);
  const areaQ = (q[2] - q[0]) * (q[3] - q[1]);
  if (areaP <= 0 || areaQ <= 0) return 0;
  return inter / (areaP + areaQ - inter);
}

const nonMaxSuppression: OpImpl = (call) => {
  const boxes = input(call, 0).detach();
  const scores = input(call, 1).detach();
  if (boxes.ndim !== 3 || boxes.shape[2] !== 4) throw nodeError(call, `boxes of shape [${boxes.shape.join(', ')}] must be [batches, boxes, 4]`);
  if (scores.ndim !== 3 || scores.shape[0] !== boxes.shape[0] || scores.shape[2] !== boxes.shape[1]) {
    throw nodeError(call, `scores of shape [${scores.shape.join(', ')}] must be [batches, classes, boxes] for boxes [${boxes.shape.join(', ')}]`);
  }
  const maxPerClass = call.inputs[2]?.data[0] ?? 0;
  const iouThreshold = call.inputs[3]?.data[0] ?? 0;
  const scoreThreshold = call.inputs[4]?.data[0];
  const centerPoint = call.attrs.int('center_point_box', 0) === 1;
  const [batches, count] = [boxes.shape[0]!, boxes.shape[1]!];
  const classes = scores.shape[1]!;
  const selected: number[] = [];
  for (let b = 0; b < batches; b++) {
    const batchBoxes = boxes.data.subarray(b * count * 4, (b + 1) * count * 4);
    const all = Array.from({ length: count }, (_, i) => corners(batchBoxes, i, centerPoint));
    for (let c = 0; c < classes; c++) {
      if (maxPerClass <= 0) continue;
      const s = scores.data.subarray((b * classes + c) * count, (b * classes + c + 1) * count);
      const order = Array.from({ length: count }, (_, i) => i)
        .filter((i) => scoreThreshold === undefined || s[i]! > scoreThreshold)
        .sort((p, q) => s[q]! - s[p]! || p - q);
      const kept: number[] = [];
      for (const i of order) {
        if (kept.length >= maxPerClass) break;
        if (kept.every((k) => iou(all[k]!, all[i]!) <= iouThreshold)) kept.push(i);
      }
      for (const i of kept) selected.push(b, c, i);
    }
  }
  call.outputTypes = [DataType.INT64];
  return new Tensor(Float32Array.from(selected), [selected.length / 3, 3]);
};

export const detectionOps = { NonMaxSuppression: nonMaxSuppression } satisfies Record<string, OpImpl>;
