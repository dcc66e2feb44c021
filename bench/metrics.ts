/**
 * The cost of each metric and black-box method: model calls, inputs scored
 * and time, for the shapes model (64x64, examples/shapes) and ResNet-18
 * (tinycam/models, random weights, 224x224). Prints a Markdown section for
 * bench/RESULTS.md.
 *
 *   npx tsx bench/metrics.ts [shapes|resnet18|both] [--rise-resnet]
 *
 * Every metric counts its own model calls (result.cost). Where running a
 * metric on ResNet-18 would take minutes, it is run against a stand-in
 * scoring function that returns zeros (the counts are the metric's own,
 * exact), and its time is estimated as inputs x the measured time per input
 * of a batched ResNet-18 forward pass; those rows say "estimated".
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { gradCam } from '../src/cam/index.js';
import { noGrad } from '../src/tensor/autograd.js';
import { Tensor } from '../src/tensor/tensor.js';
import { randn } from '../src/tensor/random.js';
import type { Module } from '../src/layers/module.js';
import { createModel } from '../src/models/index.js';
import {
  arcc, averageDrop, confidenceChange, deletion, featureAblation, insertion, modelParameterRandomisation, occlusion, pointingGame, rise, road, roadCombined,
  type Scorable,
} from '../src/metrics/index.js';
import { scenesToTensor } from '../examples/shapes/data.js';
import { generateScenes, TEST_SEED_BASE } from '../examples/shapes/generate.js';
import { CAM_LAYER } from '../examples/shapes/model.js';
import { loadShapesNet } from '../examples/shapes/weights.js';

interface Row { name: string; passes: number; inputs: number; wall: number; cpu: number; estimated: boolean }

function timed<T>(run: () => T): { result: T; wall: number; cpu: number } {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const result = run();
  const wall = performance.now() - t0;
  const c = process.cpuUsage(c0);
  return { result, wall, cpu: (c.user + c.system) / 1000 };
}

type Metric = { name: string; run: (model: Scorable, input: Tensor, maps: Tensor) => { cost?: { forwardPasses: number; inputs: number } }; heavy?: boolean };

function metrics(layer: string, width: number): Metric[] {
  return [
    { name: 'confidenceChange (also drop, increase)', run: (m, x, maps) => confidenceChange(m, x, maps) },
    { name: 'averageDrop', run: (m, x, maps) => averageDrop(m, x, maps) },
    { name: 'road (MoRF, p80, noise 0)', run: (m, x, maps) => road(m, x, maps, { noise: 0 }) },
    { name: 'roadCombined (9 percentiles)', run: (m, x, maps) => roadCombined(m, x, maps, { noise: 0 }) },
    { name: 'arcc (Grad-CAM rerun not counted)', run: (m, x, maps) => arcc(m, x, maps, { noise: 0, methodOptions: { layer } }) },
    { name: "deletion (torch-cam's 20 steps)", run: (m, x, maps) => deletion(m, x, maps, { convention: 'torch-cam' }) },
    { name: "insertion (torch-cam's 20 steps, blur)", run: (m, x, maps) => insertion(m, x, maps, { convention: 'torch-cam', substrate: 'blur' }) },
    { name: `deletion (RISE's step = ${width} px)`, run: (m, x, maps) => deletion(m, x, maps), heavy: true },
    { name: 'pointingGame / relevance metrics', run: (_m, x, maps) => ({ ...pointingGame(null, x, maps, { boxes: [0, 0, 9, 9] }), cost: { forwardPasses: 0, inputs: 0 } }) },
    { name: 'occlusion (window H/8, stride H/16)', run: (m, x) => occlusion(m, x, { window: width / 8, stride: width / 16 }), heavy: true },
    { name: 'featureAblation (SLIC, 50 segments)', run: (m, x) => featureAblation(m, x), heavy: true },
    { name: 'rise (4,000 masks, batches of 32)', run: (m, x) => rise(m, x, { masks: 4000 }), heavy: true },
  ];
}

/** Rows are also printed as they finish (stderr), so a run cut short keeps what it measured. */
const show = (r: Row) => console.error(`| ${r.name} | ${r.passes} | ${r.inputs} | ${r.wall.toFixed(0)} / ${r.cpu.toFixed(0)}${r.estimated ? ' (estimated)' : ''} |`);

