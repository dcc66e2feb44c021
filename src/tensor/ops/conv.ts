import { isGradEnabled, record } from '../autograd.js';
import { tangentSum, weightCurvature } from '../tangent.js';
import { ArgumentError, ShapeError } from '../errors.js';
import { kernels } from '../backend.js';
import type { ChannelAffine, ConvLayout as Layout } from '../kernels/kernels.js';
import { Tensor, shapeString } from '../tensor.js';
import { pair, pads, type Pair, type Padding2d } from './spatial.js';
import { allocate, chargeWork, checkElements } from '../limits.js';
import { bufferToOverwrite, zeroedBuffer } from '../buffer-pool.js';

/**
 * 2-D convolution and transposed convolution as im2col + GEMM per image and
 * group, through the kernels of the current backend (../backend.ts,
 * ../kernels/kernels.ts). With W_g the group's weight as a matrix
 * [Cout/g, Cin/g*kh*kw] and col = im2col(x):
 *
 *   conv2d forward      y   = W_g col             (+ bias)
 *          d input      dx  = col2im(W_g^T dy)
 *          d weight     dW += dy col^T
 *   convTranspose2d is conv2d's input gradient, so its forward is
 *   col2im(W_g^T x), its input gradient is W_g im2col(dy) (a conv2d), and
 *   its weight gradient is x im2col(dy)^T.
 *
 * Each backward product runs only when that gradient is needed. Depthwise
 * convolutions (one input channel per group) use direct loops instead
 * (../kernels/depthwise.ts).
 */

export type { Pair, Padding2d } from './spatial.js';

export interface Conv2dOptions {
  stride?: Pair;
  padding?: Padding2d;
  dilation?: Pair;
  groups?: number;
}

export interface ConvTranspose2dOptions extends Conv2dOptions {
  outputPadding?: Pair;
}

// ---------------------------------------------------------------------------
// options

function groupsOf(value: number | undefined, op: string): number {
  const g = value ?? 1;
  if (!Number.isInteger(g) || g < 1) throw new ArgumentError(`${op}: groups must be an integer >= 1, got ${value}`);
  return g;
}

function expect4d(t: Tensor, what: string, op: string): void {
  if (t.ndim !== 4) {
    throw new ShapeError(`${op}: ${what} must be 4-D ${what === 'input' ? '[N, C, H, W]' : '[out, in, kh, kw]'}, got shape ${shapeString(t.shape)}`);
  }
}

function checkBias(bias: Tensor | null | undefined, channels: number, op: string): void {
  if (bias && (bias.ndim !== 1 || bias.shape[0] !== channels)) {
    throw new ShapeError(`${op}: bias ${shapeString(bias.shape)} does not fit ${channels} output channels: expected [${channels}]`);
  }
}

/** out[n, c, :, :] = bias[c]. */
function fillBias(out: Float32Array, bias: Float32Array, n: number, channels: number, plane: number): void {
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < channels; c++) {
      const start = (i * channels + c) * plane;
      out.fill(bias[c]!, start, start + plane);
    }
  }
}

/** d bias[c] = sum over n, h, w of g[n, c, h, w] (float64 sums). */
function biasGradient(g: Tensor, bias: Tensor): Tensor {
  const [n, channels, h, w] = g.shape as [number, number, number, number];
  const plane = h * w;
  const out = new Float32Array(channels);
  const gd = g.data;
  for (let c = 0; c < channels; c++) {
    let s = 0;
    for (let i = 0; i < n; i++) {
      const start = (i * channels + c) * plane;
      for (let j = start; j < start + plane; j++) s += gd[j]!;
    }
    out[c] = s;
  }
  return new Tensor(out, bias.shape);
}

// ---------------------------------------------------------------------------
// conv2d

/** 2-D convolution, NCHW input, OIHW weight [Cout, Cin/groups, kh, kw], bias [Cout]. */
export function conv2d(x: Tensor, weight: Tensor, bias?: Tensor | null, options: Conv2dOptions = {}): Tensor {
  return conv2dThen(x, weight, bias, options);
}

/**
 * conv2d, then (with `then`) a per-channel scale and shift over its output,
 * the values of kernels().scaleShift(out, out, ...) bit for bit, which the
 * kernels may apply before the output leaves their memory. Only for callers
 * that know nothing records a gradient through it (layers/fusion.ts's
 * evaluation-mode batch norm): with `then`, a result that would be recorded
 * is a programming error.
 */
