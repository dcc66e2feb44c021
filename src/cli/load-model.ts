import { readFileSync } from 'node:fs';
import type { Module } from '../layers/module.js';
import { createModel, architectures } from '../models/index.js';
import { GraphModule } from '../onnx/graph.js';
import { loadOnnxFile } from '../node/index.js';
import { loadSafetensors } from '../tensor/safetensors.js';
import { UsageError } from './args.js';

export interface LoadedModel {
  model: Module;
  /** Where CAM methods should look when --layer is not given (undefined: the methods' own default). */
  camLayer?: string;
  /** [height, width] the model expects, when the file says. */
  inputSize?: [number, number];
  kind: 'onnx' | 'safetensors';
}

/** Load `--model`: an ONNX file, or torchvision weights as safetensors with `--arch`. */
export function loadModel(path: string, arch: string | undefined, numClasses: number | undefined): LoadedModel {
  if (/\.onnx$/i.test(path)) {
    const model = loadOnnxFile(path);
    return { model, inputSize: declaredInputSize(model), kind: 'onnx' };
  }
  if (/\.safetensors$/i.test(path)) {
    if (!arch) {
      throw new UsageError(`a .safetensors file holds weights only: name the architecture with --arch (one of ${Object.keys(architectures).join(', ')})`);
    }
    const weights = loadSafetensors(new Uint8Array(readFileSync(path)));
    // The class count comes from the classifier's weight in the file unless given.
    const probe = createModel(arch, { numClasses: 1 });
    const params = probe.namedParameters();
    const head = params[params.length - 1]![0].replace(/\.bias$/, '.weight');
    const classes = numClasses ?? weights[head]?.shape[0] ?? 1000;
    const model = createModel(arch, { numClasses: classes });
    model.loadStateDict(weights);
    model.eval();
    return { model, camLayer: model.camLayer, kind: 'safetensors' };
  }
  throw new UsageError(`--model must be a .onnx file or a .safetensors file of weights (got '${path}')`);
}

/** The spatial size of the graph's first input, when the file declares it with numbers. */
function declaredInputSize(model: GraphModule): [number, number] | undefined {
  const shape = model.inputShapes[model.inputNames[0]!];
  if (shape && shape.length === 4 && typeof shape[2] === 'number' && typeof shape[3] === 'number') {
    return [shape[2], shape[3]];
  }
  return undefined;
}
