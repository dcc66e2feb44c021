import { broadcastShapes } from '../../tensor/broadcast.js';
import { cumsum } from '../../tensor/ops/cumsum.js';
import { einsum } from '../../tensor/ops/einsum.js';
import { gatherElements, gatherND, scatterND } from '../../tensor/ops/gather.js';
import { expand, permute, reshape, slice } from '../../tensor/ops/shape.js';
import { tile } from '../../tensor/ops/tile.js';
import { topk } from '../../tensor/ops/topk.js';
import { Tensor, sizeOf } from '../../tensor/tensor.js';
import { DataType } from '../tensorData.js';
import { identity } from './elementwise.js';
import { input, intValues, nodeError, normalizeAxisFor, type OpImpl } from './types.js';
import { allocate, checkElements } from '../../tensor/limits.js';

/*
 * Broadcasting, splitting, index-tensor ops, sorting and Einsum: what
 * transformer and detector exports add to a CNN graph. Index, shape and
 * count inputs are read as numbers and carry no gradient; index outputs
 * (ArgMax, TopK's second) are int64 without gradient.
 */


/** Expand: NumPy broadcasting of the input and the shape (both ways: a 1 in the shape keeps the input's size). */
const expandOp: OpImpl = (call) => {
  const x = input(call, 0);
  const shape = intValues(input(call, 1));
  let out: number[];
  try {
    out = broadcastShapes(x.shape, shape, 'Expand');
  } catch {
    throw nodeError(call, `cannot expand [${x.shape.join(', ')}] to [${shape.join(', ')}] (sizes must match or be 1)`);
  }
  checkElements(sizeOf(out), `Expand node ${call.label}`, `shape [${out.join(', ')}]`);
  if (out.length === x.ndim && out.every((d, i) => d === x.shape[i])) return identity(x);
  return expand(x, out);
};

const tileOp: OpImpl = (call) => {
  const x = input(call, 0);
  const repeats = intValues(input(call, 1));
  if (repeats.length !== x.ndim) throw nodeError(call, `repeats has ${repeats.length} entries; the input [${x.shape.join(', ')}] needs ${x.ndim}`);
  if (repeats.some((r) => r < 0)) throw nodeError(call, `repeats [${repeats.join(', ')}] must not be negative`);
  checkElements(sizeOf(x.shape.map((d, i) => d * repeats[i]!)), `Tile node ${call.label}`, `repeats [${repeats.join(', ')}]`);
  return tile(x, repeats);
};

/**
 * Split: sizes from the 'split' attribute (opset < 13) or input (13+), else
 * equal parts over the outputs (opset 18's num_outputs: ceil-sized parts,
 * the last one smaller).
 */
const splitOp: OpImpl = (call) => {
  const x = input(call, 0);
  const axis = normalizeAxisFor(call, call.attrs.int('axis', 0), x.ndim);
  const n = x.shape[axis]!;
  const count = call.node.outputs.length;
  let sizes = call.attrs.ints('split') ?? (call.inputs[1] ? intValues(call.inputs[1]) : undefined);
  if (!sizes || sizes.length === 0) {
    const parts = call.attrs.int('num_outputs', count);
    const each = Math.ceil(n / parts);
    sizes = Array.from({ length: parts }, (_, i) => Math.max(0, Math.min(each, n - i * each)));
  }
  if (sizes.reduce((s, v) => s + v, 0) !== n || sizes.some((v) => v < 0)) {
    throw nodeError(call, `split sizes [${sizes.join(', ')}] do not add up to axis ${axis} of size ${n}`);
  }
  if (sizes.length !== count) throw nodeError(call, `${sizes.length} split sizes for ${count} outputs`);
  let start = 0;
  return sizes.map((size) => {
    const part = slice(x, axis, start, start + size);
    start += size;
    return part;
  });
};

const gatherElementsOp: OpImpl = (call) => {
  const x = input(call, 0);
  const index = input(call, 1);
  return gatherElements(x, normalizeAxisFor(call, call.attrs.int('axis', 0), x.ndim), index.data, index.shape);
};

const gatherNDOp: OpImpl = (call) => {
  const index = input(call, 1);
  return gatherND(input(call, 0), index.data, index.shape, call.attrs.int('batch_dims', 0));
};

const scatterNDOp: OpImpl = (call) => {
  const reduction = call.attrs.string('reduction', 'none');
  if (reduction !== 'none' && reduction !== 'add') throw nodeError(call, `reduction '${reduction}' is not supported (accepted: none, add)`);
  const index = input(call, 1);
  return scatterND(input(call, 0), index.data, index.shape, input(call, 2), reduction);
};

/** Range: start, start + delta, ... up to (not including) limit; no gradient. */
const rangeOp: OpImpl = (call) => {
  const [start, limit, delta] = [0, 1, 2].map((i) => input(call, i).data[0]!) as [number, number, number];
  if (delta === 0) throw nodeError(call, 'delta must not be 0');
  const n = Math.max(0, Math.ceil((limit - start) / delta));
  if (!Number.isFinite(n)) throw nodeError(call, `start ${start}, limit ${limit} and delta ${delta} make no finite range`);
  const out = allocate(n, `Range node ${call.label}`, 'the range');
  for (let i = 0; i < n; i++) out[i] = start + i * delta;
  return new Tensor(out, [n]);
};

