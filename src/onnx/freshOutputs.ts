import type { NodeProto } from './proto.js';

/**
 * ONNX ops whose node, run in eval mode with one output, returns a tensor
 * over a buffer of its own that nothing else holds, and keeps no reference to
 * its inputs once it returns (only a recorded gradient graph would): the
 * nodes whose outputs and inputs the graph runner may give back to the
 * buffer pool (layers/graphRecycling.ts). Read from each op's code in ops/
 * and the tensor ops it calls; 1-D and 5-D forms return a reshape of their
 * own fresh result, which is still a buffer of their own.
 *
 * Not here, because they may return their input or a view of it: Identity,
 * Dropout (eval), Cast (to a float type), Reshape, Flatten, Squeeze,
 * Unsqueeze, Max/Min, Sum with one input, Expand, Slice and the other shape
 * ops; nor anything not read yet. BatchNormalization is here for its single
 * output only: its extra outputs are the running statistics themselves
 * (NodeModule.isolatedForward refuses nodes with more than one output).
 */
const FRESH_OUTPUT_OPS: ReadonlySet<string> = new Set([
  'Conv', // conv2d: a fresh or pooled buffer it overwrote; conv3d ends in a permute (a copy)
  'Relu', // relu: a new array
  'MaxPool', // maxPool2d: a fresh or pooled buffer (the Indices output is refused)
  'AveragePool', // windowMean: allocate
  'GlobalAveragePool', // globalAvgPool2d, or mean: new arrays
  'BatchNormalization', // batchNorm: a new array; spatial = 0: add(mul(...))
  'Add', 'Sub', 'Mul', // addSameShape / binaryMap: allocate
  'Gemm', 'MatMul', // linear / matmul (and mul / add): allocate; transposes are copies
  'Concat', // concat: allocate, even for one input
  'LRN', // localResponseNorm: a new array
  'Softmax', 'LogSoftmax', // a new array (a reshape of it before opset 13)
  'Sigmoid', 'Clip', 'LeakyRelu', // a new array
]);

/** Whether `node`'s op returns a buffer of its own and keeps no reference to its inputs (see above). */
export function returnsFreshOutput(node: NodeProto): boolean {
  // Sum folds its inputs with add (a new array each); with one input it is an identity over the input's data.
  if (node.opType === 'Sum') return node.inputs.filter((name) => name !== '').length >= 2;
  return FRESH_OUTPUT_OPS.has(node.opType);
}
