import { privateOutputs, type GraphStep, type StepFusion } from '../../layers/graph.js';
import { isGradEnabled } from '../../tensor/autograd.js';
import { kernels } from '../../tensor/backend.js';
import { batchNormEvalAffine } from '../../tensor/ops/norm.js';
import type { Tensor } from '../../tensor/tensor.js';
import { KerasReLU } from './advanced-activations.js';
import { KerasConv2D, KerasDepthwiseConv2D } from './conv.js';
import { KerasActivation } from './core.js';
import type { KerasLayer } from './layer.js';
import { KerasBatchNormalization } from './normalization.js';

/**
 * Conv2D or DepthwiseConv2D -> BatchNormalization (-> ReLU, ReLU(6) or
 * Activation('relu' | 'relu6')) of a Keras model run as one convolution, as
 * src/onnx/fusion.ts runs an ONNX graph's: the kernels apply the batch norm
 * (and a ReLU) to the convolution's output before anyone has seen it
 * (conv2dThen; on WebAssembly before it leaves the module's memory), and a
 * ReLU6 goes in place over it with the kernel its own layer uses. Keras
 * MobileNets (52 such chains in nsfwjs's MobileNetV2) and Inception v3 (94)
 * are made of these. The values are the layers' one by one, bit for bit.
 *
 * Where nothing can tell the difference:
 * - in the graph: the layer calls are consecutive, each has one output, the
 *   conv's output is read by the batch norm only and the batch norm's by the
 *   activation only, and neither is a model output; the conv has no
 *   activation of its own;
 * - at each run: no hook on any of the layers, nothing records a gradient
 *   through them, the caller keeps neither intermediate, the input is 4-D,
 *   the conv reads it as stored and the batch norm normalises stored axis 1
 *   (else the layers run one by one and raise their own errors).
 * The layers the fused run skips get the output's shape as their last shape.
 */

/** A layer call as the Keras model's graph steps hold it. */
interface LayerNode {
  readonly module: KerasLayer;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
}

type Activation = 'relu' | 'relu6';

const nodeOf = (step: GraphStep<null>): LayerNode => step.node as unknown as LayerNode;

/**
 * The steps' wiring: `soleReader(at)` is the index of the one step after
 * `at` that reads step at's one output, as its one input, when no other step
 * reads it and it is not a model output; else -1.
 */
function wiring(nodes: readonly LayerNode[], modelOutputs: readonly string[]): { soleReader: (at: number) => number } {
  const privateOutput = privateOutputs(nodes, modelOutputs);
  return {
    soleReader(at) {
      const name = privateOutput(at);
      return name === null ? -1 : nodes.findIndex((n, k) => k > at && n.inputs.length === 1 && n.inputs[0] === name);
    },
  };
}

/**
 * The steps with each conv's batch norm (and the activation after it) moved
 * up to right after the conv, so that kerasConvChains finds the chain
 * consecutive. Keras lists a model's layers by depth, so the parallel
 * branches of an Inception block come as all their convs, then all their
 * batch norms, then all their activations. A moved step reads only the
 * output of the step it now follows, which only it reads, so every step
 * still runs after what it reads and the values are the same.
 */
export function gatherConvChains(steps: readonly GraphStep<null>[], modelOutputs: readonly string[]): GraphStep<null>[] {
  const list = [...steps];
  const nodes = list.map(nodeOf);
  const { soleReader } = wiring(nodes, modelOutputs);
  const move = (from: number, to: number): void => {
    list.splice(to, 0, ...list.splice(from, 1));
    nodes.splice(to, 0, ...nodes.splice(from, 1));
  };
  for (let i = 0; i < nodes.length; i++) {
    if (!isPlainConv(nodes[i]!.module) || nodes[i]!.module.activation !== 'linear') continue;
    let at = i;
    for (const wanted of [isBatchNorm, (m: KerasLayer | undefined) => activationOf(m) !== null]) {
      const j = soleReader(at);
      if (j < 0 || !wanted(nodes[j]!.module)) break;
      move(j, ++at);
    }
  }
  return list;
}