export function conv2dThen(x: Tensor, weight: Tensor, bias?: Tensor | null, options: Conv2dOptions = {}, then?: ChannelAffine): Tensor {
  const op = 'conv2d';
  expect4d(x, 'input', op);
  expect4d(weight, 'weight', op);
  const [batch, inChannels, inH, inW] = x.shape as [number, number, number, number];
  const [outChannels, groupChannels, kH, kW] = weight.shape as [number, number, number, number];
  const groups = groupsOf(options.groups, op);
  const [strideH, strideW] = pair(options.stride ?? 1, 'stride', op, 1);
  const [dilationH, dilationW] = pair(options.dilation ?? 1, 'dilation', op, 1);
  const p = pads(options.padding ?? 0, op);
  if (groupChannels * groups !== inChannels) {
    throw new ShapeError(
      `${op}: input ${shapeString(x.shape)} has ${inChannels} channels but weight ${shapeString(weight.shape)} with groups=${groups} expects ${groupChannels * groups} (weight.shape[1] * groups)`,
    );
  }
  if (outChannels % groups !== 0) {
    throw new ShapeError(`${op}: weight ${shapeString(weight.shape)} has ${outChannels} output channels, not divisible by groups=${groups}`);
  }
  checkBias(bias, outChannels, op);
  const spanH = dilationH * (kH - 1) + 1;
  const spanW = dilationW * (kW - 1) + 1;
  const paddedH = inH + p.top + p.bottom;
  const paddedW = inW + p.left + p.right;
  if (paddedH < spanH || paddedW < spanW) {
    throw new ShapeError(
      `${op}: input ${shapeString(x.shape)} padded to ${paddedH}x${paddedW} is smaller than the (dilated) kernel ${spanH}x${spanW} of weight ${shapeString(weight.shape)}`,
    );
  }
  const outH = Math.floor((paddedH - spanH) / strideH) + 1;
  const outW = Math.floor((paddedW - spanW) / strideW) + 1;

  const layout: Layout = {
    batch,
    groups,
    imageChannels: groupChannels,
    rowChannels: outChannels / groups,
    geo: {
      channels: groupChannels, inH, inW, outH, outW, kH, kW, strideH, strideW,
      padTop: p.top, padLeft: p.left, dilationH, dilationW,
    },
    // Whether record() below will keep this result for a backward pass (the kernels then take their most accurate algorithm).
    recorded: isGradEnabled() && (x.requiresGrad || weight.requiresGrad || (bias?.requiresGrad ?? false)),
  };
  // Depthwise (one input channel per group): direct loops beat 1-row GEMMs.
  const depthwise = groupChannels === 1 && groups > 1;
  const multiplier = outChannels / groups;
  const depthwiseGeo = { ...layout.geo, channels: inChannels };
  // Every element of the output is written below (the bias first, or the first product), so it may be a
  // recycled buffer (tensor/buffer-pool.ts); the depthwise kernels add into theirs, which starts from zeros.
  const outLength = batch * outChannels * outH * outW;
  checkElements(outLength, op);
  // The column matrix of one image and group, which the kernels may build.
  checkElements(groupChannels * kH * kW * outH * outW, op, 'its im2col buffer');
  chargeWork(batch * outChannels * outH * outW * groupChannels * kH * kW, op, batch);
  const out = depthwise && !bias ? zeroedBuffer(outLength) : bufferToOverwrite(outLength);
  if (then && layout.recorded) throw new Error('conv2dThen: the result would be recorded for a backward pass; the scale and shift must then be an op of its own');
  if (bias) fillBias(out, bias.data, batch, outChannels, outH * outW);
  if (depthwise) {
    kernels().depthwiseForward(x.data, weight.data, out, batch, multiplier, depthwiseGeo);
    if (then) kernels().scaleShift(out, out, outChannels, outH * outW, then.scale, then.shift, then.relu);
  } else {
    kernels().convForward(x.data, weight.data, out, layout, bias != null, then);
  }
  const y = new Tensor(out, [batch, outChannels, outH, outW]);

  const inputs = bias ? [x, weight, bias] : [x, weight];
  return record(op, y, inputs, (g, needs) => {
    let dx: Tensor | null = null;
    if (needs[0]) {
      const d = new Float32Array(x.size);
      if (depthwise) kernels().depthwiseInputGradient(g.data, weight.data, d, batch, multiplier, depthwiseGeo);
      else kernels().convAdjoint(g.data, weight.data, d, layout);
      dx = new Tensor(d, x.shape);
    }
    let dW: Tensor | null = null;
    if (needs[1]) {
      const d = new Float32Array(weight.size);
      if (depthwise) kernels().depthwiseWeightGradient(g.data, x.data, d, batch, multiplier, depthwiseGeo);
      else kernels().convWeightGradient(g.data, x.data, d, layout);
      dW = new Tensor(d, weight.shape);
    }
    const db = bias && needs[2] ? biasGradient(g, bias) : null;
    return bias ? [dx, dW, db] : [dx, dW];
  }, {
    replay: (ins) => conv2d(ins[0]!, ins[1]!, ins[2] ?? null, options),
    curvature: weightCurvature('conv2d'),
    tangent: ([dx, dw, db]) => {
      return tangentSum(y.shape, dx && conv2d(dx, weight, null, options), dw && conv2d(x, dw, null, options), db && new Tensor(db.data, [1, outChannels, 1, 1]));
    },
  });
}

