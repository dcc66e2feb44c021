/**
 * `tinycam/tfjs`: TensorFlow.js models (the model.json of `model.save`,
 * tensorflowjs_converter, Teachable Machine) in tinycam's engine, every
 * layer hookable by its Keras name, so the CAM methods explain them. No Node
 * built-ins, no code generation, no TensorFlow.js at run time: runs on the
 * edge too. See docs/tfjs.md.
 */
import { TfjsError } from './errors.js';
import { isObject, object, string } from './json.js';
import { checkLayerClasses, layoutOf, TfjsLayersModel } from './layers-model.js';
import { checkGraph, TfjsGraphModel } from './graph/model.js';
import { readModel } from './keras/topology.js';
import { readWeights, type WeightSource } from './weights.js';

export { TfjsLayersModel, type TfjsLayerInfo } from './layers-model.js';
export { TfjsGraphModel, GraphLayer } from './graph/model.js';
export { supportedOps as supportedGraphOps } from './graph/ops/index.js';
export { TfjsError, TfjsUnsupportedError, type UnsupportedClass } from './errors.js';
export { Layout } from './layout.js';
export { KerasLayer } from './keras/layer.js';
export { TFJS_SCALING, toChannelsFirst, toChannelsLast } from './preprocess.js';
export type { WeightSource } from './weights.js';

export interface LoadTfjsOptions {
  /**
   * The weight shards: all of them concatenated in the order the manifest
   * lists them, or a function from a shard path (as the manifest writes it,
   * relative to model.json) to its bytes.
   */
  weights?: WeightSource;
}

export type TfjsModel = TfjsLayersModel | TfjsGraphModel;

/**
 * Build a TensorFlow.js model from its parsed model.json (a JSON string is
 * parsed) and its weights: a layers model (Keras functional or Sequential)
 * as a TfjsLayersModel, a graph model as a TfjsGraphModel. Everything is checked before anything is built:
 * a malformed model.json, layer classes tinycam does not run (one error
 * listing all of them), weight data that is short, missing or disagrees with
 * the topology. Each is a TfjsError saying what is wrong.
 */
export function loadTfjsModel(modelJson: unknown, options: LoadTfjsOptions = {}): TfjsModel {
  let json = modelJson;
  if (typeof json === 'string') {
    try {
      json = JSON.parse(json) as unknown;
    } catch (e) {
      throw new TfjsError(`loadTfjsModel: the model.json text is not JSON: ${(e as Error).message}`);
    }
  }
  const root = object(json, 'model.json');
  const topology = object(root.modelTopology, 'modelTopology');
  const format = root.format === undefined ? undefined : string(root.format, 'format');
  if (format !== undefined && format !== 'layers-model' && format !== 'graph-model') {
    throw new TfjsError(`loadTfjsModel: format '${format}' is not supported; accepted: 'layers-model', 'graph-model'`, 'E_TFJS_UNSUPPORTED');
  }
  // A graph model: a GraphDef's nodes (older converters leave format out).
  if (format === 'graph-model' || (format === undefined && Array.isArray(topology.node))) {
    checkGraph(root);
    return new TfjsGraphModel(root, readWeights(root.weightsManifest, options.weights));
  }
  // Keras and tensorflowjs_converter nest the model under model_config; tfjs's model.save does not.
  const config = isObject(topology.model_config) ? topology.model_config : topology;
  const definition = readModel(config, isObject(topology.model_config) ? 'modelTopology.model_config' : 'modelTopology');
  checkLayerClasses(definition);
  const weights = readWeights(root.weightsManifest, options.weights);
  return new TfjsLayersModel(definition, weights, layoutOf(definition));
}
