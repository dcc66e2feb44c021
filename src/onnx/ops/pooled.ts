import { isGradEnabled } from '../../tensor/autograd.js';
import { kernels } from '../../tensor/backend.js';
import { takeBuffer } from '../../tensor/buffer-pool.js';
import { add } from '../../tensor/ops/elementwise.js';
import { batchNormEvalInto } from '../../tensor/ops/norm.js';
import { Tensor, sameShape } from '../../tensor/tensor.js';

/*
 * Outputs from the buffer pool (tensor/buffer-pool.ts) for the ops an ONNX
 * CNN runs besides Conv and MaxPool (which take theirs in the tensor ops):
 * Relu, BatchNormalization in eval mode, and same-shape Add / Sum. An ONNX
 * graph runs these as nodes of their own, not fused, and the graph runner
 * gives their spent outputs back (layers/graphRecycling.ts); taking the next
 * outputs from those buffers is what makes the pool's steady state a reuse
 * instead of a heap of buffers only a convolution of that size would take.
 *
 * Only when nothing records a gradient (there is then no backward rule to
 * attach), and only when the pool has a buffer of that length; otherwise the
 * tensor op runs as before. Each writes every element with the kernel the
 * tensor op calls, in the same order, so the values are the tensor op's bit
 * for bit, and a buffer taken from the pool is held by no one else.
 */

const records = (...tensors: readonly (Tensor | null)[]): boolean => isGradEnabled() && tensors.some((t) => t?.requiresGrad);

/** relu(x) (the 'standard' backward rule or any: none is recorded) into a pooled buffer, or null. */
export function pooledRelu(x: Tensor): Tensor | null {
  if (records(x)) return null;
  const out = takeBuffer(x.size);
  if (!out) return null;
  kernels().relu(x.data, out);
  return new Tensor(out, x.shape);
}

/** a + b for tensors of one shape into a pooled buffer, else the tensor op's add. */
export function pooledAdd(a: Tensor, b: Tensor): Tensor {
  const out = sameShape(a.shape, b.shape) && !records(a, b) ? takeBuffer(a.size) : null;
  if (!out) return add(a, b);
  kernels().add(a.data, b.data, out);
  return new Tensor(out, a.shape);
}

/**
 * Eval-mode batch norm of x [N, C, ...] with per-channel [C] statistics and
 * parameters into a pooled buffer, or null (then batchNorm runs, with its
 * checks and errors).
 */
export function pooledBatchNormEval(x: Tensor, mean: Tensor, variance: Tensor, scale: Tensor, bias: Tensor, eps: number): Tensor | null {
  if (x.ndim < 2 || !(eps >= 0) || records(x, scale, bias)) return null;
  const channels = x.shape[1]!;
  if (![mean, variance, scale, bias].every((t) => t.ndim === 1 && t.size === channels)) return null;
  const out = takeBuffer(x.size);
  if (!out) return null;
  return batchNormEvalInto(x, out, mean, variance, scale, bias, eps, false);
}
