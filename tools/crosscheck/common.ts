// Shared helpers for the crosscheck comparison scripts (run with npx tsx from /work/main).
import { Tensor } from '../../src/tensor/tensor.js';

export interface Diff { maxAbs: number; maxRel: number; refMax: number; at: number; got: number; want: number; nan: number; shapeOk: boolean }

/** max |a-b|, max |a-b|/max|b| (relative to the reference's largest magnitude), NaN count. */
export function diff(got: Tensor | Float32Array, want: Tensor | Float32Array, gotShape?: readonly number[], wantShape?: readonly number[]): Diff {
  const g = got instanceof Tensor ? got.data : got;
  const w = want instanceof Tensor ? want.data : want;
  const gs = got instanceof Tensor ? got.shape : gotShape;
  const ws = want instanceof Tensor ? want.shape : wantShape;
  const shapeOk = !gs || !ws || (gs.length === ws.length && gs.every((d, i) => d === ws[i])) || g.length === w.length;
  let maxAbs = 0, refMax = 0, at = -1, nan = 0;
  const n = Math.min(g.length, w.length);
  for (let i = 0; i < n; i++) {
    const a = g[i]!, b = w[i]!;
    if (Number.isNaN(a) !== Number.isNaN(b)) nan++;
    const d = Math.abs(a - b);
    if (d > maxAbs) { maxAbs = d; at = i; }
    if (Math.abs(b) > refMax) refMax = Math.abs(b);
  }
  if (g.length !== w.length) return { maxAbs: Infinity, maxRel: Infinity, refMax, at, got: NaN, want: NaN, nan, shapeOk: false };
  return { maxAbs, maxRel: refMax > 0 ? maxAbs / refMax : maxAbs, refMax, at, got: at >= 0 ? g[at]! : 0, want: at >= 0 ? w[at]! : 0, nan, shapeOk };
}

/** numpy.allclose-style: |a-b| <= atol + rtol*|b| everywhere. Returns the worst ratio (<=1 passes). */
export function closeness(got: Float32Array, want: Float32Array, rtol: number, atol: number): number {
  let worst = 0;
  for (let i = 0; i < want.length; i++) {
    const a = got[i]!, b = want[i]!;
    if (Number.isNaN(a) && Number.isNaN(b)) continue;
    const r = Math.abs(a - b) / (atol + rtol * Math.abs(b));
    if (!(r <= worst)) worst = Number.isNaN(r) ? Infinity : r;
  }
  return worst;
}

export function fmt(d: Diff): string {
  if (!d.shapeOk) return 'SHAPE MISMATCH';
  return `abs ${d.maxAbs.toExponential(2)} rel ${d.maxRel.toExponential(2)} (ref max ${d.refMax.toExponential(2)}; worst at ${d.at}: got ${d.got.toPrecision(6)} want ${d.want.toPrecision(6)})${d.nan ? ` NaN-mismatch ${d.nan}` : ''}`;
}
