/**
 * `tinycam compare`: every chosen method's map of one image, scored by the
 * faithfulness metrics, written as one self-contained HTML page
 * (compare-report.ts) from the data compareMethods (src/metrics) returns.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { centerCrop, decodeImage, IMAGENET_MEAN, IMAGENET_STD, preprocess, resize, shorterSideSize } from '../image/index.js';
import { ALL_METRICS, COMPARE_METHODS, DEFAULT_COMPARE_METHODS, compareMethods, type Comparison, type MetricName } from '../metrics/compare.js';
import { UsageError } from './args.js';
import { BACKEND_HELP, BACKEND_OPTION, parseBackendOption, type CliBackend } from './backend-option.js';
import { integer, MAX_RESIZE, MODEL_IMAGE_OPTIONS, numberList, optional, sizeOption } from './option-values.js';
import { renderReport } from './compare-report.js';
import { readRegularFile } from '../node/index.js';
import { readLabels } from './classes.js';
import { MAX_IMAGE_BYTES } from './explain.js';
import { loadModel } from './load-model.js';

export const COMPARE_HELP = `tinycam compare: run several methods on one image, score each map, write one HTML report.

Usage:
  tinycam compare --model <model.onnx | weights.safetensors> --image <file> [--methods a,b,...] --out report.html

Options:
  -m, --model <path>       an ONNX model, or torchvision weights (.safetensors) with --arch
  -a, --arch <name>        torchvision architecture for .safetensors weights
      --num-classes <n>    classes of the weights (read from the file when omitted)
  -i, --image <path>       a PNG or JPEG file
      --methods <list>     comma-separated (default ${DEFAULT_COMPARE_METHODS.join(',')}); available:
                           ${Object.keys(COMPARE_METHODS).join(', ')}
      --metrics <list>     comma-separated (default all): ${ALL_METRICS.join(', ')}
  -l, --layer <name>       layer for the CAM methods (repeat for several; default: the model's)
  -t, --target <index>     class to explain (default: the top class)
      --labels <file>      class names, one per line
      --size <pixels>      model input size, square (224) or width x height (320x240) (default: the ONNX input's declared size, else 224)
      --resize <pixels>    resize the shorter side to this before the centre crop (default: --size)
      --mean a,b,c / --std a,b,c / --no-normalize   as in 'tinycam explain'
      --steps <n>          deletion/insertion intervals (default 20)
      --top <k>            classes listed (default 5)
  -o, --out <file>         the report (default report.html)
      --json               also print the scores as JSON
${BACKEND_HELP}`;

export interface CompareArgs {
  model: string;
  arch?: string;
  numClasses?: number;
  image: string;
  methods: string[];
  metrics: MetricName[];
  layer?: string[];
  target?: number;
  labels?: string;
  /** [height, width] of the model input (--size 224 or 320x240). */
  size?: [number, number];
  resize?: number;
  mean: number[];
  std: number[];
  steps: number;
  top: number;
  out: string;
  json: boolean;
  /** The kernels (--backend): 'wasm' (default) or 'js'; the command (command.ts) puts them in place before compareCommand runs. */
  backend: CliBackend;
}


/** Method names as typed: any case, and the explain command's spellings (gradcam++, gradcampp). */
function methodName(typed: string): string {
  const key = typed.trim().toLowerCase().replace(/\+\+$|pp$/, 'plusplus').replace(/-/g, '');
  const found = Object.keys(COMPARE_METHODS).find((name) => name.toLowerCase() === key);
  if (!found) throw new UsageError(`unknown method '${typed}' in --methods; available: ${Object.keys(COMPARE_METHODS).join(', ')}`);
  return found;
}

