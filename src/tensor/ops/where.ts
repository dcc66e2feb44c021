import { record } from '../autograd.js';
import { broadcastIndex, broadcastShapes, sumToShape } from '../broadcast.js';
import { Tensor, sizeOf } from '../tensor.js';

/**
 * where(cond, a, b): a where cond is non-zero, else b, with NumPy
 * broadcasting of all three (torch.where, ONNX Where). The condition is a
 * mask and gets no gradient; a's gradient is g where cond, b's where not,
 * each summed back to its own shape.
 */
export function where(cond: Tensor, a: Tensor, b: Tensor): Tensor {
  const shape = broadcastShapes(broadcastShapes(cond.shape, a.shape, 'where'), b.shape, 'where');
  const n = sizeOf(shape);
  const ci = broadcastIndex(cond.shape, shape);
  const ai = broadcastIndex(a.shape, shape);
  const bi = broadcastIndex(b.shape, shape);
  const mask = new Uint8Array(n);
  const out = new Float32Array(n);
  const cd = cond.data;
  const ad = a.data;
  const bd = b.data;
  for (let i = 0; i < n; i++) {
    const take = cd[ci ? ci[i]! : i] !== 0;
    mask[i] = take ? 1 : 0;
    out[i] = take ? ad[ai ? ai[i]! : i]! : bd[bi ? bi[i]! : i]!;
  }
  return record('where', new Tensor(out, shape), [a, b], (g, needs) => {
    const gd = g.data;
    const pick = (keep: number): Tensor => {
      const part = new Float32Array(n);
      for (let i = 0; i < n; i++) if (mask[i] === keep) part[i] = gd[i]!;
      return new Tensor(part, shape);
    };
    return [needs[0] ? sumToShape(pick(1), a.shape) : null, needs[1] ? sumToShape(pick(0), b.shape) : null];
  });
}
