import type { NodeProto } from './proto.js';

/**
 * Module paths from the node names PyTorch's exporter writes:
 * '/layer4/layer4.1/relu_1/Relu' is the Relu op inside scopes 'layer4',
 * 'layer4.1' and 'layer4.1.relu'. Each segment names a module relative to
 * some enclosing scope: the full path ('layer4.1' under 'layer4'), a child
 * ('conv1' under 'layer4.1'), or a dotted path from a higher scope
 * ('conv.0' under 'features.1/conv' is 'features.1.conv.0'). The path taken
 * is the shortest reading that lies inside the enclosing scope. '_N' marks
 * the N-th extra call of a module ('relu_1' is the second call of 'relu')
 * and is dropped when the uncounted name also occurs at that place. Names
 * that do not start with '/' carry no scopes.
 */
export function scopesOfNodes(nodes: readonly NodeProto[]): string[][] {
  const segmentsOf = nodes.map((n) => (n.name.startsWith('/') ? n.name.split('/').filter(Boolean).slice(0, -1) : []));
  // Which segments occur under which raw prefix, to recognise call counters.
  const seen = new Set<string>();
  for (const segments of segmentsOf) {
    segments.forEach((s, i) => seen.add(`${segments.slice(0, i).join('/')}|${s}`));
  }
  return segmentsOf.map((segments) => {
    const paths: string[] = [];
    let current = '';
    segments.forEach((segment, i) => {
      let name = segment;
      const counted = /^(.+)_(\d+)$/.exec(segment);
      if (counted && seen.has(`${segments.slice(0, i).join('/')}|${counted[1]}`)) name = counted[1]!;
      const path = current ? resolveInside(current, name) : name;
      paths.push(path);
      current = path;
    });
    return paths;
  });
}

/** The shortest `ancestor.name` (ancestor of `scope`, from the root down) that lies inside `scope`. */
function resolveInside(scope: string, name: string): string {
  const parts = scope.split('.');
  for (let k = 0; k <= parts.length; k++) {
    const ancestor = parts.slice(0, k).join('.');
    const candidate = ancestor ? `${ancestor}.${name}` : name;
    if (candidate.startsWith(`${scope}.`)) return candidate;
  }
  return `${scope}.${name}`;
}

/** Levenshtein distance (small strings: layer names). */
export function editDistance(a: string, b: string): number {
  let previous = new Array<number>(b.length + 1);
  for (let j = 0; j <= b.length; j++) previous[j] = j;
  for (let i = 1; i <= a.length; i++) {
    const row = new Array<number>(b.length + 1);
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row[j] = Math.min(previous[j]! + 1, row[j - 1]! + 1, previous[j - 1]! + cost);
    }
    previous = row;
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
