/**
 * Closest-name suggestions for module paths and layer names, used wherever a
 * name is not found (the CAM methods' layer lookup, ONNX graphs).
 */

/** Levenshtein distance: insertions, deletions and substitutions (two rows, O(|b|) memory). */
export function editDistance(a: string, b: string): number {
  let previous = new Array<number>(b.length + 1);
  let current = new Array<number>(b.length + 1);
  for (let j = 0; j <= b.length; j++) previous[j] = j;
  for (let i = 1; i <= a.length; i++) {
    current[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1);
      current[j] = Math.min(substitution, previous[j]! + 1, current[j - 1]! + 1);
    }
    [previous, current] = [current, previous];
  }
  return previous[b.length]!;
}

/** `names` ordered by edit distance to `wanted`, closest first (ties keep their order). */
export function closestNames(wanted: string, names: readonly string[]): string[] {
  return names
    .map((name, index) => ({ name, index, d: editDistance(wanted, name) }))
    .sort((p, q) => p.d - q.d || p.index - q.index)
    .map((x) => x.name);
}
