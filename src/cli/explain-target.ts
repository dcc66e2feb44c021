import { boxTarget, type Box, type BoxFormat } from '../cam/boxTarget.js';
import { inEvalMode } from '../cam/capture.js';
import { resolveLayers } from '../cam/layers.js';
import { runForExplanation } from '../cam/output.js';
import { rawTarget, segmentationTarget } from '../cam/targetHelpers.js';
import { argmaxPerRow, classCount } from '../cam/targets.js';
import type { Target, TargetFunction } from '../cam/types.js';
import { withForwardHooks } from '../layers/hooks.js';
import type { Module } from '../layers/module.js';
import { noGrad } from '../tensor/autograd.js';
import { Tensor, shapeString } from '../tensor/tensor.js';
import { UsageError } from './args-error.js';
import { suggestReshape } from './reshape-option.js';

/**
 * What the command explains, classes resolved to indices: a class of an
 * [N, K] output, a segmentation class, or a detector's box.
 */
export type CommandTarget = number | { kind: 'seg'; class: number } | { kind: 'box'; class: number; box: Box; format?: BoxFormat };

/** What was explained, as printed and in --json. */
export interface TargetFacts {
  /** class: a class score of [N, K]; raw: the output itself (one value per image); segmentation; box. */
  targetKind: 'class' | 'raw' | 'segmentation' | 'box';
  /** The explained output's shape. */
  outputShape: number[];
  /** The target's score for the image: the logit (or probability), the raw value, the mask sum, the box score. */
  score: number;
  /** segmentation: the pixels of the mask ('argmax': where the class wins; 'all': every pixel, when it wins nowhere). */
  mask?: { rule: 'argmax' | 'all'; pixels: number; of: number };
  box?: Box;
  boxFormat?: BoxFormat;
}

/** The target to pass to the method, and how to read its score and facts once the class is known. */
export interface PlannedTarget {
  target?: Target;
  /** The facts, once the method has run: the class it explained and the logits it returns (the explained output). */
  facts: (explainedClass: number | null, logits: Tensor) => TargetFacts;
}

/** A class score of [N, K] logits (the top class when none is given), read from the method's own result. */
function classPlan(target: number | undefined): PlannedTarget {
  return {
    ...(target !== undefined ? { target } : {}),
    facts: (c, logits) => ({ targetKind: 'class', outputShape: [...logits.shape], score: logits.data[c ?? argmaxPerRow(logits)[0]!] ?? Number.NaN }),
  };
}

const FORMS = "--target seg:<class> for a per-pixel output [N, K, H, W], --target box:<class>@x1,y1,x2,y2 for a detector's output";

/** The output's per-image count of values (all rows the same size). */
const perImage = (t: Tensor) => (t.shape[0] ? t.size / t.shape[0] : 0);

/** Pixels where `c` is the argmax over axis 1 of the first image of a [N, K, ...spatial] output. */
function argmaxMask(output: Tensor, c: number): Tensor {
  const k = output.shape[1]!;
  const spatial = output.shape.slice(2);
  const pixels = spatial.reduce((a, b) => a * b, 1);
  const mask = new Float32Array(pixels);
  for (let p = 0; p < pixels; p++) {
    let best = 0;
    for (let j = 1; j < k; j++) if (output.data[j * pixels + p]! > output.data[best * pixels + p]!) best = j;
    mask[p] = best === c ? 1 : 0;
  }
  return new Tensor(mask, spatial);
}

/**
 * One forward pass without gradients (in eval mode, as the methods run):
 * the explained output, every output by name, and the shapes of `layers`.
 * A token layer [N, T, C] without --reshape is a usage error that gives
 * the --reshape to pass. Then the target the command's --target stands for.
 */
