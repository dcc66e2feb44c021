import { Tensor } from '../tensor.js';
import { notImplemented } from '../todo.js';

/** Matrix product as torch.matmul: 1-D, 2-D and batched (leading axes broadcast). */
export function matmul(a: Tensor, b: Tensor): Tensor { return notImplemented('matmul', a, b); }
/** x @ weight^T + bias, weight [out, in] (torch.nn.functional.linear); x [..., in]. */
export function linear(x: Tensor, weight: Tensor, bias?: Tensor | null): Tensor { return notImplemented('linear', x, weight, bias); }
