import { record } from '../autograd.js';
import { ArgumentError, ShapeError } from '../errors.js';
import { Tensor, normalizeAxis, shapeString } from '../tensor.js';

/**
 * Softmax along one axis, its log, and cross-entropy. A tensor is read as
 * [outer, K, inner] around the axis; each of the outer * inner lines of K
 * values is normalised on its own, after subtracting its maximum so that
 * exp never overflows.
 */

interface Lines {
  outer: number;
  k: number;
  inner: number;
}

function linesOf(x: Tensor, axis: number, op: string): Lines {
  if (x.ndim === 0) {
    if (axis !== 0 && axis !== -1) throw new ArgumentError(`${op}: axis ${axis} is out of range for a scalar (accepted: 0 or -1)`);
    return { outer: 1, k: 1, inner: 1 };
  }
  const a = normalizeAxis(axis, x.ndim, op, x.shape);
  let outer = 1;
  for (let i = 0; i < a; i++) outer *= x.shape[i]!;
  let inner = 1;
  for (let i = a + 1; i < x.ndim; i++) inner *= x.shape[i]!;
  return { outer, k: x.shape[a]!, inner };
}

/**
 * Writes softmax (log = false) or log-softmax (log = true) of every line of
 * `src` into `dst`. Sums run in float64.
 */
function softmaxLines(src: Float32Array, dst: Float32Array, { outer, k, inner }: Lines, log: boolean): void {
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < inner; j++) {
      const base = o * k * inner + j;
      let m = Number.NEGATIVE_INFINITY;
      for (let c = 0, i = base; c < k; c++, i += inner) if (src[i]! > m || src[i] !== src[i]) m = src[i]!;
      // a line of all -Infinity: shift by 0, giving NaN as PyTorch does
      if (m === Number.NEGATIVE_INFINITY) m = 0;
      let s = 0;
      for (let c = 0, i = base; c < k; c++, i += inner) s += Math.exp(src[i]! - m);
      if (log) {
        const shift = m + Math.log(s);
        for (let c = 0, i = base; c < k; c++, i += inner) dst[i] = src[i]! - shift;
      } else {
        const scale = 1 / s;
        for (let c = 0, i = base; c < k; c++, i += inner) dst[i] = Math.exp(src[i]! - m) * scale;
      }
    }
  }
}

/** exp(x) / sum(exp(x)) along `axis`. */
export function softmax(x: Tensor, axis = -1): Tensor {
  const lines = linesOf(x, axis, 'softmax');
  const y = new Float32Array(x.size);
  softmaxLines(x.data, y, lines, false);
  return record('softmax', new Tensor(y, x.shape), [x], (g) => {
    // dx = y * (g - sum(g * y)) along the axis
    const { outer, k, inner } = lines;
    const gd = g.data;
    const gi = new Float32Array(x.size);
    for (let o = 0; o < outer; o++) {
      for (let j = 0; j < inner; j++) {
        const base = o * k * inner + j;
        let dot = 0;
        for (let c = 0, i = base; c < k; c++, i += inner) dot += gd[i]! * y[i]!;
        for (let c = 0, i = base; c < k; c++, i += inner) gi[i] = y[i]! * (gd[i]! - dot);
      }
    }
    return [new Tensor(gi, x.shape)];
  }, {
    tangent: ([dx]) => new Tensor(softmaxTangent(y, dx!.data, lines), x.shape),
    // d/dt [y (g - <g, y>)] = dy (g - <g, y>) - y <g, dy>
    curvature: ([dx], g) => {
      const dy = softmaxTangent(y, dx!.data, lines);
      const out = new Float32Array(x.size);
      eachLine(lines, (line) => {
        let gy = 0;
        let gdy = 0;
        for (const i of line) {
          gy += g.data[i]! * y[i]!;
          gdy += g.data[i]! * dy[i]!;
        }
        for (const i of line) out[i] = dy[i]! * (g.data[i]! - gy) - y[i]! * gdy;
      });
      return [new Tensor(out, x.shape)];
    },
  });
}

/** Calls `fn` with the flat indices of every line of `lines`. */
function eachLine({ outer, k, inner }: Lines, fn: (line: number[]) => void): void {
  const line = new Array<number>(k);
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < inner; j++) {
      for (let c = 0; c < k; c++) line[c] = o * k * inner + j + c * inner;
      fn(line);
    }
  }
}

/** The tangent of softmax: dy = y (dx - <dx, y>) along each line. */
function softmaxTangent(y: Float32Array, dx: Float32Array, lines: Lines): Float32Array {
  const out = new Float32Array(y.length);
  eachLine(lines, (line) => {
    let dot = 0;
    for (const i of line) dot += dx[i]! * y[i]!;
    for (const i of line) out[i] = y[i]! * (dx[i]! - dot);
  });
  return out;
}

