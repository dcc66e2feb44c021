import {
  clip, elu, hardSigmoid, hardSwish, leakyRelu, prelu, relu, selu, sigmoid, softplus, tanh,
} from '../../tensor/ops/activations.js';
import { dropout } from '../../tensor/ops/dropout.js';
import { add, div, exp, log, maximum, minimum, mul, neg, pow, sqrt, sub } from '../../tensor/ops/elementwise.js';
import { reshape } from '../../tensor/ops/shape.js';
import { record } from '../../tensor/autograd.js';
import { Tensor } from '../../tensor/tensor.js';
import { DataType, isIntegerType } from '../tensorData.js';
import { input, nodeError, type OpCall, type OpImpl } from './types.js';

/** Arithmetic, activations and the pass-through ops. Broadcasting is NumPy's (opset 7+). */

const binary = (f: (a: Tensor, b: Tensor) => Tensor): OpImpl => (call) => f(input(call, 0), legacyBroadcast(call, 1));

/**
 * Before opset 7, Add/Sub/Mul/Div/Pow broadcast B onto A only with
 * broadcast = 1, and `axis` says where B's axes start in A (NumPy aligns at
 * the end). Reshaping B with trailing 1s turns the old rule into NumPy's.
 */
function legacyBroadcast(call: OpCall, index: number): Tensor {
  const b = input(call, index);
  if (call.opset >= 7 || !call.attrs.has('axis') || call.attrs.int('broadcast', 0) === 0) return b;
  const a = input(call, 0);
  let axis = call.attrs.int('axis', 0);
  if (axis < 0) axis += a.ndim;
  const trailing = a.ndim - axis - b.ndim;
  if (axis < 0 || trailing < 0) {
    throw nodeError(call, `legacy broadcast of [${b.shape.join(', ')}] at axis ${call.attrs.int('axis', 0)} does not fit [${a.shape.join(', ')}]`);
  }
  return reshape(b, [...b.shape, ...new Array<number>(trailing).fill(1)]);
}

/** Integer Div truncates toward zero (as ONNX on int64 tensors); float Div is exact division. */
const divide: OpImpl = (call) => {
  const q = div(input(call, 0), legacyBroadcast(call, 1));
  if (!isIntegerType(call.inputTypes[0]!)) return q;
  const d = q.data;
  for (let i = 0; i < d.length; i++) d[i] = Math.trunc(d[i]!);
  return q;
};

/** Variadic ops (Sum, Max, Min) fold their inputs pairwise with broadcasting. */
const variadic = (f: (a: Tensor, b: Tensor) => Tensor): OpImpl => (call) => {
  let acc = input(call, 0);
  // One input: still a tensor of its own, so hooks on this node see only its output.
  if (call.inputs.length === 1) return identity(acc);
  for (let i = 1; i < call.inputs.length; i++) acc = f(acc, input(call, i));
  return acc;
};

const unary = (f: (x: Tensor) => Tensor): OpImpl => (call) => f(input(call, 0));

/** Clip: min/max attributes before opset 11, optional inputs from 11 on. */
const clipOp: OpImpl = (call) => {
  const x = input(call, 0);
  if (call.attrs.has('min') || call.attrs.has('max')) {
    return clip(x, call.attrs.float('min', -Infinity), call.attrs.float('max', Infinity));
  }
  const lo = call.inputs[1];
  const hi = call.inputs[2];
  return clip(x, lo ? lo.data[0] : undefined, hi ? hi.data[0] : undefined);
};

/**
 * PRelu: ONNX broadcasts the slope onto X. The engine's prelu takes one
 * slope or one per channel (axis 1), which covers the shapes exporters write
 * ([C], [C,1,1], [1]); other slope shapes use relu(x) + slope * min(x, 0).
 */
const preluOp: OpImpl = (call) => {
  const x = input(call, 0);
  const slope = input(call, 1);
  const channels = x.ndim > 1 ? x.shape[1]! : 1;
  const trailingOnes = slope.shape.slice(1).every((d) => d === 1);
  // Right-aligned broadcasting puts a [C,1,...,1] slope of rank ndim-1 on axis 1.
  // Before opset 7 the slope was per channel whatever its rank.
  const perChannel = slope.size === channels && ((slope.ndim === x.ndim - 1 && trailingOnes) || call.opset < 7);
  if (slope.size === 1 || perChannel) return prelu(x, reshape(slope, [slope.size]));
  return add(relu(x), mul(slope, minimum(x, 0)));
};

