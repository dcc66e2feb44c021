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
import { tensorFromProto, type DecodedTensor, type ExternalDataFile, type ExternalDataResolver } from './tensorData.js';
import { validateGraph } from './validate.js';

export { GraphModule, type LayerInfo } from './graph.js';
export { NodeModule, OnnxLinear, ReLU as OnnxReLU, TapModule } from './layers.js';
export { OnnxError, OnnxUnsupportedError, type UnsupportedOp } from './errors.js';
export type { ExternalDataFile, ExternalDataResolver } from './tensorData.js';
export type { Dim } from './proto.js';
export { supportedOps } from './ops/index.js';

export interface LoadOnnxOptions {
  /**
   * Bytes of an external data file by its `location` (a path relative to the
   * model file). Needed when initializers keep their data outside the model.
   */
  externalData?: ExternalDataResolver;
  /**
   * Opens an external data file by its `location`: its size and a reader of
   * byte ranges, so only the bytes the tensors name are read. Used in
   * preference to `externalData` when both are given.
   */
  externalFile?: (location: string) => ExternalDataFile;
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
 * anything is built: malformed bytes (OnnxError), graphs that break the
 * format's rules (no outputs, a name written twice, nodes out of order; see
 * validate.ts), unsupported ops (one OnnxUnsupportedError listing every op
 * type with its nodes), missing external data.
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
  validateGraph(model.graph);
  checkOps(model.graph);
  // If nodes take the outer tensors their branches read as explicit inputs.
  const graph = withBranchInputs(model.graph);
  const initializers = new Map<string, DecodedTensor>();
  for (const t of graph.initializers) initializers.set(t.name, tensorFromProto(t, options));
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
