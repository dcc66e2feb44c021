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

/** A node's name for messages: its name quoted, or the output it makes when unnamed. */
export function nodeLabel(node: NodeProto): string {
  return node.name ? `'${node.name}'` : `producing '${node.outputs[0] ?? ''}'`;
}
