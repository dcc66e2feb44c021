import { isGradEnabled } from '../tensor/autograd.js';
import { kernels } from '../tensor/backend.js';
import { add } from '../tensor/ops/elementwise.js';
import { batchNormEvalAffine, batchNormEvalInto } from '../tensor/ops/norm.js';
import { sameShape, type Tensor } from '../tensor/tensor.js';
import { ReLU, ReLU6 } from './activation.js';
import { Conv2d } from './conv.js';
import type { Module } from './module.js';
import { BatchNorm2d } from './normalization.js';
import { recycleSpent, sealed } from './recycling.js';
import { bufferToOverwrite } from '../tensor/buffer-pool.js';

/**
 * conv -> batch norm -> ReLU (and add -> ReLU) in one pass over memory, where
 * nothing can tell the difference: in evaluation mode, when nothing records
 * a gradient through them (a CAM's frozen forward pass up to its layer, any
 * forward under noGrad) and none of the modules has a hook. The batch norm
 * (and ReLU) then go to the kernels with the convolution, which apply them to
 * its output before anyone has seen it (conv2dThen; on WebAssembly before the
 * output leaves the module's memory), and a residual sum and its ReLU run in
 * place over it: no activations of their own, so fewer fresh buffers and
 * less garbage-collector work, and fewer passes and copies. The values are
 * the unfused ones bit for bit (the same kernels, in the same order). In
 * every other case the modules run one after another as written.
 */

/** A module called as its class defines it, with nothing watching. */
const unwatched = (m: Module): boolean => m.hookCount() === 0;

/** An exact ReLU (not a subclass or a replacement, e.g. guided backprop's), unwatched. */
export function isPlainRelu(m: Module | null | undefined): m is ReLU {
  return m !== null && m !== undefined && m.constructor === ReLU && unwatched(m);
}

/** An exact ReLU6 (MobileNetV2's activation), unwatched. */
export function isPlainRelu6(m: Module | null | undefined): m is ReLU6 {
  return m !== null && m !== undefined && m.constructor === ReLU6 && unwatched(m);
}

/** A BatchNorm2d in evaluation mode with running statistics, unwatched. */
export function isFoldableBatchNorm(m: Module | null | undefined): m is BatchNorm2d {
  if (m === null || m === undefined || m.constructor !== BatchNorm2d) return false;
  const bn = m as BatchNorm2d;
  return unwatched(bn) && !bn.training && bn.running_mean !== null && bn.running_var !== null;
}

/** A Conv2d (its output is always a fresh tensor), unwatched. */
export function isPlainConv(m: Module | null | undefined): m is Conv2d {
  return m !== null && m !== undefined && m.constructor === Conv2d && unwatched(m);
}

/**
 * conv.forward(x), and whether the convolution was plain for the whole call:
 * a hook that saw its output and removed itself while it ran leaves the
 * module unwatched afterwards, but that output is no longer private.
 */
function convPrivately(conv: Module, x: Tensor): { y: Tensor; plain: boolean } {
  const before = isPlainConv(conv);
  const y = conv.forward(x);
  return { y, plain: before && isPlainConv(conv) };
}

/** Whether batch norm over `x` would record a gradient. */
const records = (x: Tensor, bn: BatchNorm2d): boolean =>
  isGradEnabled() && (x.requiresGrad || (bn.weight?.requiresGrad ?? false) || (bn.bias?.requiresGrad ?? false));

/** Whether `x` fits `bn` (else its forward raises the error). */
const fits = (x: Tensor, bn: BatchNorm2d): boolean => x.ndim === 4 && x.shape[1] === bn.numFeatures;

/**
 * Whether conv -> bn can run as one convolution whose kernels apply the
 * batch norm (conv2dThen): the conv and bn foldable, the conv's output fits
 * the bn, and nothing records a gradient through either. The kernels then
 * copy the output out of their memory once instead of three times
 * (WebAssembly), with the same values.
 */
function foldsIntoConv(conv: Module, bn: Module, x: Tensor): boolean {
  if (!isPlainConv(conv) || !isFoldableBatchNorm(bn) || conv.outChannels !== bn.numFeatures) return false;
  const params = [conv.weight, conv.bias, bn.weight, bn.bias];
  return !(isGradEnabled() && (x.requiresGrad || params.some((p) => p?.requiresGrad)));
}

/** bn's evaluation-mode scale and shift (then ReLU when asked), for conv2dThen. */
const affineOf = (bn: BatchNorm2d, reluAfter: boolean) => batchNormEvalAffine(bn.running_mean!, bn.running_var!, bn.weight, bn.bias, bn.eps, reluAfter);

