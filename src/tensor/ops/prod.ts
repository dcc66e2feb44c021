import { record } from '../autograd.js';
import { ArgumentError } from '../errors.js';
import { Tensor, normalizeAxis } from '../tensor.js';
import { permute, reshape } from './shape.js';

/**
 * Product over `axes` (all when omitted or empty), as torch.prod and ONNX
 * ReduceProd. The reduced axes are moved last so each product is one
 * contiguous run; the gradient of each factor is the product of the others,
 * taken from prefix and suffix products so zeros need no division.
 */
export function prod(x: Tensor, axes?: number | readonly number[], keepdim = false): Tensor {
  const list = axes === undefined ? [] : typeof axes === 'number' ? [axes] : [...axes];
  const reduced = new Array<boolean>(x.ndim).fill(list.length === 0);
  for (const a of list) {
    const n = normalizeAxis(a, x.ndim, 'prod');
    if (reduced[n]) throw new ArgumentError(`prod: axis ${a} appears more than once in [${list.join(', ')}]`);
    reduced[n] = true;
  }
  const kept = x.shape.map((_, i) => i).filter((i) => !reduced[i]);
  const gone = x.shape.map((_, i) => i).filter((i) => reduced[i]);
  const moved = gone.length && kept.some((k, i) => k !== i) ? permute(x, [...kept, ...gone]) : x;
  let count = 1;
  for (const a of gone) count *= x.shape[a]!;
  const rows = count === 0 ? kept.reduce((s, a) => s * x.shape[a]!, 1) : moved.size / count;
  const src = moved.data;
  const out = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    let p = 1;
    for (let j = 0; j < count; j++) p *= src[r * count + j]!;
    out[r] = p;
  }
  const outShape = keepdim ? x.shape.map((d, i) => (reduced[i] ? 1 : d)) : kept.map((a) => x.shape[a]!);
  const flat = record('prod', new Tensor(out, [rows]), [moved], (g) => {
    const gi = new Float32Array(moved.size);
    const before = new Float64Array(count);
    for (let r = 0; r < rows; r++) {
      let p = 1;
      for (let j = 0; j < count; j++) {
        before[j] = p;
        p *= src[r * count + j]!;
      }
      let after = 1;
      for (let j = count - 1; j >= 0; j--) {
        gi[r * count + j] = g.data[r]! * before[j]! * after;
        after *= src[r * count + j]!;
      }
    }
    return [new Tensor(gi, moved.shape)];
  });
  return reshape(flat, outShape);
}
