import { unaryMap } from '../broadcast.js';
import type { Tensor } from '../tensor.js';

/**
 * Piecewise-constant elementwise ops. Their derivative is 0 wherever it
 * exists (PyTorch's floor, ceil, round and sign backward give zeros), so
 * they record no backward rule: no gradient flows through them.
 */

export function floor(x: Tensor): Tensor {
  return unaryMap(x, Math.floor);
}

export function ceil(x: Tensor): Tensor {
  return unaryMap(x, Math.ceil);
}

/** Round half to even, as torch.round and ONNX Round. */
export function round(x: Tensor): Tensor {
  return unaryMap(x, (v) => {
    const r = Math.round(v);
    return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
  });
}

/** -1, 0 or 1 (NaN stays NaN). */
export function sign(x: Tensor): Tensor {
  return unaryMap(x, (v) => (v > 0 ? 1 : v < 0 ? -1 : v));
}