/** relu(bn(conv(x))) (ReLU or ReLU6), or bn(conv(x)) when relu is null. */
export function convBnRelu(conv: Module, bn: Module, relu: Module | null, x: Tensor): Tensor {
  const six = isPlainRelu6(relu);
  if ((relu === null || six || isPlainRelu(relu)) && foldsIntoConv(conv, bn, x)) {
    const y = (conv as Conv2d).convolve(x, affineOf(bn as BatchNorm2d, relu !== null && !six));
    if (six) kernels().relu6(y.data, y.data);
    return y;
  }
  return bnRelu(bn, relu, conv.forward(x));
}

/** relu(conv(x)) (VGG without batch norm): the ReLU in place over the convolution's output. */
export function convRelu(conv: Module, relu: Module, x: Tensor): Tensor {
  const { y, plain } = convPrivately(conv, x);
  if (plain && isPlainRelu(relu) && !(isGradEnabled() && y.requiresGrad)) {
    kernels().relu(y.data, y.data);
    return y;
  }
  return relu.forward(y);
}

/** relu(bn(x)), or bn(x) when relu is null: one output instead of two. */
export function bnRelu(bn: Module, relu: Module | null, x: Tensor): Tensor {
  if (relu !== null && isFoldableBatchNorm(bn) && isPlainRelu(relu) && fits(x, bn) && !records(x, bn)) {
    return batchNormEvalInto(x, bufferToOverwrite(x.size), bn.running_mean!, bn.running_var!, bn.weight, bn.bias, bn.eps, true);
  }
  const y = bn.forward(x);
  return relu ? relu.forward(y) : y;
}

/** relu(a + b): the sum's buffer takes the ReLU in place. */
export function addRelu(a: Tensor, b: Tensor, relu: Module): Tensor {
  const sum = add(a, b);
  if (isPlainRelu(relu) && !(isGradEnabled() && sum.requiresGrad)) {
    kernels().relu(sum.data, sum.data);
    return sum;
  }
  return relu.forward(sum);
}

/**
 * relu(bn(conv(x)) + shortcut()): a residual block's tail. The shortcut runs
 * after the batch norm, as the blocks are written; when the batch norm is
 * fused, the sum and the ReLU go in place too (no buffer of their own).
 */
export function convBnAddRelu(conv: Module, bn: Module, x: Tensor, shortcut: () => Tensor, relu: Module): Tensor {
  if (isPlainRelu(relu) && foldsIntoConv(conv, bn, x)) {
    const y = (conv as Conv2d).convolve(x, affineOf(bn as BatchNorm2d, false));
    const identity = shortcut();
    if (sameShape(identity.shape, y.shape) && !(isGradEnabled() && identity.requiresGrad)) {
      kernels().add(y.data, identity.data, y.data, true);
      return y;
    }
    return addRelu(y, identity, relu);
  }
  const z = bn.forward(conv.forward(x));
  return addRelu(z, shortcut(), relu);
}

/** The modules one step of runSequence runs together from position `i`: a run it fuses, or one module. */
function stepAt(modules: readonly Module[], i: number): readonly Module[] {
  const [m, next, after] = [modules[i]!, modules[i + 1], modules[i + 2]];
  if (m instanceof Conv2d && next instanceof BatchNorm2d) return after instanceof ReLU || after instanceof ReLU6 ? [m, next, after] : [m, next];
  if ((m instanceof Conv2d || m instanceof BatchNorm2d) && next instanceof ReLU) return [m, next];
  return [m];
}

/** Run one step (see stepAt) on `x`. */
function runStep([m, next, after]: readonly Module[], x: Tensor): Tensor {
  if (m instanceof Conv2d && next instanceof BatchNorm2d) return convBnRelu(m, next, after ?? null, x);
  if (m instanceof Conv2d && next) return convRelu(m, next, x);
  if (m instanceof BatchNorm2d && next) return bnRelu(m, next, x);
  return m!.forward(x);
}

/**
 * A Sequential's children run in order, with conv -> batch norm (-> ReLU),
 * conv -> ReLU and batch norm -> ReLU runs fused where the rules above allow.
 * What one step made and the next consumed goes back to the buffer pool
 * when both steps are sealed (./recycling.ts), before they ran and after (a
 * hook that removes itself while it runs saw the tensors); the sequence's
 * input never does.
 */
export function runSequence(modules: readonly Module[], x: Tensor): Tensor {
  let out = x;
  let madeBySealedStep = false;
  for (let i = 0; i < modules.length; ) {
    const step = stepAt(modules, i);
    const sealedBefore = step.every(sealed);
    const result = runStep(step, out);
    const stepSealed = sealedBefore && step.every(sealed);
    if (madeBySealedStep && stepSealed) recycleSpent(out, result);
    out = result;
    madeBySealedStep = stepSealed;
    i += step.length;
  }
  return out;
}