// ---------------------------------------------------------------------------
// convTranspose2d

/** Transposed convolution, weight [Cin, Cout/groups, kh, kw] (PyTorch layout), bias [Cout]. */
export function convTranspose2d(x: Tensor, weight: Tensor, bias?: Tensor | null, options: ConvTranspose2dOptions = {}): Tensor {
  const op = 'convTranspose2d';
  expect4d(x, 'input', op);
  expect4d(weight, 'weight', op);
  const [batch, inChannels, inH, inW] = x.shape as [number, number, number, number];
  const [weightIn, groupOut, kH, kW] = weight.shape as [number, number, number, number];
  const groups = groupsOf(options.groups, op);
  const [strideH, strideW] = pair(options.stride ?? 1, 'stride', op, 1);
  const [dilationH, dilationW] = pair(options.dilation ?? 1, 'dilation', op, 1);
  const [outPadH, outPadW] = pair(options.outputPadding ?? 0, 'outputPadding', op, 0);
  const p = pads(options.padding ?? 0, op);
  if (weightIn !== inChannels) {
    throw new ShapeError(
      `${op}: input ${shapeString(x.shape)} has ${inChannels} channels but weight ${shapeString(weight.shape)} expects ${weightIn} (weight.shape[0]; the layout is [Cin, Cout/groups, kh, kw])`,
    );
  }
  if (inChannels % groups !== 0) {
    throw new ShapeError(`${op}: input ${shapeString(x.shape)} has ${inChannels} channels, not divisible by groups=${groups}`);
  }
  // As PyTorch: output padding must be smaller than either stride or dilation.
  if ((outPadH >= strideH && outPadH >= dilationH) || (outPadW >= strideW && outPadW >= dilationW)) {
    throw new ArgumentError(
      `${op}: outputPadding [${outPadH}, ${outPadW}] must be smaller than stride [${strideH}, ${strideW}] or dilation [${dilationH}, ${dilationW}] on each axis`,
    );
  }
  const outChannels = groupOut * groups;
  checkBias(bias, outChannels, op);
  const outH = (inH - 1) * strideH - p.top - p.bottom + dilationH * (kH - 1) + outPadH + 1;
  const outW = (inW - 1) * strideW - p.left - p.right + dilationW * (kW - 1) + outPadW + 1;
  if (outH < 1 || outW < 1) {
    throw new ShapeError(
      `${op}: input ${shapeString(x.shape)} with weight ${shapeString(weight.shape)} and this padding gives an empty output ${outH}x${outW}`,
    );
  }

  // The conv2d whose input gradient this is: it maps the output (outH x outW,
  // Cout/groups channels per group) to the input (inH x inW, Cin/groups rows per group).
  const layout: Layout = {
    batch,
    groups,
    imageChannels: groupOut,
    rowChannels: inChannels / groups,
    geo: {
      channels: groupOut, inH: outH, inW: outW, outH: inH, outW: inW, kH, kW, strideH, strideW,
      padTop: p.top, padLeft: p.left, dilationH, dilationW,
    },
    // Its input gradient runs convForward on this layout: a gradient, so the most accurate algorithms.
    recorded: true,
  };
  const out = allocate(batch * outChannels * outH * outW, op);
  checkElements(groupOut * kH * kW * inH * inW, op, 'its im2col buffer');
  chargeWork(batch * inChannels * inH * inW * groupOut * kH * kW, op, batch);
  if (bias) fillBias(out, bias.data, batch, outChannels, outH * outW);
  kernels().convAdjoint(x.data, weight.data, out, layout);
  const y = new Tensor(out, [batch, outChannels, outH, outW]);

  const inputs = bias ? [x, weight, bias] : [x, weight];
  return record(op, y, inputs, (g, needs) => {
    let dx: Tensor | null = null;
    if (needs[0]) {
      const d = new Float32Array(x.size);
      kernels().convForward(g.data, weight.data, d, layout, false);
      dx = new Tensor(d, x.shape);
    }
    let dW: Tensor | null = null;
    if (needs[1]) {
      const d = new Float32Array(weight.size);
      kernels().convWeightGradient(x.data, g.data, d, layout);
      dW = new Tensor(d, weight.shape);
    }
    const db = bias && needs[2] ? biasGradient(g, bias) : null;
    return bias ? [dx, dW, db] : [dx, dW];
  }, {
    replay: (ins) => convTranspose2d(ins[0]!, ins[1]!, ins[2] ?? null, options),
    curvature: weightCurvature('convTranspose2d'),
    tangent: ([dx, dw, db]) => {
      return tangentSum(y.shape, dx && convTranspose2d(dx, weight, null, options), dw && convTranspose2d(x, dw, null, options), db && new Tensor(db.data, [1, db.size, 1, 1]));
    },
  });
}
