import { GraphRunner, splitConstantNodes, type GraphValue } from '../../layers/graph.js';
import { NodeModule } from '../layers.js';
import type { GraphProto, NodeProto } from '../proto.js';
import { OnnxError } from '../errors.js';
import { DataType, tensorFromProto } from '../tensorData.js';
import { nodeLabel } from '../names.js';
import { attributesOf, input, nodeError, type OpCall, type OpImpl } from './types.js';

/*
 * If. torch.onnx writes it (with Equal, see logic.ts) around decompositions
 * that test the input's rank (LocalResponseNorm at opset 11+): the condition comes from
 * Shape, so it is the same at every run of one input rank. If runs only the
 * taken branch, every run, with autodiff through its nodes; the branch's
 * nodes are not hookable layers.
 *
 * A branch may read tensors of the enclosing graph. loadOnnx rewrites each If
 * node so that those tensors are explicit inputs after the condition, in the
 * order `outerReferences` lists them (see `withBranchInputs`), so the
 * executor's constant pass and topological checks see them.
 */

/** Tensors a subgraph reads that it neither makes nor holds as initializers, in order of first use. */
export function outerReferences(graph: GraphProto): string[] {
  const local = new Set<string>([...graph.initializers.map((t) => t.name), ...graph.inputs.map((v) => v.name)]);
  const outer: string[] = [];
  const seen = new Set<string>();
  for (const node of graph.nodes) {
    for (const name of node.inputs) {
      if (name && !local.has(name) && !seen.has(name)) {
        seen.add(name);
        outer.push(name);
      }
    }
    for (const name of node.outputs) if (name) local.add(name);
  }
  for (const out of graph.outputs) {
    if (!local.has(out.name) && !seen.has(out.name)) {
      seen.add(out.name);
      outer.push(out.name);
    }
  }
  return outer;
}

function branches(node: NodeProto): { then: GraphProto | null; else: GraphProto | null } {
  const attrs = attributesOf(node);
  return { then: attrs.graph('then_branch') ?? null, else: attrs.graph('else_branch') ?? null };
}

/** The outer tensors both branches read (then-branch's first), as the rewritten If takes them. */
function ifOuterInputs(node: NodeProto): string[] {
  const { then, else: otherwise } = branches(node);
  const names = [...(then ? outerReferences(then) : []), ...(otherwise ? outerReferences(otherwise) : [])];
  return [...new Set(names)];
}

/**
 * Copy of `graph` whose If nodes (nested ones too) take the outer tensors
 * their branches read as inputs after the condition. An outer name that the
 * subgraph itself makes stays local to it.
 */
export function withBranchInputs(graph: GraphProto): GraphProto {
  const nodes = graph.nodes.map((node) => {
    if (node.opType !== 'If' || !(node.domain === '' || node.domain === 'ai.onnx')) return node;
    const attributes = node.attributes.map((a) => (a.g ? { ...a, g: withBranchInputs(a.g) } : a));
    const rewritten: NodeProto = { ...node, attributes };
    rewritten.inputs = [node.inputs[0] ?? '', ...ifOuterInputs(rewritten)];
    return rewritten;
  });
  return { ...graph, nodes };
}

/** Every node of the graph and of its subgraphs, for the supported-op check. */
export function allNodes(graph: GraphProto): NodeProto[] {
  const out: NodeProto[] = [];
  // Depth first, in file order, with an explicit stack: no recursion, no spread of a branch's nodes as arguments.
  const stack: { graph: GraphProto; next: number }[] = [{ graph, next: 0 }];
  while (stack.length) {
    const top = stack[stack.length - 1]!;
    const node = top.graph.nodes[top.next++];
    if (!node) {
      stack.pop();
      continue;
    }
    out.push(node);
    const branches = node.attributes.filter((a) => a.g).map((a) => ({ graph: a.g!, next: 0 }));
    stack.push(...branches.reverse());
  }
  return out;
}

// One runner per branch, made at the first run of that branch: its nodes,
// its initializers decoded once, its constant nodes folded once.
const branchRunners = new WeakMap<GraphProto, { runner: GraphRunner<number>; modules: NodeModule[] }>();

function runnerOf(graph: GraphProto, opset: number, ops: Readonly<Record<string, OpImpl>>, foldable: (opType: string) => boolean): { runner: GraphRunner<number>; modules: NodeModule[] } {
  let made = branchRunners.get(graph);
  if (!made) {
    const weights = new Map<string, GraphValue<number>>();
    for (const init of graph.initializers) {
      const decoded = tensorFromProto(init);
      weights.set(init.name, { tensor: decoded.tensor, type: decoded.dataType });
    }
    const moduleOf = (node: NodeProto): NodeModule => new NodeModule(node, nodeLabel(node), ops[node.opType]!, opset);
    const split = splitConstantNodes(graph.nodes, weights.keys(), (node) => foldable(node.opType));
    const constants = split.constant.map(moduleOf);
    for (const m of constants) m.training = false;
    const modules = split.live.map(moduleOf);
    const runner = new GraphRunner<number>({
      weights,
      constants,
      steps: modules.map((node) => ({ node })),
      defaultType: DataType.FLOAT,
      missingOutput: (message) => new OnnxError(message, 'E_ONNX_NODE'),
    });
    made = { runner, modules };
    branchRunners.set(graph, made);
  }
  return made;
}

/**
 * If: runs the branch the (single-element) condition selects; its outputs are
 * the node's. `ops` is the op table (the branch's nodes run from it) and
 * `foldable` says which op types may be folded when their inputs are constant.
 */
export function makeIf(ops: () => Readonly<Record<string, OpImpl>>, foldable: (opType: string) => boolean): OpImpl {
  return (call: OpCall) => {
    const cond = input(call, 0);
    if (cond.size !== 1) throw nodeError(call, `the condition has ${cond.size} elements; If takes a single boolean`);
    const { then, else: otherwise } = branches(call.node);
    const branch = cond.data[0]! !== 0 ? then : otherwise;
    if (!branch) throw nodeError(call, 'then_branch and else_branch must both be graph attributes');

    const feeds = new Map<string, GraphValue<number>>();
    call.node.inputs.forEach((name, i) => {
      const t = call.inputs[i];
      if (i > 0 && name && t) feeds.set(name, { tensor: t, type: call.inputTypes[i] ?? DataType.FLOAT });
    });
    const { runner, modules } = runnerOf(branch, call.opset, ops(), foldable);
    for (const module of modules) module.training = call.training;
    const env = runner.run(feeds);
    call.outputTypes = branch.outputs.map((v) => env.get(v.name)?.type ?? DataType.FLOAT);
    return branch.outputs.map((v) => {
      const t = env.get(v.name)?.tensor;
      if (!t) throw nodeError(call, `the branch output '${v.name}' was not produced`);
      return t;
    });
  };
}

