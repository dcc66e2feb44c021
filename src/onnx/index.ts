/**
 * `tinycam/onnx`: run an ONNX model in tinycam's engine, with autodiff
 * through every op and every node output hookable, so CAM methods explain
 * ONNX models as they explain layers-API models. No Node built-ins, no code
 * generation: runs on the edge too.
 */
import { OnnxError, OnnxUnsupportedError, type UnsupportedOp } from './errors.js';
import { GraphModule } from './graph.js';
import { allNodes, withBranchInputs } from './ops/control.js';
import { ONNX_OPS, supportedOps, unsupportedForm } from './ops/index.js';
import { decodeModel, type GraphProto } from './proto.js';
import { tensorFromProto, type DecodedTensor, type ExternalDataResolver } from './tensorData.js';

export { GraphModule, type LayerInfo } from './graph.js';
export { NodeModule, OnnxLinear, ReLU as OnnxReLU, TapModule } from './layers.js';
export { OnnxError, OnnxUnsupportedError, type UnsupportedOp } from './errors.js';
export type { ExternalDataResolver } from './tensorData.js';
export type { Dim } from './proto.js';
export { supportedOps } from './ops/index.js';

export interface LoadOnnxOptions {
  /**
   * Bytes of an external data file by its `location` (a path relative to the
   * model file). Needed when initializers keep their data outside the model.
   */
  externalData?: ExternalDataResolver;
}

/**
 * Default-domain opsets the importer runs. The target is 7 to 21; older
 * files (the ONNX project's converted PyTorch tests are opset 6) run too,
 * with their ops' old attribute forms (legacy broadcast/axis, attribute pads
 * and clip bounds, BatchNormalization's is_test/spatial/consumed_inputs).
 */
export const MIN_OPSET = 1;
export const MAX_OPSET = 21;

/**
 * Decode an ONNX model and build a GraphModule. Everything is checked before
 * anything is built: malformed bytes (OnnxError), unsupported ops (one
 * OnnxUnsupportedError listing every op type with its nodes), missing
 * external data, nodes that use tensors nothing produces.
 */
export function loadOnnx(bytes: Uint8Array, options: LoadOnnxOptions = {}): GraphModule {
  if (!(bytes instanceof Uint8Array)) {
    throw new OnnxError('loadOnnx: expected the model file as a Uint8Array (or Buffer)');
  }
  const model = decodeModel(bytes);
  if (!model.graph) throw new OnnxError(`loadOnnx: the file (${bytes.length} bytes) holds no graph; it is not an ONNX model or is truncated`);
  const opset = model.opsetImports.find((o) => o.domain === '' || o.domain === 'ai.onnx')?.version;
  if (opset === undefined) {
    throw new OnnxError('loadOnnx: the model imports no default-domain (ai.onnx) opset');
  }
  if (opset < MIN_OPSET || opset > MAX_OPSET) {
    throw new OnnxError(
      `loadOnnx: the model uses opset ${opset}; tinycam runs opsets up to ${MAX_OPSET} (convert it with onnx.version_converter)`,
      'E_ONNX_UNSUPPORTED',
    );
  }
  checkOps(model.graph);
  // If nodes take the outer tensors their branches read as explicit inputs.
  const graph = withBranchInputs(model.graph);
  checkOrder(graph);
  const initializers = new Map<string, DecodedTensor>();
  for (const t of graph.initializers) initializers.set(t.name, tensorFromProto(t, options.externalData));
  return new GraphModule(graph, opset, initializers);
}

function checkOps(graph: GraphProto): void {
  const unsupported = new Map<string, UnsupportedOp>();
  // Nodes inside If branches count too: one error lists everything.
  for (const node of allNodes(graph)) {
    const defaultDomain = node.domain === '' || node.domain === 'ai.onnx';
    const known = defaultDomain && Object.hasOwn(ONNX_OPS, node.opType);
    const detail = known ? unsupportedForm(node) : null;
    if (known && !detail) continue;
    const key = `${node.domain}|${node.opType}|${detail ?? ''}`;
    if (!unsupported.has(key)) {
      unsupported.set(key, { opType: node.opType, domain: node.domain, nodes: [], ...(detail ? { detail } : {}) });
    }
    unsupported.get(key)!.nodes.push(node.name || `(unnamed, output '${node.outputs[0] ?? ''}')`);
  }
  if (unsupported.size) throw new OnnxUnsupportedError([...unsupported.values()], supportedOps());
}

/** ONNX requires nodes in topological order: each input made before it is used. */
function checkOrder(graph: GraphProto): void {
  const available = new Set<string>([...graph.inputs.map((v) => v.name), ...graph.initializers.map((t) => t.name)]);
  for (const node of graph.nodes) {
    for (const name of node.inputs) {
      if (name && !available.has(name)) {
        throw new OnnxError(
          `loadOnnx: node '${node.name || node.outputs[0]}' (${node.opType}) uses tensor '${name}', which no graph input, initializer or earlier node provides`,
        );
      }
    }
    for (const name of node.outputs) if (name) available.add(name);
  }
  for (const out of graph.outputs) {
    if (!available.has(out.name)) throw new OnnxError(`loadOnnx: graph output '${out.name}' is produced by no node`);
  }
}
