import { enableGrad, grad } from '../tensor/autograd.js';
import type { ReluBackwardRule } from '../tensor/ops/activations.js';
import type { Tensor } from '../tensor/tensor.js';
import { isReluModule } from '../layers/reluModule.js';
import type { Module } from '../layers/module.js';
import { checkInput, inEvalMode } from './capture.js';
import { runForExplanation } from './output.js';
import { resolveClassTargets, rowIndices, scoreAndSeed } from './targets.js';
import type { GradientOptions, GradientResult } from './types.js';

/**
 * Run `fn` with every ReLU module (isReluModule; never ReLU6 or functional
 * relu, as pytorch-grad-cam) using `rule` in its backward pass, and put each
 * module's own rule back afterwards, even when `fn` throws.
 */
export function withReluBackward<T>(model: Module, rule: ReluBackwardRule | undefined, fn: () => T): T {
  if (!rule) return fn();
  const relus = model.modules().filter(isReluModule);
  const saved = relus.map((m) => ({ had: Object.prototype.hasOwnProperty.call(m, 'backwardRule'), rule: m.backwardRule }));
  try {
    for (const m of relus) m.backwardRule = rule;
    return fn();
  } finally {
    relus.forEach((m, i) => {
      if (saved[i]!.had) m.backwardRule = saved[i]!.rule;
      else delete (m as { backwardRule?: ReluBackwardRule }).backwardRule;
    });
  }
}

/**
 * d score / d input for a batch, in eval mode, optionally with guided or
 * deconvnet ReLU backward rules. Each image gets the gradient of its own
 * score from one backward pass.
 */
export function inputGradients(model: Module, input: Tensor, options: GradientOptions, fn: string, rule?: ReluBackwardRule): GradientResult {
  checkInput(input, fn);
  return inEvalMode(model, () =>
    withReluBackward(model, rule, () => {
      const x = input.requireGrad();
      return enableGrad(() => {
        const run = runForExplanation(model, x, options, fn);
        const images = rowIndices(input.shape[0]!);
        const classes = resolveClassTargets(options.target, run.explained, images.length, fn);
        const { scores, seed } = scoreAndSeed(options.target, classes, run.explained, fn, images, run.outputs);
        const [gradients] = grad(scores, [x], { gradOutput: seed });
        return { gradients: gradients!.detach(), targets: classes, logits: run.logits.detach(), output: run.name };
      });
    }),
  );
}
