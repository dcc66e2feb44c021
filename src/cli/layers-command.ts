import { GraphModule } from '../onnx/graph.js';
import { noGrad } from '../tensor/autograd.js';
import { zeros } from '../tensor/tensor.js';
import type { Tensor } from '../tensor/tensor.js';
import type { LayersArgs } from './args.js';
import { loadModel } from './load-model.js';

/**
 * `tinycam layers`: every hookable layer with its output shape, from one
 * forward pass on a zero image (shapes are what CAM methods will see).
 */
export function layersCommand(args: LayersArgs, log: (line: string) => void = console.log): { name: string; type: string; shape: number[] | null }[] {
  const loaded = loadModel(args.model, args.arch, args.numClasses);
  const { model } = loaded;
  const [h, w] = args.size ? [args.size, args.size] : (loaded.inputSize ?? [224, 224]);
  const shapes = new Map<string, number[]>();
  const modules = model.namedModules().filter(([name]) => name !== '');
  const handles = modules.map(([name, m]) =>
    m.registerForwardHook((_m, _inputs, output: Tensor) => {
      shapes.set(name, [...output.shape]);
    }),
  );
  try {
    noGrad(() => model.forward(zeros(model.inputLayout === 'NHWC' ? [1, h, w, 3] : [1, 3, h, w])));
  } finally {
    for (const handle of handles) handle.remove();
  }
  const rows = modules.map(([name, m]) => ({
    name,
    type: model instanceof GraphModule ? (model.layers().find((l) => l.name === name)?.opType ?? m.typeName) : m.typeName,
    shape: shapes.get(name) ?? null,
  }));
  const width = Math.min(70, Math.max(...rows.map((r) => r.name.length), 4));
  log(`${'layer'.padEnd(width)}  ${'type'.padEnd(22)} output shape`);
  for (const r of rows) log(`${r.name.padEnd(width)}  ${r.type.padEnd(22)} ${r.shape ? `[${r.shape.join(', ')}]` : '(not run)'}`);
  if (loaded.camLayer) log(`\nrecommended CAM layer: ${loaded.camLayer}`);
  return rows;
}
