import { privateOutputs, type GraphStep, type GraphValue, type StepFusion } from '../layers/graph.js';
import { isGradEnabled } from '../tensor/autograd.js';
import { kernels } from '../tensor/backend.js';
import { clampInto } from '../tensor/ops/activations.js';
import { batchNormEvalAffine, batchNormEvalInto } from '../tensor/ops/norm.js';
import { bufferToOverwrite } from '../tensor/buffer-pool.js';
import type { Tensor } from '../tensor/tensor.js';
import { NodeModule, ReLU, TapModule } from './layers.js';
import { DataType } from './tensorData.js';

/**
 * Conv -> BatchNormalization (-> Relu or Clip) and Conv -> Relu of an ONNX
 * graph run as one convolution, as layers/fusion.ts runs a Sequential's: the
 * kernels apply the batch norm (and ReLU) to the convolution's output before
 * anyone has seen it (conv2dThen; on WebAssembly before it leaves the
 * module's memory), and a Clip (MobileNetV2's ReLU6 as PyTorch exports it)
 * or a Relu after a bare conv goes in place over it; a batch norm -> Relu
 * with no conv before it (a DenseNet's) writes one output instead of two.
 * Models exported without folding their batch norms hold these chains (the
 * ONNX model zoo's ResNets and Inceptions: 53 and 69 of them; a MobileNetV2:
 * 52); VGG and SqueezeNet hold Conv -> Relu.
 * The values are the nodes' one by one, bit for bit (the same kernels in
 * the same order).
 *
 * Where nothing can tell the difference:
 * - in the graph: the nodes are consecutive in the plan, the conv's output
 *   is read by the next node only and the batch norm's by the Relu or Clip only,
 *   neither is a graph output, and each node has one output (a batch norm
 *   in eval form: no training_mode, spatial 1);
 * - at each run: no hook on any of the nodes or on the module paths whose
 *   output is an intermediate one (a PyTorch export's 'layer1.0.conv1'),
 *   none in training mode, nothing records a gradient through them, the
 *   caller keeps neither intermediate name, the input is 4-D, and the
 *   statistics have one value per output channel (else the nodes run one by
 *   one and raise their own errors).
 * The modules the fused run skips get the output's shape as their last
 * shape, which GraphModule.layers reports.
 */
export function convChains(steps: readonly GraphStep<number>[], graphOutputs: readonly string[]): Map<number, StepFusion<number>> {
  const readByOneOnly = privateOutputs(steps.map((s) => s.node), graphOutputs);
  /** Step i's one output, when the next step alone reads it (its taps are checked for hooks at each run). */
  const privateOutput = (i: number): string | null => {
    const name = readByOneOnly(i);
    if (name === null) return null;
    const next = steps[i + 1];
    return next && next.node.inputs[0] === name && next.node.inputs.indexOf(name, 1) < 0 ? name : null;
  };
  /** The taps (module paths) step i's first output passes through. */
  const tapsOf = (i: number): TapModule[] => [...(steps[i]!.taps?.[0] ?? [])] as TapModule[];
  const fusions = new Map<number, StepFusion<number>>();
  steps.forEach((step, i) => {
    const node = step.node;
    if (privateOutput(i) === null) return;
    const next = steps[i + 1]!.node;
    if (isNode(node, 'BatchNormalization') && evalFormBatchNorm(node)) {
      // A batch norm -> Relu that no conv went before (a DenseNet's pre-activation): one output instead of two.
      if (isRelu(next)) fusions.set(i, batchNormRelu(node, next, tapsOf(i)));
    } else if (isNode(node, 'Conv')) {
      if (isNode(next, 'BatchNormalization') && evalFormBatchNorm(next)) {
        const after = steps[i + 2]?.node;
        const activation = privateOutput(i + 1) !== null && (isRelu(after) || isNode(after, 'Clip')) ? after : null;
        fusions.set(i, convBatchNorm(node, next, activation, activation ? [...tapsOf(i), ...tapsOf(i + 1)] : tapsOf(i)));
      } else if (isRelu(next)) {
        fusions.set(i, convRelu(node, next, tapsOf(i)));
      }
    }
  });
  return fusions;
}

/** A plain node (not a subclass) of the default domain running `opType`, with one output. */
function isNode(node: unknown, opType: string): node is NodeModule {
  return node instanceof NodeModule && node.constructor === NodeModule && node.node.opType === opType
    && (node.node.domain === '' || node.node.domain === 'ai.onnx') && oneOutput(node);
}

/** A plain Relu node (not a subclass) with one output. */
function isRelu(node: unknown): node is ReLU {
  return node instanceof ReLU && node.constructor === ReLU && oneOutput(node);
}

const oneOutput = (node: NodeModule): boolean => node.node.outputs.filter((n) => n !== '').length === 1 && node.node.outputs[0] !== '';

/** A batch norm that uses its running statistics whenever its module is in eval mode (what conv2dThen applies). */
function evalFormBatchNorm(bn: NodeModule): boolean {
  return bn.attrs.int('training_mode', 0) === 0 && bn.attrs.int('spatial', 1) === 1;
}

/** The tensors a node reads (undefined where absent) and their types. */
function inputsOf(node: NodeModule, env: ReadonlyMap<string, GraphValue<number>>): { tensors: (Tensor | undefined)[]; types: number[] } {
  return {
    tensors: node.inputs.map((n) => (n ? env.get(n)?.tensor : undefined)),
    types: node.inputs.map((n) => env.get(n)?.type ?? DataType.FLOAT),
  };
}