export function planTarget(
  model: Module,
  input: Tensor,
  settings: { target?: CommandTarget; output?: string; explainProbability: boolean; layer?: string | string[]; checkTokens: boolean; knownClassifier?: boolean },
): PlannedTarget {
  // Once an earlier image of the run was found to be a classifier (same model, layer and input size),
  // a class target needs no probe: the method's own pass checks the rest.
  if (settings.knownClassifier && (settings.target === undefined || typeof settings.target === 'number')) return classPlan(settings.target);
  const layers = settings.layer !== undefined ? resolveLayers(model, settings.layer, 'explain') : [];
  const shapes = new Map<string, number[]>();
  const probe = inEvalMode(model, () =>
    withForwardHooks(layers.map((l) => [l.name, l.module] as const), (name, _m, _inputs, out) => void shapes.set(name, [...out.shape]), () =>
      noGrad(() => runForExplanation(model, input, { ...(settings.output !== undefined ? { output: settings.output } : {}), explainProbability: settings.explainProbability }, 'explain')),
    ),
  );
  if (settings.checkTokens && input.ndim === 4) {
    for (const [name, shape] of shapes) {
      if (shape.length !== 3) continue;
      const { flag, why } = suggestReshape(shape[1]!);
      throw new UsageError(`layer '${name}' outputs tokens ${shapeString(shape)}, not [N, C, h, w]; pass --reshape ${flag} (${why}), or --reshape swin for a channels-last layer`);
    }
  }
  const explained = probe.explained;
  const outputShape = [...explained.shape];
  const scoreOf = (fn: TargetFunction) => noGrad(() => fn(explained, [0], probe.outputs)).data[0]!;
  const where = `output '${probe.name}' ${shapeString(explained.shape)}`;
  const target = settings.target;

  if (target === undefined || typeof target === 'number') {
    // One value per image ([N] or [N, 1], a regression): explained as it is, with no table of one class.
    if (target === undefined && perImage(explained) === 1) {
      const raw = rawTarget();
      return { target: raw, facts: () => ({ targetKind: 'raw', outputShape, score: scoreOf(raw) }) };
    }
    if (classCount(explained) !== null) return classPlan(target);
    throw new UsageError(
      `${where} is not class scores [N, K], so ${target === undefined ? 'there is no top class to explain' : `--target ${target} does not pick a class of it`}; pass ${FORMS}, or explain another output with --output (outputs: ${Object.keys(probe.outputs).join(', ')})`,
    );
  }

  if (target.kind === 'seg') {
    if (explained.ndim < 3) throw new UsageError(`--target seg:${target.class} needs a per-pixel output [N, K, H, W]; ${where} is not one (choose another with --output)`);
    const wins = argmaxMask(explained, target.class);
    const pixels = wins.data.reduce((a, b) => a + b, 0);
    const mask = pixels > 0 ? wins : new Tensor(new Float32Array(wins.size).fill(1), wins.shape);
    const fn = segmentationTarget(target.class, mask);
    return {
      target: fn,
      facts: () => ({ targetKind: 'segmentation', outputShape, score: scoreOf(fn), mask: { rule: pixels > 0 ? 'argmax' : 'all', pixels: pixels > 0 ? pixels : wins.size, of: wins.size } }),
    };
  }

  const tv = ['boxes', 'labels', 'scores'].every((n) => n in probe.outputs);
  const format: BoxFormat | undefined = target.format ?? (tv ? 'torchvision' : explained.ndim === 3 ? (explained.shape[1]! <= explained.shape[2]! ? 'yolov8' : 'yolov5') : undefined);
  if (!format) {
    throw new UsageError(`--target box: needs a detector's output: YOLO's [N, 4 + K, anchors] or [N, anchors, 5 + K], or torchvision's boxes, labels and scores outputs; ${where} is none of them (choose another with --output, or give --box-format)`);
  }
  const fn = boxTarget(target.box, target.class, { format });
  return { target: fn, facts: () => ({ targetKind: 'box', outputShape, score: scoreOf(fn), box: target.box, boxFormat: format }) };
}
