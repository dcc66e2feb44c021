import { record } from '../autograd.js';
import { backwardOf, leafOf, tangentSum, weightCurvature } from '../tangent.js';
import { broadcastIndex, broadcastShapes } from '../broadcast.js';
import { ShapeError } from '../errors.js';
import { kernels } from '../backend.js';
import { Tensor, shapeString, sizeOf, type Shape } from '../tensor.js';
import { allocate, chargeWork } from '../limits.js';

/**
 * Matrix products on the blocked GEMM in ../kernels/gemm.ts. Backward rules
 * are GEMMs with transposed operands (dA = dC B^T, dB = A^T dC), each computed
 * only when asked for.
 */

/** Matrix product as torch.matmul: 1-D, 2-D and batched (leading axes broadcast). */
export function matmul(a: Tensor, b: Tensor): Tensor {
  if (a.ndim === 0 || b.ndim === 0) {
    throw new ShapeError(
      `matmul: both arguments need at least 1 axis, got shapes ${shapeString(a.shape)} and ${shapeString(b.shape)} (use mul for scalars)`,
    );
  }
  // As torch.matmul: a 1-D a is a row [1, k], a 1-D b a column [k, 1]; the added axis is dropped from the result.
  const aShape = a.ndim === 1 ? [1, a.shape[0]!] : [...a.shape];
  const bShape = b.ndim === 1 ? [b.shape[0]!, 1] : [...b.shape];
  const m = aShape[aShape.length - 2]!;
  const k = aShape[aShape.length - 1]!;
  const n = bShape[bShape.length - 1]!;
  if (bShape[bShape.length - 2] !== k) {
    throw new ShapeError(
      `matmul: shapes ${shapeString(a.shape)} and ${shapeString(b.shape)} cannot be multiplied: the last axis of the first (${k}) must equal ${b.ndim === 1 ? 'the length of the second' : `the second-to-last axis of the second (${bShape[bShape.length - 2]})`}`,
    );
  }
  const aBatch = aShape.slice(0, -2);
  const bBatch = bShape.slice(0, -2);
  const batch = broadcastShapes(aBatch, bBatch, 'matmul');
  const plan = batchPlan(aBatch, bBatch, batch);

  const out = allocate(plan.count * m * n, 'matmul');
  chargeWork(plan.count * m * n * k, 'matmul', plan.count * m);
  if (plan.foldA) {
    // b is one matrix shared by every batch: a single (count*m) x k by k x n product.
    kernels().gemm(plan.count * m, n, k, a.data, b.data, out);
  } else {
    for (let t = 0; t < plan.count; t++) {
      kernels().gemm(m, n, k, a.data, b.data, out, {
        aOffset: plan.aIndex(t) * m * k,
        bOffset: plan.bIndex(t) * k * n,
        cOffset: t * m * n,
      });
    }
  }

  const outShape = [...batch];
  if (a.ndim > 1) outShape.push(m);
  if (b.ndim > 1) outShape.push(n);
  const result = new Tensor(out, outShape);

  return record('matmul', result, [a, b], (g, needs) => {
    let da: Tensor | null = null;
    let db: Tensor | null = null;
    if (needs[0]) {
      // dA = dC B^T, summed over batch entries that a was broadcast to.
      const d = new Float32Array(a.size);
      if (plan.foldA) {
        kernels().gemm(plan.count * m, k, n, g.data, b.data, d, { transB: true });
      } else {
        for (let t = 0; t < plan.count; t++) {
          kernels().gemm(m, k, n, g.data, b.data, d, {
            transB: true,
            accumulate: true,
            aOffset: t * m * n,
            bOffset: plan.bIndex(t) * k * n,
            cOffset: plan.aIndex(t) * m * k,
          });
        }
      }
      da = new Tensor(d, a.shape);
    }
    if (needs[1]) {
      // dB = A^T dC, summed over batch entries that b was broadcast to.
      const d = new Float32Array(b.size);
      if (plan.foldA) {
        kernels().gemm(k, n, plan.count * m, a.data, g.data, d, { transA: true });
      } else {
        for (let t = 0; t < plan.count; t++) {
          kernels().gemm(k, n, m, a.data, g.data, d, {
            transA: true,
            accumulate: true,
            aOffset: plan.aIndex(t) * m * k,
            bOffset: t * m * n,
            cOffset: plan.bIndex(t) * k * n,
          });
        }
      }
      db = new Tensor(d, b.shape);
    }
    return [da, db];
  }, {
    replay: (ins) => matmul(ins[0]!, ins[1]!),
    tangent: ([da, db]) => tangentSum(result.shape, da && matmul(da, b), db && matmul(a, db)),
    // Bilinear: d/dt of dA = g B^T is g dB^T, of dB = A^T g is dA^T g (matmul's own backward with the tangent in place).
    curvature: ([da, db], g, needs) => [
      needs[0] && db ? backwardOf(() => matmul(leafOf(a), db), g, 0) : null,
      needs[1] && da ? backwardOf(() => matmul(da, leafOf(b)), g, 1) : null,
    ],
  });
}

