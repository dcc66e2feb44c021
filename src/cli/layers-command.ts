import { GraphModule } from '../onnx/graph.js';
import { withForwardHooks } from '../layers/hooks.js';
import { noGrad } from '../tensor/autograd.js';
import { zeros } from '../tensor/tensor.js';
import type { LayersArgs } from './args.js';
import { loadModel } from './load-model.js';
import { suggestReshape } from './reshape-option.js';
import { Terminal, printable } from './terminal.js';

export interface LayerRow {
  name: string;
  type: string;
  shape: number[] | null;
  /** For a token layer [N, T, C]: the --reshape it most likely needs (vit:14x14:1). */
  reshape?: string;
}

/**
 * `tinycam layers`: every hookable layer with its output shape, from one
 * forward pass on a zero image (shapes are what CAM methods will see).
 * Linear in the number of layers: one map of the graph's op types, one
 * hook per layer.
 */
export function layersCommand(args: LayersArgs, terminal: Terminal = new Terminal()): LayerRow[] {
  const loaded = loadModel(args.model, args.arch, args.numClasses);
  const { model } = loaded;
  const [h, w] = args.size ?? loaded.inputSize ?? [224, 224];
  const shapes = new Map<string, number[]>();
  const modules = model.namedModules().filter(([name]) => name !== '');
  withForwardHooks(modules, (name, _m, _inputs, output) => void shapes.set(name, [...output.shape]), () =>
    noGrad(() => model.forward(zeros(model.inputLayout === 'NHWC' ? [1, h, w, 3] : [1, 3, h, w]))),
  );
  const opTypes = model instanceof GraphModule ? new Map(model.layers().map((l) => [l.name, l.opType])) : undefined;
  const rows = modules.map(([name, m]): LayerRow => {
    const shape = shapes.get(name) ?? null;
    return { name, type: opTypes?.get(name) ?? m.typeName, shape, ...(shape?.length === 3 ? { reshape: suggestReshape(shape[1]!).flag } : {}) };
  });
  const shown = rows.map((r) => ({ name: printable(r.name), type: printable(r.type), shape: r.shape, reshape: r.reshape }));
  const width = Math.min(70, shown.reduce((most, r) => Math.max(most, r.name.length), 5));
  terminal.log(`${'layer'.padEnd(width)}  ${'type'.padEnd(22)} output shape`);
  for (const r of shown) terminal.log(`${r.name.padEnd(width)}  ${r.type.padEnd(22)} ${r.shape ? `[${r.shape.join(', ')}]` : '(not run)'}${r.reshape ? `  tokens: use --reshape ${r.reshape}` : ''}`);
  if (loaded.camLayer) terminal.log(`\nrecommended CAM layer: ${loaded.camLayer}`);
  if (rows.some((r) => r.reshape)) terminal.log('\nToken layers [N, tokens, C] need --reshape to become [N, C, h, w]; the grid shown assumes a square one (see tinycam explain --help).');
  return rows;
}
