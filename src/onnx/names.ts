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
  const segmentsOf = nodes.map((n) => (n.name.startsWith('/') ? n.name.split('/').filter(Boolean).slice(0, -1).slice(0, MAX_SCOPE_DEPTH) : []));
  // Raw prefixes ('layer4/layer4.1') as small ids, so that each lookup below is one short key, not a join of the path.
  const prefixIds = new Map<string, number>();
  const prefixesOf = segmentsOf.map((segments) => {
    const ids: number[] = [0];
    for (const s of segments) {
      const key = `${ids[ids.length - 1]}/${s}`;
      let id = prefixIds.get(key);
      if (id === undefined) prefixIds.set(key, (id = prefixIds.size + 1));
      ids.push(id);
    }
    return ids;
  });
  // Which segments occur under which raw prefix, to recognise call counters: the id of prefix + segment exists.
  return segmentsOf.map((segments, n) => {
    const prefixes = prefixesOf[n]!;
    const paths: string[] = [];
    let current = '';
    segments.forEach((segment, i) => {
      let name = segment;
      const counted = /^(.+)_(\d+)$/.exec(segment);
      if (counted && prefixIds.has(`${prefixes[i]}/${counted[1]}`)) name = counted[1]!;
      const path = current ? resolveInside(current, name) : name;
      paths.push(path);
      current = path;
    });
    return paths;
  });
}

/**
 * Scopes deeper than this are not module paths (their nodes stay layers by
 * tensor name): PyTorch models nest a dozen modules deep, and a hostile name
 * of thousands of '/' segments would otherwise list thousands of paths each
 * thousands of characters long.
 */
export const MAX_SCOPE_DEPTH = 64;

/**
 * The shortest `ancestor.name` (ancestor of `scope`, from the root down)
 * that lies inside `scope`: it does when `name` starts with what `scope`
 * adds to the ancestor, followed by a dot. Linear in the lengths.
 */
function resolveInside(scope: string, name: string): string {
  for (let start = 0; ; ) {
    // The rest of the scope after the ancestor (its first parts) is scope.slice(start).
    const rest = scope.length - start;
    if (rest < name.length && name.charCodeAt(rest) === 46 && name.startsWith(scope.slice(start))) {
      return start === 0 ? name : `${scope.slice(0, start - 1)}.${name}`;
    }
    const dot = scope.indexOf('.', start);
    if (dot < 0) return `${scope}.${name}`;
    start = dot + 1;
  }
}

/** A node's name for messages: its name quoted, or the output it makes when unnamed. */
export function nodeLabel(node: NodeProto): string {
  return node.name ? `'${node.name}'` : `producing '${node.outputs[0] ?? ''}'`;
}