/** A batch norm's scale, bias, mean and variance, when each holds one value per channel (else null: the node raises its error). */
function statisticsOf(bn: NodeModule, env: ReadonlyMap<string, GraphValue<number>>, channels: number): [Tensor, Tensor, Tensor, Tensor] | null {
  const statistics = bn.inputs.slice(1, 5).map((n) => (n ? env.get(n)?.tensor : undefined));
  return statistics.length === 4 && statistics.every((t) => t !== undefined && t.size === channels) ? (statistics as [Tensor, Tensor, Tensor, Tensor]) : null;
}

/**
 * No hook and eval mode on every node, no hook on the taps of the outputs the
 * fusion never makes, and no gradient recorded through any of `tensors`.
 */
function unwatched(nodes: readonly NodeModule[], taps: readonly TapModule[], tensors: readonly (Tensor | undefined)[]): boolean {
  if (nodes.some((n) => n.hookCount() > 0 || n.training) || taps.some((t) => t.hookCount() > 0)) return false;
  return !(isGradEnabled() && tensors.some((t) => t?.requiresGrad));
}

/** What the modules the fused run skipped would have recorded of their outputs (GraphModule.layers reads it). */
function noteShapes(skipped: readonly (NodeModule | TapModule)[], shape: readonly number[]): void {
  for (const m of skipped) m.lastShape = shape;
}

/**
 * A Clip node's bounds as its op reads them (attributes before opset 11,
 * optional inputs after), or null when one is not a number (the op then
 * raises its error).
 */
function clipBounds(clip: NodeModule, env: ReadonlyMap<string, GraphValue<number>>): { lo: number; hi: number; tensors: (Tensor | undefined)[] } | null {
  if (clip.attrs.has('min') || clip.attrs.has('max')) {
    return { lo: clip.attrs.float('min', -Infinity), hi: clip.attrs.float('max', Infinity), tensors: [] };
  }
  const tensors = clip.inputs.slice(1, 3).map((n) => (n ? env.get(n)?.tensor : undefined));
  const [lo, hi] = tensors.map((t, k) => (t ? t.data[0] : k === 0 ? -Infinity : Infinity));
  return Number.isNaN(lo) || Number.isNaN(hi) || lo === undefined || hi === undefined ? null : { lo, hi, tensors };
}

/** Conv -> batch norm, then a Relu (in the kernels' epilogue) or a Clip (in place after it), or nothing. */
function convBatchNorm(conv: NodeModule, bn: NodeModule, activation: NodeModule | null, taps: readonly TapModule[]): StepFusion<number> {
  const nodes = activation ? [conv, bn, activation] : [conv, bn];
  const intermediates = activation ? [conv.outputs[0]!, bn.outputs[0]!] : [conv.outputs[0]!];
  const relu = activation instanceof ReLU;
  const clipNode = relu ? null : activation;
  return {
    absorbs: nodes.length - 1,
    run(env, keep) {
      if (intermediates.some((name) => keep.has(name))) return null;
      const { tensors, types } = inputsOf(conv, env);
      const [x, weight] = tensors;
      if (!x || x.ndim !== 4 || !weight || weight.ndim !== 4) return null;
      const statistics = statisticsOf(bn, env, weight.shape[0]!);
      if (!statistics) return null;
      const [scale, bias, mean, variance] = statistics;
      const clip = clipNode && clipBounds(clipNode, env);
      if (clipNode && !clip) return null;
      if (!unwatched(nodes, taps, [...tensors, ...statistics, ...(clip?.tensors ?? [])])) return null;
      const then = batchNormEvalAffine(mean, variance, scale, bias, bn.attrs.float('epsilon', 1e-5), relu);
      const y = conv.executeThen(tensors, types, then);
      if (clip) clampInto(y.data, y.data, clip.lo, clip.hi);
      noteShapes([...nodes.slice(1), ...taps], y.shape);
      return { tensor: y, type: types[0] ?? DataType.FLOAT };
    },
  };
}

/**
 * `first` and the Relu after it as one step: `make` computes the Relu's
 * output from first's inputs, or returns null to run the two one by one.
 */
function withRelu(first: NodeModule, relu: ReLU, taps: readonly TapModule[], make: (tensors: (Tensor | undefined)[], types: number[], env: ReadonlyMap<string, GraphValue<number>>) => Tensor | null): StepFusion<number> {
  const intermediate = first.outputs[0]!;
  return {
    absorbs: 1,
    run(env, keep) {
      if (keep.has(intermediate)) return null;
      const { tensors, types } = inputsOf(first, env);
      if (!unwatched([first, relu], taps, tensors)) return null;
      const y = make(tensors, types, env);
      if (!y) return null;
      noteShapes([first, relu, ...taps], y.shape);
      return { tensor: y, type: types[0] ?? DataType.FLOAT };
    },
  };
}

/** relu(bn(x)) in one pass into one fresh buffer (batchNormEvalInto, as layers/fusion.ts bnRelu). */
function batchNormRelu(bn: NodeModule, relu: ReLU, taps: readonly TapModule[]): StepFusion<number> {
  return withRelu(bn, relu, taps, ([x], _types, env) => {
    const statistics = x && x.ndim >= 2 ? statisticsOf(bn, env, x.shape[1]!) : null;
    if (!x || !statistics) return null;
    const [scale, bias, mean, variance] = statistics;
    return batchNormEvalInto(x, bufferToOverwrite(x.size), mean, variance, scale, bias, bn.attrs.float('epsilon', 1e-5), true);
  });
}

/** relu(conv(x)): the ReLU in place over the convolution's output, a buffer no one else holds (its op's own, and no hook saw it). */
function convRelu(conv: NodeModule, relu: ReLU, taps: readonly TapModule[]): StepFusion<number> {
  return withRelu(conv, relu, taps, (tensors, types) => {
    const y = conv.execute(tensors, types).outputs[0]!;
    kernels().relu(y.data, y.data);
    return y;
  });
}