/** x - log(sum(exp(x))) along `axis`, computed stably (never log of a softmax). */
export function logSoftmax(x: Tensor, axis = -1): Tensor {
  const lines = linesOf(x, axis, 'logSoftmax');
  const y = new Float32Array(x.size);
  softmaxLines(x.data, y, lines, true);
  return record('logSoftmax', new Tensor(y, x.shape), [x], (g) => {
    // dx = g - softmax * sum(g) along the axis
    const { outer, k, inner } = lines;
    const gd = g.data;
    const gi = new Float32Array(x.size);
    for (let o = 0; o < outer; o++) {
      for (let j = 0; j < inner; j++) {
        const base = o * k * inner + j;
        let total = 0;
        for (let c = 0, i = base; c < k; c++, i += inner) total += gd[i]!;
        for (let c = 0, i = base; c < k; c++, i += inner) gi[i] = gd[i]! - Math.exp(y[i]!) * total;
      }
    }
    return [new Tensor(gi, x.shape)];
  }, {
    // dy = dx - <p, dx>, p = exp(y)
    tangent: ([dx]) => {
      const out = new Float32Array(x.size);
      eachLine(lines, (line) => {
        let dot = 0;
        for (const i of line) dot += Math.exp(y[i]!) * dx!.data[i]!;
        for (const i of line) out[i] = dx!.data[i]! - dot;
      });
      return new Tensor(out, x.shape);
    },
    // d/dt [g - p sum(g)] = -dp sum(g), dp = p (dx - <p, dx>)
    curvature: ([dx], g) => {
      const p = Float32Array.from(y, Math.exp);
      const dp = softmaxTangent(p, dx!.data, lines);
      const out = new Float32Array(x.size);
      eachLine(lines, (line) => {
        let total = 0;
        for (const i of line) total += g.data[i]!;
        for (const i of line) out[i] = -dp[i]! * total;
      });
      return [new Tensor(out, x.shape)];
    },
  });
}

export type Reduction = 'mean' | 'sum' | 'none';

/**
 * Cross-entropy of logits [N, K] against class indices, as F.cross_entropy.
 *
 * Also as PyTorch: logits [K] with one target (unbatched), logits
 * [N, K, d1, ...] with targets [N, d1, ...] (class axis 1), class
 * probabilities as a target tensor of the logits' shape, `ignoreIndex`
 * (default -100) whose entries add nothing and do not count in the mean, and
 * label smoothing: the target becomes (1 - e) * onehot + e / K. The gradient
 * flows to the logits only.
 */
