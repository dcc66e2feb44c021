import { OnnxError } from './errors.js';
import { nodeLabel } from './names.js';
import type { GraphProto } from './proto.js';

/**
 * The structural rules of an ONNX graph that onnx.checker and onnxruntime
 * enforce, checked before anything is built, for the main graph and every
 * subgraph (If branches):
 *
 * - the graph lists at least one output, each once;
 * - graph input names are distinct;
 * - every node writes at least one output, and the graph is in single
 *   static assignment form: no name is written twice, nor over a graph
 *   input or initializer, nor (in a subgraph) over a name of an enclosing
 *   scope visible at that point;
 * - nodes are in topological order: each input is a graph input, an
 *   initializer, an earlier node's output or (in a subgraph) a name of an
 *   enclosing scope.
 *
 * A subgraph sees the names its enclosing scopes define before its node.
 * Subgraph nesting is bounded by the protobuf reader (MAX_MESSAGE_DEPTH),
 * so the recursion here is too.
 */
export function validateGraph(graph: GraphProto): void {
  checkGraph(graph, [], '');
}

/** `enclosing`: the name sets of the enclosing scopes, outermost first; `where`: '' for the main graph. */
function checkGraph(graph: GraphProto, enclosing: readonly ReadonlySet<string>[], where: string): void {
  const inWhere = where ? ` in ${where}` : '';
  const ofWhere = where || 'the graph';
  if (graph.outputs.length === 0) {
    throw new OnnxError(`loadOnnx: ${ofWhere} lists no outputs; a graph must have at least one`, 'E_ONNX_GRAPH');
  }
  const listed = new Set<string>();
  for (const v of graph.outputs) {
    if (listed.has(v.name)) throw new OnnxError(`loadOnnx: ${ofWhere} lists the output '${v.name}' twice; each output is listed once`, 'E_ONNX_GRAPH');
    listed.add(v.name);
  }
  // Names defined in this scope, plus the enclosing scopes' (no shadowing, as onnx.checker).
  const defined = new Set<string>();
  const outer = (name: string): boolean => enclosing.some((scope) => scope.has(name));
  const known = (name: string): boolean => defined.has(name) || outer(name);
  for (const v of graph.inputs) {
    if (defined.has(v.name)) {
      throw new OnnxError(`loadOnnx: ${ofWhere} lists the input '${v.name}' twice (the graph must be in SSA form)`, 'E_ONNX_GRAPH');
    }
    defined.add(v.name);
  }
  const initializers = new Set<string>();
  for (const t of graph.initializers) {
    if (initializers.has(t.name)) {
      throw new OnnxError(`loadOnnx: ${ofWhere} holds two initializers named '${t.name}'`, 'E_ONNX_GRAPH');
    }
    initializers.add(t.name);
    // Old IR lists initializers among the inputs too: the same name twice is the rule there.
    defined.add(t.name);
  }
  for (const node of graph.nodes) {
    const label = `node ${nodeLabel(node)} (${node.opType})`;
    for (const name of node.inputs) {
      if (name && !known(name)) {
        throw new OnnxError(
          `loadOnnx: ${label}${inWhere} uses tensor '${name}', which no graph input, initializer or earlier node provides`,
          'E_ONNX_GRAPH',
        );
      }
    }
    if (!node.outputs.some((o) => o !== '')) {
      throw new OnnxError(`loadOnnx: ${label}${inWhere} writes no output; every node must have at least one`, 'E_ONNX_GRAPH');
    }
    for (const a of node.attributes) if (a.g) checkGraph(a.g, [...enclosing, defined], `the '${a.name}' subgraph of ${label}${inWhere}`);
    for (const name of node.outputs) {
      if (!name) continue;
      if (known(name)) {
        const what = initializers.has(name)
          ? 'an initializer'
          : graph.inputs.some((v) => v.name === name)
            ? 'a graph input'
            : !defined.has(name)
              ? 'a tensor of the enclosing graph'
              : 'the output of an earlier node';
        throw new OnnxError(
          `loadOnnx: ${label}${inWhere} writes '${name}', which is already ${what}; each name must be written once (the graph must be in SSA form)`,
          'E_ONNX_GRAPH',
        );
      }
      defined.add(name);
    }
  }
  for (const v of graph.outputs) {
    if (!known(v.name)) throw new OnnxError(`loadOnnx: ${where ? `output '${v.name}' of ${where}` : `graph output '${v.name}'`} is produced by no node`, 'E_ONNX_GRAPH');
  }
}