interface BatchPlan {
  /** Number of matrices in the broadcast batch. */
  count: number;
  /** Which matrix of a (resp. b) batch entry t uses. */
  aIndex: (t: number) => number;
  bIndex: (t: number) => number;
  /** b is a single matrix and a's batch is the whole batch: fold a's batch into its rows. */
  foldA: boolean;
}

function batchPlan(aBatch: Shape, bBatch: Shape, batch: Shape): BatchPlan {
  const count = sizeOf(batch);
  const aMap = broadcastIndex(aBatch, batch);
  const bMap = broadcastIndex(bBatch, batch);
  return {
    count,
    aIndex: aMap ? (t) => aMap[t]! : (t) => t,
    bIndex: bMap ? (t) => bMap[t]! : (t) => t,
    foldA: aMap === null && sizeOf(bBatch) === 1,
  };
}

/** x @ weight^T + bias, weight [out, in] (torch.nn.functional.linear); x [..., in]. */
export function linear(x: Tensor, weight: Tensor, bias?: Tensor | null): Tensor {
  if (weight.ndim !== 2) {
    throw new ShapeError(`linear: weight must be 2-D [out, in], got shape ${shapeString(weight.shape)}`);
  }
  const [outFeatures, inFeatures] = weight.shape as [number, number];
  if (x.ndim === 0 || x.shape[x.ndim - 1] !== inFeatures) {
    throw new ShapeError(
      `linear: input ${shapeString(x.shape)} does not fit weight ${shapeString(weight.shape)}: the input's last axis must be ${inFeatures} (the weight's in_features)`,
    );
  }
  if (bias && (bias.ndim !== 1 || bias.shape[0] !== outFeatures)) {
    throw new ShapeError(
      `linear: bias ${shapeString(bias.shape)} does not fit weight ${shapeString(weight.shape)}: expected [${outFeatures}]`,
    );
  }
  const rows = x.size / inFeatures;
  const out = allocate(rows * outFeatures, 'linear');
  chargeWork(rows * outFeatures * inFeatures, 'linear', rows);
  if (bias) {
    for (let r = 0; r < rows; r++) out.set(bias.data, r * outFeatures);
  }
  kernels().gemm(rows, outFeatures, inFeatures, x.data, weight.data, out, { transB: true, accumulate: bias != null });
  const result = new Tensor(out, [...x.shape.slice(0, -1), outFeatures]);

  const inputs = bias ? [x, weight, bias] : [x, weight];
  return record('linear', result, inputs, (g, needs) => {
    const grads: (Tensor | null)[] = [null, null, null];
    if (needs[0]) {
      // dx = dY W
      const d = new Float32Array(x.size);
      kernels().gemm(rows, inFeatures, outFeatures, g.data, weight.data, d);
      grads[0] = new Tensor(d, x.shape);
    }
    if (needs[1]) {
      // dW = dY^T x
      const d = new Float32Array(weight.size);
      kernels().gemm(outFeatures, inFeatures, rows, g.data, x.data, d, { transA: true });
      grads[1] = new Tensor(d, weight.shape);
    }
    if (bias && needs[2]) {
      const d = new Float64Array(outFeatures);
      const gd = g.data;
      for (let r = 0; r < rows; r++) {
        const base = r * outFeatures;
        for (let o = 0; o < outFeatures; o++) d[o] = d[o]! + gd[base + o]!;
      }
      grads[2] = new Tensor(Float32Array.from(d), bias.shape);
    }
    return grads.slice(0, inputs.length);
  }, {
    replay: (ins) => linear(ins[0]!, ins[1]!, ins[2] ?? null),
    curvature: weightCurvature('linear'),
    tangent: ([dx, dw, db]) => {
      return tangentSum(result.shape, dx && linear(dx, weight), dw && linear(x, dw), db);
    },
  });
}
