/**
 * GraphDef ops whose node returns a tensor over a buffer of its own that
 * nothing else holds, and keeps no reference to its inputs once it returns
 * (only a recorded gradient graph would): the nodes whose outputs and inputs
 * the graph runner may give back to the buffer pool
 * (layers/graphRecycling.ts). Read from each op's code in ops/ and the
 * tensor ops it calls. Any permute on the way (an input brought to NCHW or
 * to the TensorFlow layout, GraphOpNode storing a 4-D result channels-first)
 * is a copy (permuteData allocates), and fromNchw only tags the result.
 *
 * Not here, because they return their input or a view of it: Identity,
 * Reshape, Squeeze, ExpandDims, StridedSlice (slices and reshapes), and
 * Mean / Sum / Max (with no axes they return their input). Nor Placeholder
 * (the caller's feed, unless permuted), Shape, Transpose (a copy today, but
 * a layout op that a view could replace) or anything not read yet.
 */
const FRESH_OUTPUT_OPS: ReadonlySet<string> = new Set([
  // conv2d: a pooled or fresh buffer; then add / batchNorm / the activation (new arrays)
  'Conv2D', 'DepthwiseConv2dNative', '_FusedConv2D', 'FusedDepthwiseConv2dNative',
  'MatMul', '_FusedMatMul', // matmul: allocate; transposes and `canonical` are copies
  'BiasAdd', // add: addSameShape or binaryMap, both allocate (the bias is reshaped, the result is not)
  'FusedBatchNorm', 'FusedBatchNormV2', 'FusedBatchNormV3', // batchNorm (is_training is refused at load): a pooled buffer
  'MaxPool', 'AvgPool', // maxPool2d: a pooled buffer; avgPool2d: windowMean allocates
  'Softmax', // a new array
  'ResizeBilinear', 'ResizeNearestNeighbor', // interpolate: new arrays
  'Relu', 'Relu6', 'Elu', 'Selu', 'Sigmoid', 'Tanh', 'LeakyRelu', 'Prelu', // new or pooled arrays
  'Add', 'AddV2', 'Sub', 'Mul', 'RealDiv', 'Maximum', 'Minimum', // add / binaryMap: allocate
  'Sqrt', 'Rsqrt', 'Square', // unaryMap / div / mul: allocate
  'ConcatV2', 'Pack', // concat: allocate, even for one input
  'Pad', 'PadV2', 'MirrorPad', // pad: readRuns allocates
]);

/** Whether a node of op `op` returns a buffer of its own and keeps no reference to its inputs (see above). */
export function returnsFreshOutput(op: string): boolean {
  return FRESH_OUTPUT_OPS.has(op);
}
