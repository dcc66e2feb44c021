import { abs, div, mul, sub } from '../../tensor/ops/elementwise.js';
import { ceil, floor, round, sign } from '../../tensor/ops/rounding.js';
import { erf, gelu, mish } from '../../tensor/ops/smoothActivations.js';
import { binaryMap } from '../../tensor/broadcast.js';
import { isIntegerType } from '../tensorData.js';
import { input, nodeError, type OpImpl } from './types.js';

/*
 * Elementwise math beyond arithmetic: erf (GELU before opset 20), Gelu
 * (opset 20), Mish (opset 18), Reciprocal, Abs, the rounding ops (no
 * gradient) and Mod.
 */

/**
 * Mod: fmod = 0 takes the sign of the divisor (Python's %, integers only),
 * fmod = 1 the sign of the dividend (C's fmod). Written a - b * q with the
 * quotient q = floor(a / b) or trunc(a / b) held constant, so the gradient is
 * PyTorch's (remainder / fmod): 1 for a, -q for b. Integer inputs carry no
 * gradient.
 */
const mod: OpImpl = (call) => {
  const fmod = call.attrs.int('fmod', 0) !== 0;
  const integer = isIntegerType(call.inputTypes[0]!);
  if (!fmod && !integer) throw nodeError(call, 'fmod = 0 on floating-point inputs is not defined by ONNX (accepted: fmod = 1 for floats)');
  const a = integer ? input(call, 0).detach() : input(call, 0);
  const b = integer ? input(call, 1).detach() : input(call, 1);
  const q = binaryMap(a.detach(), b.detach(), 'Mod', (x, y) => (fmod ? Math.trunc(x / y) : Math.floor(x / y)));
  const r = sub(a, mul(b, q));
  if (!integer) return r;
  // Integer division by zero: ONNX leaves it undefined; keep 0 rather than NaN.
  for (let i = 0; i < r.data.length; i++) if (!Number.isFinite(r.data[i]!)) r.data[i] = 0;
  return r;
};

const geluOp: OpImpl = (call) => {
  const approximate = call.attrs.string('approximate', 'none');
  if (approximate !== 'none' && approximate !== 'tanh') throw nodeError(call, `approximate '${approximate}' is not supported (accepted: none, tanh)`);
  return gelu(input(call, 0), approximate);
};

export const mathOps = {
  Erf: (call) => erf(input(call, 0)),
  Gelu: geluOp,
  Mish: (call) => mish(input(call, 0)),
  Reciprocal: (call) => div(1, input(call, 0)),
  Abs: (call) => abs(input(call, 0)),
  Floor: (call) => floor(input(call, 0)),
  Ceil: (call) => ceil(input(call, 0)),
  Round: (call) => round(input(call, 0)),
  Sign: (call) => sign(input(call, 0)),
  Mod: mod,
} satisfies Record<string, OpImpl>;