export function parseCompareArgs(argv: string[]): CompareArgs {
  const { values } = parseArgs({
    args: argv,
    options: {
      ...MODEL_IMAGE_OPTIONS,
      methods: { type: 'string' },
      metrics: { type: 'string' },
      steps: { type: 'string', default: '20' },
      out: { type: 'string', short: 'o', default: 'report.html' },
      ...BACKEND_OPTION,
    },
    allowPositionals: false,
    strict: true,
  });
  if (!values.model) throw new UsageError('compare needs --model <model.onnx | weights.safetensors>');
  if (!values.image) throw new UsageError('compare needs --image <photo.png | photo.jpg>');
  const methods = values.methods ? values.methods.split(',').filter((s) => s.trim()).map(methodName) : [...DEFAULT_COMPARE_METHODS];
  const metrics = values.metrics
    ? values.metrics.split(',').map((s) => {
        const found = ALL_METRICS.find((m) => m.toLowerCase() === s.trim().toLowerCase());
        if (!found) throw new UsageError(`unknown metric '${s}' in --metrics; available: ${ALL_METRICS.join(', ')}`);
        return found;
      })
    : [...ALL_METRICS];
  const normalize = !values['no-normalize'];
  return {
    model: values.model,
    arch: values.arch,
    ...optional('numClasses', integer(values['num-classes'], 'num-classes', 1, 1_000_000)),
    image: values.image,
    methods,
    metrics,
    layer: values.layer,
    ...optional('target', integer(values.target, 'target', 0)),
    labels: values.labels,
    ...optional('size', sizeOption(values.size)),
    ...optional('resize', integer(values.resize, 'resize', 1, MAX_RESIZE)),
    mean: normalize ? (numberList(values.mean, 'mean', 3) ?? [...IMAGENET_MEAN]) : [0, 0, 0],
    std: normalize ? (numberList(values.std, 'std', 3, true) ?? [...IMAGENET_STD]) : [1, 1, 1],
    steps: integer(values.steps, 'steps', 1, 10_000)!,
    top: integer(values.top, 'top', 1, 100_000)!,
    out: values.out!,
    json: values.json!,
    backend: parseBackendOption(values.backend),
  };
}

/** Runs the comparison and writes the report; returns its data. */
export function compareCommand(args: CompareArgs, log: (line: string) => void = console.log, progress: (line: string) => void = (l) => process.stderr.isTTY && process.stderr.write(`\r${l.padEnd(60)}`)): Comparison {
  const loaded = loadModel(args.model, args.arch, args.numClasses);
  const labels = args.labels ? readLabels(args.labels) : undefined;
  const [height, width] = args.size ?? loaded.inputSize ?? [224, 224];
  // Regular files only (no hang on /dev/zero), of a sane size.
  const image = decodeImage(readRegularFile(args.image, '--image', MAX_IMAGE_BYTES));
  // The picture the model sees: shorter side resized, centre cropped (as tinycam explain).
  const seen = centerCrop(resize(image, { ...shorterSideSize(image.width, image.height, args.resize ?? Math.max(height, width)), antialias: true }), { width, height });
  const input = preprocess(seen, { mean: args.mean, std: args.std });
  const layer = args.layer ?? loaded.camLayer;
  const comparison = compareMethods(loaded.model, input, {
    methods: args.methods,
    metrics: args.metrics,
    ...(layer !== undefined ? { layer: Array.isArray(layer) && layer.length === 1 ? layer[0]! : layer } : {}),
    ...(args.target !== undefined ? { target: args.target } : {}),
    labels,
    topK: args.top,
    steps: args.steps,
    onProgress: progress,
  });
  const html = renderReport(comparison, seen, {
    title: `Which map to believe? ${basename(args.image)}`,
    model: basename(args.model),
    image: basename(args.image),
    created: new Date().toISOString().slice(0, 10),
  });
  mkdirSync(dirname(args.out) || '.', { recursive: true });
  writeFileSync(args.out, html);
  if (process.stderr.isTTY) process.stderr.write('\n');
  // Without --labels the label is "class 3" already; with them, "class 3, tabby".
  const explained = comparison.targetLabel === `class ${comparison.target}` ? comparison.targetLabel : `class ${comparison.target}, ${comparison.targetLabel}`;
  log(`${comparison.methods.length} methods on ${basename(args.image)} (${explained}) -> ${args.out}`);
  for (const m of comparison.methods) {
    const scores = comparison.metrics.map((metric) => `${metric.name} ${m.metrics[metric.name]?.toFixed(4) ?? '-'}`).join(', ');
    log(`  ${m.name.padEnd(16)} ${m.error ? `failed: ${m.error}` : `${m.timeMs.toFixed(0)} ms; ${scores}`}`);
  }
  if (args.json) {
    log(JSON.stringify({ target: comparison.target, top: comparison.top, methods: comparison.methods.map(({ map: _map, ...rest }) => rest) }, null, 2));
  }
  return comparison;
}
