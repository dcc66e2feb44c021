import { add, div, maximum, minimum, mul, sub } from '../tensor/ops/elementwise.js';
import { relu } from '../tensor/ops/activations.js';
import { sum } from '../tensor/ops/reduce.js';
import { reshape, slice, transpose } from '../tensor/ops/shape.js';
import { ArgumentError } from '../tensor/errors.js';
import { Tensor, shapeString } from '../tensor/tensor.js';
import { TargetError } from './errors.js';
import type { TargetFunction } from './types.js';

/** A box [x1, y1, x2, y2] in input pixels. */
export type Box = readonly [number, number, number, number];

/**
 * How a detector's output is laid out:
 * - 'yolov8': [N, 4 + K, A] — per anchor the box (cx, cy, w, h) then K class
 *   scores (ultralytics' YOLOv8/v11 ONNX export, sigmoid already applied);
 * - 'yolov5': [N, A, 5 + K] — per anchor (cx, cy, w, h), objectness, K class
 *   scores; a class's confidence is objectness x its score;
 * - 'torchvision': the (boxes [M, 4] as x1, y1, x2, y2; labels [M]; scores
 *   [M]) outputs of torchvision's detectors for one image, read from the
 *   model's outputs by the names in `outputs`.
 */
export type BoxFormat = 'yolov8' | 'yolov5' | 'torchvision';

export interface BoxTargetOptions {
  /** Default 'yolov8'. */
  format?: BoxFormat;
  /** Overlap a prediction needs to count (default 0.5, FasterRCNNBoxScoreTarget's). */
  iouThreshold?: number;
  /** For 'torchvision': the names of the boxes, labels and scores outputs (default 'boxes', 'labels', 'scores'). */
  outputs?: { boxes?: string; labels?: string; scores?: string };
}

/** Corner coordinates [rows, 4, A] -> four [rows, 1, A] tensors (differentiable). */
function corners(boxes: Tensor, centred: boolean): [Tensor, Tensor, Tensor, Tensor] {
  const part = (i: number) => slice(boxes, 1, i, i + 1);
  if (!centred) return [part(0), part(1), part(2), part(3)];
  const [cx, cy, w, h] = [part(0), part(1), part(2), part(3)];
  const halfW = mul(w, 0.5);
  const halfH = mul(h, 0.5);
  return [sub(cx, halfW), sub(cy, halfH), add(cx, halfW), add(cy, halfH)];
}

/** IoU of each predicted box (corners [rows, 1, A] each) with the fixed `box`, differentiable in the predictions. */
function iouWith(pred: [Tensor, Tensor, Tensor, Tensor], box: Box): Tensor {
  const [x1, y1, x2, y2] = pred;
  const [bx1, by1, bx2, by2] = box;
  const iw = relu(sub(minimum(x2, bx2), maximum(x1, bx1)));
  const ih = relu(sub(minimum(y2, by2), maximum(y1, by1)));
  const inter = mul(iw, ih);
  const areaPred = mul(relu(sub(x2, x1)), relu(sub(y2, y1)));
  const areaBox = Math.max(bx2 - bx1, 0) * Math.max(by2 - by1, 0);
  return div(inter, maximum(sub(add(areaPred, areaBox), inter), 1e-9));
}

/** Index of the largest value in each row of a [rows, K, A] tensor along K, per anchor: [rows * A]. */
function bestClassPerAnchor(scores: Tensor): Int32Array {
  const [rows, k, a] = scores.shape as [number, number, number];
  const best = new Int32Array(rows * a);
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < a; j++) {
      let top = 0;
      for (let c = 1; c < k; c++) if (scores.data[(r * k + c) * a + j]! > scores.data[(r * k + top) * a + j]!) top = c;
      best[r * a + j] = top;
    }
  }
  return best;
}

/**
 * A raw YOLO head [rows, 4 + K, A] (boxes centred) plus, for YOLOv5, the
 * objectness: the sum over anchors whose best class is c and whose box
 * overlaps `box` with IoU above the threshold of (IoU + confidence of c).
 * The anchors that count are chosen on the values; the score is
 * differentiable in the boxes and the confidences.
 */
function yoloScore(boxes: Tensor, classScores: Tensor, box: Box, c: number, threshold: number): Tensor {
  const [rows, k, anchors] = classScores.shape as [number, number, number];
  if (c >= k) throw new TargetError(`boxTarget: class ${c} is beyond the ${k} classes of the detector; accepted: 0 to ${k - 1}`);
  const iou = iouWith(corners(boxes, true), box); // [rows, 1, A]
  const confidence = slice(classScores, 1, c, c + 1); // [rows, 1, A]
  const best = bestClassPerAnchor(classScores);
  const keep = new Float32Array(rows * anchors);
  for (let i = 0; i < keep.length; i++) keep[i] = best[i] === c && iou.data[i]! > threshold ? 1 : 0;
  const matched = mul(add(iou, confidence), new Tensor(keep, [rows, 1, anchors]));
  return sum(reshape(matched, [rows, anchors]), 1);
}

