/**
 * Dropped files to a model, in the worker. Each format is one ModelLoader;
 * the first that accepts the files loads them. TensorFlow.js (model.json
 * plus its .bin shards) joins the list as one more loader when `tinycam/tfjs`
 * lands; until then a model.json gets a message saying so.
 */
import { ArgumentError, loadSafetensors, noGrad, zeros, type Module, type Tensor } from 'tinycam';
import { GraphModule, loadOnnx } from 'tinycam/onnx';
import { architectures, createModel } from 'tinycam/models';
import type { Explainable } from '../../examples/explainer/pipeline.js';
import { shapesExplainable } from '../../examples/explainer/shapes.js';
import type { LayerRow, NamedBytes } from './protocol.js';

export interface ModelLoader {
  /** Shown in the page ('ONNX', 'safetensors + architecture'). */
  format: string;
  accepts(files: readonly NamedBytes[]): boolean;
  load(files: readonly NamedBytes[], options: { arch?: string }): Explainable;
}

/** The architecture name that means the built-in shapes model's layout (examples/shapes). */
export const SHAPES_ARCH = 'shapesnet';

const extension = (name: string): string => name.toLowerCase().match(/\.[^.]+$/)?.[0] ?? '';
const baseName = (path: string): string => path.split(/[\\/]/).pop() ?? path;

/** The spatial size the graph's first input declares, else 224x224. */
function onnxInputSize(model: GraphModule): [number, number] {
  const shape = model.inputShapes[model.inputNames[0] ?? ''];
  if (shape && shape.length === 4 && typeof shape[2] === 'number' && typeof shape[3] === 'number') return [shape[2], shape[3]];
  return [224, 224];
}

const onnxLoader: ModelLoader = {
  format: 'ONNX',
  accepts: (files) => files.some((f) => extension(f.name) === '.onnx'),
  load(files) {
    const graphs = files.filter((f) => extension(f.name) === '.onnx');
    if (graphs.length > 1) throw new ArgumentError(`drop one .onnx model at a time (got ${graphs.map((f) => f.name).join(', ')})`);
    const graph = graphs[0]!;
    const others = new Map(files.filter((f) => f !== graph).map((f) => [f.name, f.bytes]));
    const model = loadOnnx(graph.bytes, {
      // External data is looked up by file name: drop the .onnx and its data files together.
      externalData: (location) => {
        const bytes = others.get(baseName(location));
        if (!bytes) {
          throw new ArgumentError(`${graph.name} keeps its weights in the file '${location}': drop it together with the .onnx (dropped: ${[...others.keys()].join(', ') || 'nothing else'})`);
        }
        return bytes;
      },
    });
    return { model, name: graph.name, inputSize: onnxInputSize(model), normalization: 'imagenet' };
  },
};

const safetensorsLoader: ModelLoader = {
  format: 'safetensors + architecture',
  accepts: (files) => files.length === 1 && extension(files[0]!.name) === '.safetensors',
  load(files, { arch }) {
    const file = files[0]!;
    if (!arch) {
      throw new ArgumentError(`${file.name} holds weights only: choose its architecture (${SHAPES_ARCH}, ${Object.keys(architectures).join(', ')}) and drop it again`);
    }
    if (arch === SHAPES_ARCH) return { ...shapesExplainable(file.bytes), name: file.name };
    const weights = loadSafetensors(file.bytes);
    // The class count comes from the classifier's weight in the file (as the CLI does).
    const params = createModel(arch, { numClasses: 1 }).namedParameters();
    const head = params[params.length - 1]![0].replace(/\.bias$/, '.weight');
    const model = createModel(arch, { numClasses: weights[head]?.shape[0] ?? 1000 });
    model.loadStateDict(weights);
    model.eval();
    return { model, name: `${file.name} (${arch})`, inputSize: [224, 224], normalization: 'imagenet', camLayer: model.camLayer };
  },
};

/** Tried in order. The TensorFlow.js loader goes here when tinycam/tfjs is on main. */
export const LOADERS: readonly ModelLoader[] = [onnxLoader, safetensorsLoader];

/** The loader for these files, or an error that says what is accepted. */
export function loaderFor(files: readonly NamedBytes[]): ModelLoader {
  const loader = LOADERS.find((l) => l.accepts(files));
  if (loader) return loader;
  const names = files.map((f) => f.name).join(', ');
  if (files.some((f) => baseName(f.name).toLowerCase().endsWith('.json'))) {
    throw new ArgumentError(`${names}: TensorFlow.js models (model.json + shards) are not supported by this page yet; drop an .onnx model or a .safetensors state dict`);
  }
  throw new ArgumentError(`${names}: not a model this page reads; drop one .onnx (with its external data files) or one .safetensors state dict with its architecture`);
}

/** The model's layers with their output shapes for one input of `size`, from one forward pass without gradients. */
export function layerRows(subject: Explainable): { rows: LayerRow[]; classes: number } {
  const { model } = subject;
  const [h, w] = subject.inputSize;
  const shapes = new Map<string, number[]>();
  const modules = model.namedModules().filter(([name]) => name !== '');
  const handles = modules.map(([name, m]) => m.registerForwardHook((_m: Module, _inputs: unknown, output: Tensor) => void shapes.set(name, [...output.shape])));
  let logits: Tensor;
  try {
    logits = noGrad(() => model.forward(zeros([1, 3, h, w])));
  } finally {
    for (const handle of handles) handle.remove();
  }
  const opTypes = model instanceof GraphModule ? new Map(model.layers().map((l) => [l.name, l.opType])) : null;
  const rows = modules.flatMap(([name, m]) => {
    const shape = shapes.get(name);
    return shape ? [{ name, type: opTypes?.get(name) ?? m.typeName, shape }] : [];
  });
  return { rows, classes: logits.shape[logits.shape.length - 1]! };
}
