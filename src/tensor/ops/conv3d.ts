import { ArgumentError, ShapeError } from '../errors.js';
import { Tensor, shapeString } from '../tensor.js';
import { conv2d } from './conv.js';
import { concat, pad, permute, reshape, slice } from './shape.js';

/**
 * 3-D convolution ([N, C, D, H, W] volumes) as one conv2d: the kd depth
 * taps of every output depth are stacked as extra input channels of a batch
 * of N * outD images, and the kernel's depth axis joins its input channels
 * to match:
 *
 *   image (n, od)   = x[n, :, od*sd + t*dd, :, :] for t = 0..kd-1, stacked per group as [g, kd, C/g]
 *   weight          = w [O, C/g, kd, kh, kw] as [O, kd*C/g, kh, kw]
 *
 * so the 2-D kernels (and their speed-ups) do the arithmetic, and slice /
 * concat / permute / reshape carry the gradients back.
 */

export interface Conv3dOptions {
  /** One number or [d, h, w]. */
  stride?: number | readonly [number, number, number];
  /** Zeros on both sides of each axis: one number or [d, h, w]. */
  padding?: number | readonly [number, number, number];
  dilation?: number | readonly [number, number, number];
  groups?: number;
}

function triple(v: number | readonly [number, number, number] | undefined, fallback: number, name: string, min: number): [number, number, number] {
  const t = v === undefined ? [fallback, fallback, fallback] : typeof v === 'number' ? [v, v, v] : [...v];
  if (t.length !== 3 || !t.every((d) => Number.isInteger(d) && d >= min)) {
    throw new ArgumentError(`conv3d: ${name} must be an integer >= ${min} or [d, h, w] of them, got ${JSON.stringify(v)}`);
  }
  return t as [number, number, number];
}

/** 3-D convolution (F.conv3d): input [N, C, D, H, W], weight [Cout, C/groups, kd, kh, kw], bias [Cout]. */
export function conv3d(x: Tensor, weight: Tensor, bias?: Tensor | null, options: Conv3dOptions = {}): Tensor {
  if (x.ndim !== 5) throw new ShapeError(`conv3d: input must be 5-D [N, C, D, H, W], got shape ${shapeString(x.shape)}`);
  if (weight.ndim !== 5) throw new ShapeError(`conv3d: weight must be 5-D [out, in, kd, kh, kw], got shape ${shapeString(weight.shape)}`);
  const [sd, sh, sw] = triple(options.stride, 1, 'stride', 1);
  const [pd, ph, pw] = triple(options.padding, 0, 'padding', 0);
  const [dd, dh, dw] = triple(options.dilation, 1, 'dilation', 1);
  const groups = options.groups ?? 1;
  const [n, c, d, h, w] = x.shape as [number, number, number, number, number];
  const [o, cg, kd, kh, kw] = weight.shape as [number, number, number, number, number];
  if (!Number.isInteger(groups) || groups < 1 || cg * groups !== c) {
    throw new ShapeError(`conv3d: input ${shapeString(x.shape)} has ${c} channels but weight ${shapeString(weight.shape)} with groups=${groups} expects ${cg * groups}`);
  }
  const paddedD = d + 2 * pd;
  const span = dd * (kd - 1) + 1;
  if (paddedD < span) throw new ShapeError(`conv3d: input depth ${d} padded to ${paddedD} is smaller than the dilated kernel depth ${span}`);
  const outD = Math.floor((paddedD - span) / sd) + 1;
  const xp = pd ? pad(x, [0, 0, 0, 0, pd, pd]) : x;
  // One [N*outD, g, 1, C/g, H, W] slab per depth tap, stacked on axis 2.
  const slabs = Array.from({ length: kd }, (_, t) => {
    const taken = slice(xp, 2, t * dd, t * dd + (outD - 1) * sd + 1, sd); // [N, C, outD, H, W]
    return reshape(permute(taken, [0, 2, 1, 3, 4]), [n * outD, groups, 1, cg, h, w]);
  });
  const images = reshape(kd === 1 ? slabs[0]! : concat(slabs, 2), [n * outD, groups * kd * cg, h, w]);
  const kernel = reshape(permute(weight, [0, 2, 1, 3, 4]), [o, kd * cg, kh, kw]);
  const y = conv2d(images, kernel, bias, { stride: [sh, sw], padding: [ph, pw], dilation: [dh, dw], groups });
  return permute(reshape(y, [n, outD, o, y.shape[2]!, y.shape[3]!]), [0, 2, 1, 3, 4]);
}