function bench(label: string, model: Module, input: Tensor, layer: string, estimateHeavy: boolean): Row[] {
  const maps = gradCam(model, input, { layer }).maps;
  // Time per input of a batched forward pass (batches of 32, as the metrics use).
  const batch = new Tensor(new Float32Array(32 * input.size).map((_, i) => input.data[i % input.size]!), [32, ...input.shape.slice(1)]);
  noGrad(() => model.forward(batch));
  const f = timed(() => (noGrad(() => model.forward(batch)), {}));
  const perInput = { wall: f.wall / 32, cpu: f.cpu / 32 };
  console.error(`${label}: ${perInput.wall.toFixed(1)} ms wall / ${perInput.cpu.toFixed(1)} ms cpu per input in batches of 32`);
  const zeros = (b: Tensor) => new Float32Array(b.shape[0]! * 10);
  const rows: Row[] = [];
  for (const metric of metrics(layer, input.shape[3]!)) {
    console.error(`  ${metric.name}`);
    if (metric.heavy && estimateHeavy) {
      const { result } = timed(() => metric.run(zeros, input, maps));
      const cost = result.cost!;
      rows.push({ name: metric.name, passes: cost.forwardPasses, inputs: cost.inputs, wall: cost.inputs * perInput.wall, cpu: cost.inputs * perInput.cpu, estimated: true });
      show(rows[rows.length - 1]!);
      continue;
    }
    const { result, wall, cpu } = timed(() => metric.run(model, input, maps));
    rows.push({ name: metric.name, passes: result.cost!.forwardPasses, inputs: result.cost!.inputs, wall, cpu, estimated: false });
    show(rows[rows.length - 1]!);
  }
  if (estimateHeavy) {
    // One Grad-CAM per layer with parameters; Grad-CAM costs about one forward pass (bench/gradcam-ratio.ts).
    const layers = model.namedModules().filter(([, m]) => m.namedOwnParameters().length > 0).length;
    const g = timed(() => gradCam(model, input, { layer }));
    rows.push({ name: `modelParameterRandomisation (${layers} layers, one Grad-CAM each)`, passes: layers, inputs: layers, wall: layers * g.wall, cpu: layers * g.cpu, estimated: true });
  } else {
    const mprt = timed(() => modelParameterRandomisation(model, input, maps, { methodOptions: { layer } }));
    rows.push({ name: `modelParameterRandomisation (${mprt.result.steps.length} layers, one Grad-CAM each)`, passes: mprt.result.steps.length, inputs: mprt.result.steps.length, wall: mprt.wall, cpu: mprt.cpu, estimated: false });
  }
  rows.unshift({ name: 'one forward pass, per input (batched)', passes: 1, inputs: 1, wall: perInput.wall, cpu: perInput.cpu, estimated: false });
  return rows;
}

function table(title: string, rows: Row[]): string {
  const lines = [`### ${title}`, '', '| metric | model calls | inputs scored | ms (wall / cpu) |', '|---|---|---|---|'];
  for (const r of rows) lines.push(`| ${r.name} | ${r.passes} | ${r.inputs} | ${r.wall.toFixed(0)} / ${r.cpu.toFixed(0)}${r.estimated ? ' (estimated)' : ''} |`);
  return lines.join('\n');
}

const which = process.argv[2] ?? 'both';
const out: string[] = [
  '## Metrics and black-box methods (bench/metrics.ts)',
  '',
  `${new Date().toISOString()}, ${os.cpus()[0]?.model ?? 'cpu'} (${os.cpus().length} logical cores), node ${process.version}; load average at start ${os.loadavg().map((v) => v.toFixed(1)).join(', ')}.`,
  'One image; maps from Grad-CAM; inputs scored in batches of 32 (one model call per batch; the unperturbed input is one call).',
  '',
];
if (which === 'shapes' || which === 'both') {
  const { model } = loadShapesNet(readFileSync(new URL('../examples/shapes/shapes-cnn.safetensors', import.meta.url)));
  out.push(table('shapes model (examples/shapes, 1x3x64x64)', bench('shapes', model, scenesToTensor(generateScenes(TEST_SEED_BASE, 1)), CAM_LAYER, false)), '');
}
if (which === 'resnet18' || which === 'both') {
  const model = createModel('resnet18', { numClasses: 1000 });
  model.eval();
  const input = randn([1, 3, 224, 224], { seed: 1 });
  out.push(table('ResNet-18 (tinycam/models, random weights, 1x3x224x224)', bench('resnet18', model, input, 'layer4', !process.argv.includes('--rise-resnet'))), '');
}
console.log(out.join('\n'));