export function kerasConvChains(steps: readonly GraphStep<null>[], modelOutputs: readonly string[]): Map<number, StepFusion<null>> {
  const nodes = steps.map(nodeOf);
  const { soleReader } = wiring(nodes, modelOutputs);
  const readByNext = (at: number): boolean => soleReader(at) === at + 1;
  const fusions = new Map<number, StepFusion<null>>();
  nodes.forEach((node, i) => {
    const conv = node.module;
    const bn = nodes[i + 1]?.module;
    if (!isPlainConv(conv) || conv.activation !== 'linear' || !isBatchNorm(bn) || !readByNext(i)) return;
    const activation = readByNext(i + 1) ? activationOf(nodes[i + 2]!.module) : null;
    const chain = nodes.slice(i, activation ? i + 3 : i + 2);
    const intermediates = chain.slice(0, -1).map((n) => n.outputs[0]!);
    fusions.set(i, convBatchNorm(node, conv, bn, activation, chain.map((n) => n.module), intermediates));
  });
  return fusions;
}

/** A Conv2D or DepthwiseConv2D (not a subclass): one conv2d, which can take a batch norm's affine. */
function isPlainConv(m: KerasLayer | undefined): m is KerasConv2D | KerasDepthwiseConv2D {
  return m !== undefined && (m.constructor === KerasConv2D || m.constructor === KerasDepthwiseConv2D);
}

/** A BatchNormalization layer (not a subclass). */
function isBatchNorm(m: KerasLayer | undefined): m is KerasBatchNormalization {
  return m instanceof KerasBatchNormalization && m.constructor === KerasBatchNormalization;
}

/** The ReLU a layer is, when it is a plain one the fused run can apply: ReLU() / ReLU(6) layers, Activation('relu' | 'relu6'). */
function activationOf(m: KerasLayer | undefined): Activation | null {
  if (m instanceof KerasReLU && m.constructor === KerasReLU && m.threshold === 0 && m.negativeSlope === 0) {
    return m.maxValue === null ? 'relu' : m.maxValue === 6 ? 'relu6' : null;
  }
  if (m instanceof KerasActivation && m.constructor === KerasActivation && (m.activation === 'relu' || m.activation === 'relu6')) return m.activation;
  return null;
}

function convBatchNorm(
  call: LayerNode,
  conv: KerasConv2D | KerasDepthwiseConv2D,
  bn: KerasBatchNormalization,
  activation: Activation | null,
  layers: readonly KerasLayer[],
  intermediates: readonly string[],
): StepFusion<null> {
  return {
    absorbs: layers.length - 1,
    run(env, keep) {
      if (intermediates.some((name) => keep.has(name))) return null;
      const x = env.get(call.inputs[0]!)?.tensor;
      if (!x || x.ndim !== 4 || conv.geometry.channelsLast !== conv.layout.channelsLast || bn.layout.axis(bn.axis, 4) !== 1) return null;
      if (layers.some((m) => m.hookCount() > 0)) return null;
      const tensors = [x, conv.weight, conv.bias, bn.weight, bn.bias, bn.runningMean, bn.runningVar];
      if (isGradEnabled() && tensors.some((t) => t?.requiresGrad)) return null;
      if (bn.runningMean.size !== conv.weight.shape[0]) return null;
      const then = batchNormEvalAffine(bn.runningMean, bn.runningVar, bn.weight, bn.bias, bn.epsilon, activation === 'relu');
      const y: Tensor = conv.convolveStored(x, then);
      // ReLU6 with the kernel its layer runs (relu6 on a value the epilogue left alone), in place over a buffer no one else holds.
      if (activation === 'relu6') kernels().relu6(y.data, y.data);
      for (const m of layers) m.lastShape = y.shape;
      return { tensor: y, type: null };
    },
  };
}