function checkBox(box: Box): void {
  if (!Array.isArray(box) || box.length !== 4 || !box.every((v) => Number.isFinite(v)) || box[2] < box[0] || box[3] < box[1]) {
    throw new ArgumentError(`boxTarget: the box must be [x1, y1, x2, y2] of finite numbers with x2 >= x1 and y2 >= y1; got ${JSON.stringify(box)}`);
  }
}

/**
 * FasterRCNNBoxScoreTarget's rule for one box: the detections of class `c`
 * that overlap `box` with IoU above 0.5, scored IoU + score. For
 * torchvision's (boxes, labels, scores) outputs it is pytorch-grad-cam's
 * rule exactly (the best-overlapping detection counts if its label is c);
 * for raw YOLO heads, every anchor whose best class is c and whose box
 * overlaps counts (there is no NMS before the score).
 */
export function boxTarget(box: Box, c: number, options: BoxTargetOptions = {}): TargetFunction {
  checkBox(box);
  if (!Number.isInteger(c) || c < 0) throw new ArgumentError(`boxTarget: class ${c} is not a class index; accepted: integers >= 0`);
  const format = options.format ?? 'yolov8';
  const threshold = options.iouThreshold ?? 0.5;
  if (!(threshold >= 0 && threshold <= 1)) throw new ArgumentError(`boxTarget: iouThreshold must be in [0, 1]; got ${threshold}`);
  if (format === 'yolov8' || format === 'yolov5') {
    const width = format === 'yolov8' ? 4 : 5;
    return (output) => {
      const expected = format === 'yolov8' ? '[N, 4 + K, anchors]' : '[N, anchors, 5 + K]';
      if (output.ndim !== 3) throw new TargetError(`boxTarget: a ${format} head is ${expected}; the explained output has shape ${shapeString(output.shape)}`);
      const head = format === 'yolov8' ? output : transpose(output, 1, 2); // [rows, 4|5 + K, A]
      if (head.shape[1]! <= width) throw new TargetError(`boxTarget: a ${format} head is ${expected} with at least one class; got ${shapeString(output.shape)}`);
      const boxes = slice(head, 1, 0, 4);
      let classes = slice(head, 1, width);
      if (format === 'yolov5') classes = mul(classes, slice(head, 1, 4, 5));
      return yoloScore(boxes, classes, box, c, threshold);
    };
  }
  if (format !== 'torchvision') throw new ArgumentError(`boxTarget: format '${String(format)}' is not known; accepted: 'yolov8', 'yolov5', 'torchvision'`);
  const names = { boxes: 'boxes', labels: 'labels', scores: 'scores', ...options.outputs };
  return (_output, images, outputs) => {
    if (images.length !== 1) throw new TargetError(`boxTarget: torchvision detector outputs describe one image; explain the images one at a time (got ${images.length} rows)`);
    const get = (key: 'boxes' | 'labels' | 'scores'): Tensor => {
      const t = outputs?.[names[key]];
      if (!t) throw new TargetError(`boxTarget: the model has no output '${names[key]}'; name the ${key} output with options.outputs.${key} (outputs: ${Object.keys(outputs ?? {}).join(', ')})`);
      return t;
    };
    const boxes = get('boxes');
    const labels = get('labels');
    const scores = get('scores');
    const m = boxes.shape[0] ?? 0;
    if (boxes.ndim !== 2 || boxes.shape[1] !== 4 || labels.size !== m || scores.size !== m) {
      throw new TargetError(`boxTarget: torchvision outputs must be boxes [M, 4], labels [M], scores [M]; got ${shapeString(boxes.shape)}, ${shapeString(labels.shape)}, ${shapeString(scores.shape)}`);
    }
    if (m === 0) return reshape(mul(sum(scores), 0), [1]);
    const iou = iouWith(corners(reshape(transpose(boxes, 0, 1), [1, 4, m]), false), box); // [1, 1, M]
    let best = 0;
    for (let j = 1; j < m; j++) if (iou.data[j]! > iou.data[best]!) best = j;
    const hit = new Float32Array(m);
    if (iou.data[best]! > threshold && labels.data[best] === c) hit[best] = 1;
    const picked = mul(add(reshape(iou, [m]), reshape(scores, [m])), new Tensor(hit, [m]));
    return reshape(sum(picked), [1]);
  };
}