const cumsumOp: OpImpl = (call) => {
  const x = input(call, 0);
  const axis = normalizeAxisFor(call, intValues(input(call, 1))[0] ?? 0, Math.max(x.ndim, 1));
  return cumsum(x, axis, { exclusive: call.attrs.int('exclusive', 0) !== 0, reverse: call.attrs.int('reverse', 0) !== 0 });
};

/** TopK: k as attribute (opset < 10) or input; values with gradient, int64 indices. */
const topkOp: OpImpl = (call) => {
  const x = input(call, 0);
  const k = call.attrs.has('k') ? call.attrs.int('k', 1) : intValues(input(call, 1))[0]!;
  const axis = normalizeAxisFor(call, call.attrs.int('axis', -1), x.ndim);
  const { values, indices } = topk(x, k, axis, { largest: call.attrs.int('largest', 1) !== 0 });
  call.outputTypes = [call.inputTypes[0]!, DataType.INT64];
  return [values, indices];
};

/** ArgMax / ArgMin along one axis, first or (select_last_index) last extremum; int64, no gradient. */
const argExtremum = (sign: number): OpImpl => (call) => {
  const x = input(call, 0);
  const axis = normalizeAxisFor(call, call.attrs.int('axis', 0), x.ndim);
  const keep = call.attrs.int('keepdims', 1) !== 0;
  const last = call.attrs.int('select_last_index', 0) !== 0;
  const n = x.shape[axis]!;
  if (n === 0) throw nodeError(call, `axis ${axis} is empty`);
  const outer = sizeOf(x.shape.slice(0, axis));
  const inner = sizeOf(x.shape.slice(axis + 1));
  const out = new Float32Array(outer * inner);
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < inner; j++) {
      const base = o * n * inner + j;
      let best = sign * x.data[base]!;
      let at = 0;
      for (let t = 1; t < n; t++) {
        const v = sign * x.data[base + t * inner]!;
        if (v > best || (last && v === best)) {
          best = v;
          at = t;
        }
      }
      out[o * inner + j] = at;
    }
  }
  call.outputTypes = [DataType.INT64];
  const shape = keep ? x.shape.map((d, i) => (i === axis ? 1 : d)) : x.shape.filter((_, i) => i !== axis);
  return new Tensor(out, shape);
};

/** DepthToSpace (DCR or CRD order) and SpaceToDepth: reshape, permute, reshape. */
const depthToSpace: OpImpl = (call) => {
  const x = input(call, 0);
  const bs = call.attrs.int('blocksize', 0);
  if (x.ndim !== 4) throw nodeError(call, `input of shape [${x.shape.join(', ')}] must be 4-D [N, C, H, W]`);
  const [n, c, h, w] = x.shape as [number, number, number, number];
  if (bs < 1 || c % (bs * bs) !== 0) throw nodeError(call, `blocksize ${bs} squared does not divide the ${c} channels`);
  const mode = call.attrs.string('mode', 'DCR');
  if (mode !== 'DCR' && mode !== 'CRD') throw nodeError(call, `mode '${mode}' is not one of DCR, CRD`);
  const c2 = c / (bs * bs);
  const moved = mode === 'DCR'
    ? permute(reshape(x, [n, bs, bs, c2, h, w]), [0, 3, 4, 1, 5, 2])
    : permute(reshape(x, [n, c2, bs, bs, h, w]), [0, 1, 4, 2, 5, 3]);
  return reshape(moved, [n, c2, h * bs, w * bs]);
};

const spaceToDepth: OpImpl = (call) => {
  const x = input(call, 0);
  const bs = call.attrs.int('blocksize', 0);
  if (x.ndim !== 4) throw nodeError(call, `input of shape [${x.shape.join(', ')}] must be 4-D [N, C, H, W]`);
  const [n, c, h, w] = x.shape as [number, number, number, number];
  if (bs < 1 || h % bs !== 0 || w % bs !== 0) throw nodeError(call, `blocksize ${bs} does not divide the spatial size ${h}x${w}`);
  const moved = permute(reshape(x, [n, c, h / bs, bs, w / bs, bs]), [0, 3, 5, 1, 2, 4]);
  return reshape(moved, [n, c * bs * bs, h / bs, w / bs]);
};

const einsumOp: OpImpl = (call) => {
  const equation = call.attrs.string('equation', '');
  const operands = call.inputs.filter((t): t is Tensor => t !== undefined);
  try {
    return einsum(equation, ...operands);
  } catch (e) {
    throw nodeError(call, (e as Error).message);
  }
};

export const indexingOps = {
  Expand: expandOp,
  Tile: tileOp,
  Split: splitOp,
  GatherElements: gatherElementsOp,
  GatherND: gatherNDOp,
  ScatterND: scatterNDOp,
  Range: rangeOp,
  CumSum: cumsumOp,
  TopK: topkOp,
  ArgMax: argExtremum(1),
  ArgMin: argExtremum(-1),
  DepthToSpace: depthToSpace,
  SpaceToDepth: spaceToDepth,
  Einsum: einsumOp,
} satisfies Record<string, OpImpl>;