/** Selu with ONNX's attributes; the defaults are PyTorch's constants. */
const seluOp: OpImpl = (call) => {
  const x = input(call, 0);
  const alpha = call.attrs.float('alpha', 1.67326319217681884765625);
  const gamma = call.attrs.float('gamma', 1.05070102214813232421875);
  if (Math.abs(alpha - 1.6732632423543772) < 1e-6 && Math.abs(gamma - 1.0507009873554805) < 1e-6) return selu(x);
  return mul(elu(x, alpha), gamma);
};

/**
 * Dropout: identity in eval mode (the mask output is all ones). In training
 * mode it drops with `ratio` (attribute before opset 12, input after), and
 * from opset 12 only if the training_mode input says so.
 */
const dropoutOp: OpImpl = (call) => {
  const x = input(call, 0);
  const ratio = call.attrs.has('ratio') ? call.attrs.float('ratio', 0.5) : (call.inputs[1]?.data[0] ?? 0.5);
  const modeInput = call.inputs[2];
  const training = modeInput ? modeInput.data[0] !== 0 : call.training;
  call.outputTypes = [call.inputTypes[0]!, DataType.BOOL];
  const out = training && ratio > 0 ? dropout(x, ratio, true) : x;
  if (call.node.outputs.length < 2) return out;
  const mask = new Float32Array(x.size);
  if (training && ratio > 0) for (let i = 0; i < mask.length; i++) mask[i] = out.data[i] !== 0 ? 1 : 0;
  else mask.fill(1);
  return [out, new Tensor(mask, x.shape)];
};

/**
 * Cast: values stay float32 (see tensorData.ts); casting to an integer type
 * rounds toward zero and to bool maps non-zero to 1, with no gradient (the
 * result is piecewise constant). Casting between float types passes through.
 */
const castOp: OpImpl = (call) => {
  const x = input(call, 0);
  const to = call.attrs.int('to', DataType.FLOAT);
  call.outputTypes = [to];
  if (to === DataType.FLOAT || to === DataType.DOUBLE || to === DataType.FLOAT16 || to === DataType.BFLOAT16) {
    return identity(x);
  }
  if (to === DataType.STRING) throw nodeError(call, 'Cast to string is not supported (accepted: numeric and bool types)');
  const out = new Float32Array(x.size);
  const d = x.data;
  if (to === DataType.BOOL) for (let i = 0; i < d.length; i++) out[i] = d[i] !== 0 ? 1 : 0;
  else for (let i = 0; i < d.length; i++) out[i] = Math.trunc(d[i]!);
  return new Tensor(out, x.shape);
};

/**
 * A new tensor sharing x's data, with a pass-through gradient. Each node
 * output is its own tensor object, so a hook on one layer never sees
 * another layer's tensor.
 */
export function identity(x: Tensor): Tensor {
  return record('identity', new Tensor(x.data, x.shape), [x], (g) => [g], { tangent: ([dx]) => dx! });
}

export const elementwiseOps: Record<string, OpImpl> = {
  Add: binary(add),
  Sub: binary(sub),
  Mul: binary(mul),
  Div: divide,
  Pow: binary(pow),
  Sum: variadic(add),
  Max: variadic(maximum),
  Min: variadic(minimum),
  Neg: unary(neg),
  Exp: unary(exp),
  Log: unary(log),
  Sqrt: unary(sqrt),
  Relu: (call) => relu(input(call, 0), { backwardRule: call.backwardRule }),
  Clip: clipOp,
  LeakyRelu: (call) => leakyRelu(input(call, 0), call.attrs.float('alpha', 0.01)),
  PRelu: preluOp,
  Elu: (call) => elu(input(call, 0), call.attrs.float('alpha', 1)),
  Selu: seluOp,
  Sigmoid: unary(sigmoid),
  Tanh: unary(tanh),
  HardSigmoid: (call) =>
    hardSigmoid(input(call, 0), { alpha: call.attrs.float('alpha', 0.2), beta: call.attrs.float('beta', 0.5) }),
  HardSwish: unary(hardSwish),
  Softplus: unary((x) => softplus(x)),
  Identity: unary(identity),
  Dropout: dropoutOp,
  Cast: castOp,
};