export function crossEntropy(
  logits: Tensor,
  target: readonly number[] | Tensor,
  options: { reduction?: Reduction; labelSmoothing?: number; ignoreIndex?: number } = {},
): Tensor {
  const reduction = options.reduction ?? 'mean';
  const eps = options.labelSmoothing ?? 0;
  const ignoreIndex = options.ignoreIndex ?? -100;
  if (reduction !== 'mean' && reduction !== 'sum' && reduction !== 'none') {
    throw new ArgumentError(`crossEntropy: reduction '${String(reduction)}' is not supported (accepted: 'mean', 'sum', 'none')`);
  }
  if (!(eps >= 0 && eps <= 1)) {
    throw new ArgumentError(`crossEntropy: labelSmoothing must be in [0, 1], got ${eps}`);
  }
  if (logits.ndim === 0) {
    throw new ShapeError('crossEntropy: logits must be [K], [N, K] or [N, K, d1, ...]; got a scalar');
  }
  const unbatched = logits.ndim === 1;
  const k = unbatched ? logits.shape[0]! : logits.shape[1]!;
  const n = unbatched ? 1 : logits.shape[0]!;
  let inner = 1;
  for (let a = 2; a < logits.ndim; a++) inner *= logits.shape[a]!;
  const rows = n * inner;
  // per-sample output shape: logits without the class axis
  const sampleShape = unbatched ? [] : [logits.shape[0]!, ...logits.shape.slice(2)];

  // the target distribution q, as (index, weight) for the one-hot part plus a uniform e/K
  const probabilities = target instanceof Tensor && target.ndim === logits.ndim && target.shape.every((d, i) => d === logits.shape[i]);
  let indices: Int32Array | null = null;
  if (!probabilities) {
    const values = target instanceof Tensor ? target.data : target;
    const targetShape = target instanceof Tensor ? [...target.shape] : [values.length];
    const expected = shapeString(sampleShape);
    const fits = target instanceof Tensor ? sameDims(targetShape, sampleShape) : values.length === rows && (sampleShape.length <= 1 || inner === 1);
    if (!fits) {
      throw new ShapeError(
        `crossEntropy: target of shape ${shapeString(targetShape)} does not fit logits of shape ${shapeString(logits.shape)} (expected class indices of shape ${expected}, or probabilities of shape ${shapeString(logits.shape)})`,
      );
    }
    indices = new Int32Array(rows);
    for (let r = 0; r < rows; r++) {
      const t = values[r]!;
      if (t !== ignoreIndex && (!Number.isInteger(t) || t < 0 || t >= k)) {
        throw new ArgumentError(`crossEntropy: target ${t} at position ${r} is not a class index in [0, ${k - 1}] (or ignoreIndex ${ignoreIndex})`);
      }
      indices[r] = t;
    }
  }

  const logp = new Float32Array(logits.size);
  const lines: Lines = { outer: n, k, inner };
  softmaxLines(logits.data, logp, lines, true);
  const probs = probabilities ? (target as Tensor).data : null;
  const losses = new Float64Array(rows);
  const counted = new Uint8Array(rows);
  let count = 0;
  for (let s = 0; s < n; s++) {
    for (let j = 0; j < inner; j++) {
      const r = s * inner + j;
      const base = s * k * inner + j;
      if (indices && indices[r] === ignoreIndex) continue;
      counted[r] = 1;
      count++;
      let loss = 0;
      if (indices) {
        let all = 0;
        for (let c = 0, i = base; c < k; c++, i += inner) all += logp[i]!;
        loss = -(1 - eps) * logp[base + indices[r]! * inner]! - (eps / k) * all;
      } else {
        for (let c = 0, i = base; c < k; c++, i += inner) loss -= ((1 - eps) * probs![i]! + eps / k) * logp[i]!;
      }
      losses[r] = loss;
    }
  }

  let out: Tensor;
  if (reduction === 'none') out = new Tensor(new Float32Array(losses), sampleShape);
  else {
    let total = 0;
    for (let r = 0; r < rows; r++) total += losses[r]!;
    // mean divides by the rows that count: all of N*d1*... for probabilities
    // (PyTorch: numel / K), the non-ignored ones for class indices
    const divisor = count;
    out = new Tensor(Float32Array.of(reduction === 'sum' ? total : total / divisor), []);
  }

  return record('crossEntropy', out, [logits], (g) => {
    // d loss_r / d logits = softmax * sum(q) - q, scaled by the output
    // gradient of row r; sum(q) = 1 except for unnormalised probabilities
    const gd = g.data;
    const gi = new Float32Array(logits.size);
    const perRowScale = reduction === 'mean' ? gd[0]! / count : reduction === 'sum' ? gd[0]! : 0;
    for (let s = 0; s < n; s++) {
      for (let j = 0; j < inner; j++) {
        const r = s * inner + j;
        if (!counted[r]) continue;
        const scale = reduction === 'none' ? gd[r]! : perRowScale;
        const base = s * k * inner + j;
        let sumQ = 1;
        if (probs) {
          sumQ = 0;
          for (let c = 0, i = base; c < k; c++, i += inner) sumQ += (1 - eps) * probs[i]! + eps / k;
        }
        for (let c = 0, i = base; c < k; c++, i += inner) {
          const q = indices ? (c === indices[r] ? 1 - eps : 0) + eps / k : (1 - eps) * probs![i]! + eps / k;
          gi[i] = (Math.exp(logp[i]!) * sumQ - q) * scale;
        }
      }
    }
    return [new Tensor(gi, logits.shape)];
  }, {
    // d loss_r = sum_c (p_c sumQ_r - q_c) dx_c; the backward's derivative is dp sumQ_r times the row's scale.
    tangent: ([dx]) => {
      const perRow = new Float64Array(rows);
      eachLine(lines, (line) => {
        const s = Math.floor(line[0]! / (k * inner));
        const r = s * inner + (line[0]! % inner);
        if (!counted[r]) return;
        const sumQ = rowSumQ(line);
        let total = 0;
        line.forEach((i, c) => {
          const q = indices ? (c === indices[r] ? 1 - eps : 0) + eps / k : (1 - eps) * probs![i]! + eps / k;
          total += (Math.exp(logp[i]!) * sumQ - q) * dx!.data[i]!;
        });
        perRow[r] = total;
      });
      if (reduction === 'none') return new Tensor(Float32Array.from(perRow), out.shape);
      const all = perRow.reduce((a, b) => a + b, 0);
      return new Tensor(Float32Array.of(reduction === 'sum' ? all : all / count), []);
    },
    curvature: ([dx], g) => {
      const p = Float32Array.from(logp, Math.exp);
      const dp = softmaxTangent(p, dx!.data, lines);
      const gd = g.data;
      const perRowScale = reduction === 'mean' ? gd[0]! / count : reduction === 'sum' ? gd[0]! : 0;
      const gi = new Float32Array(logits.size);
      eachLine(lines, (line) => {
        const s = Math.floor(line[0]! / (k * inner));
        const r = s * inner + (line[0]! % inner);
        if (!counted[r]) return;
        const scale = reduction === 'none' ? gd[r]! : perRowScale;
        const sumQ = rowSumQ(line);
        for (const i of line) gi[i] = dp[i]! * sumQ * scale;
      });
      return [new Tensor(gi, logits.shape)];
    },
  });

  /** sum(q) over a row: 1, except for unnormalised target probabilities. */
  function rowSumQ(line: number[]): number {
    if (!probs) return 1;
    let sumQ = 0;
    for (const i of line) sumQ += (1 - eps) * probs[i]! + eps / k;
    return sumQ;
  }
}

function sameDims(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
