/**
 * numpy.percentile(values, p) with its default 'linear' method, on float32
 * data as pytorch-grad-cam's ROAD calls it: the two neighbouring order
 * statistics a <= b are float32, their difference b - a is taken in float32
 * (numpy subtracts the two float32 values), and the interpolation
 * a + (b - a) t (t < 0.5) or b - (b - a)(1 - t) (t >= 0.5) runs in float64
 * (numpy's _lerp), with t = (n - 1) p / 100 - floor(...).
 */
export function percentile(values: ArrayLike<number>, p: number): number {
  const n = values.length;
  const sorted = Float64Array.from(values).sort();
  const virtual = (n - 1) * (p / 100);
  if (virtual <= 0) return sorted[0]!;
  if (virtual >= n - 1) return sorted[n - 1]!;
  const below = Math.floor(virtual);
  const t = virtual - below;
  const a = sorted[below]!;
  const b = sorted[below + 1]!;
  const diff = Math.fround(b - a);
  return t >= 0.5 ? b - diff * (1 - t) : a + diff * t;
}
