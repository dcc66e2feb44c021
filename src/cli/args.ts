import { parseArgs } from 'node:util';
import { COLORMAP_NAMES, type ColormapName } from '../image/index.js';
import type { BoxFormat } from '../cam/boxTarget.js';
import { UsageError } from './args-error.js';
import { BACKEND_OPTION, parseBackendOption, type CliBackend } from './backend-option.js';
import { integer, MAX_RESIZE, MODEL_IMAGE_OPTIONS, numberList, optional, sizeOption } from './option-values.js';
import { METHODS, methodByName, type MethodSpec } from './methods.js';
import { parseReshapeOption, type ReshapeOption } from './reshape-option.js';
import { parseBoxFormat, parseTargetOption, type TargetOption } from './target-option.js';

export { UsageError };
export { CLI_BACKENDS, type CliBackend } from './backend-option.js';

export interface ExplainArgs {
  model: string;
  arch?: string;
  numClasses?: number;
  image: string;
  /** The method's key in METHODS ('gradcam', 'saliency', …) and its spec. */
  method: string;
  methodSpec: MethodSpec;
  layer?: string[];
  /** What to explain: a class, a segmentation class or a detector's box (classes as indices or --labels names). */
  target?: TargetOption;
  /** How a detector's output is laid out, for a box target (default: detected from the outputs). */
  boxFormat?: BoxFormat;
  /** How a token or channels-last layer becomes [N, C, h, w] (map methods). */
  reshape?: ReshapeOption;
  /** The model output to explain (an ONNX graph output's name); default the first. */
  output?: string;
  /** Explain the probability a final softmax makes instead of the logit before it. */
  explainProbability: boolean;
  labels?: string;
  out?: string;
  mapOut?: string;
  /** [height, width] of the model input. */
  size?: [number, number];
  resize?: number;
  mean?: number[];
  std?: number[];
  normalize: boolean;
  colormap: ColormapName;
  alpha: number;
  blend: 'seed' | 'pytorch-grad-cam';
  top: number;
  json: boolean;
  force: boolean;
  /** Worker threads for a folder of images (--jobs; 1: this thread only). */
  jobs: number;
  /** The kernels (--backend): 'wasm' (default: WebAssembly SIMD, each worker too) or 'js' (backend-option.ts). */
  backend: CliBackend;
}

export function parseExplainArgs(argv: string[]): ExplainArgs {
  const { values } = parseArgs({
    args: argv,
    options: {
      ...MODEL_IMAGE_OPTIONS,
      method: { type: 'string', default: 'gradcam' },
      output: { type: 'string' },
      'box-format': { type: 'string' },
      reshape: { type: 'string' },
      'explain-probability': { type: 'boolean', default: false },
      out: { type: 'string', short: 'o' },
      'map-out': { type: 'string' },
      colormap: { type: 'string', default: 'jet' },
      alpha: { type: 'string', default: '0.4' },
      blend: { type: 'string', default: 'seed' },
      force: { type: 'boolean', short: 'f', default: false },
      jobs: { type: 'string', short: 'j', default: '1' },
      ...BACKEND_OPTION,
    },
    allowPositionals: false,
    strict: true,
  });
  if (!values.model) throw new UsageError('explain needs --model <model.onnx | weights.safetensors>');
  if (!values.image) throw new UsageError('explain needs --image <photo.png | photo.jpg | folder>');
  const method = methodByName(values.method!);
  if (!method) throw new UsageError(`unknown --method '${values.method}'; accepted: ${[...METHODS.keys()].join(', ')}`);
  const alpha = /^\s*[0-9.eE+-]+\s*$/.test(values.alpha!) ? Number(values.alpha) : Number.NaN;
  if (!(alpha >= 0 && alpha <= 1)) throw new UsageError(`--alpha takes a number from 0 to 1 (got '${values.alpha}')`);
  if (values.blend !== 'seed' && values.blend !== 'pytorch-grad-cam') {
    throw new UsageError(`--blend takes 'seed' or 'pytorch-grad-cam' (got '${values.blend}')`);
  }
  const colormap = values.colormap!;
  if (!(COLORMAP_NAMES as readonly string[]).includes(colormap)) {
    throw new UsageError(`unknown --colormap '${colormap}'; accepted: ${COLORMAP_NAMES.join(', ')}`);
  }
  if (values.layer?.some((l) => l === '')) throw new UsageError("--layer takes a layer name (got '')");
  const backend = parseBackendOption(values.backend);
  const reshape = parseReshapeOption(values.reshape);
  if (reshape && method.spec.kind !== 'map') {
    throw new UsageError(`--reshape applies to a layer's output, which map methods explain; '${method.key}' explains the input pixels (leave --reshape out, or use a map method such as gradcam)`);
  }
  const target = parseTargetOption(values.target);
  const boxFormat = parseBoxFormat(values['box-format']);
  if (boxFormat && target?.kind !== 'box') throw new UsageError('--box-format goes with a box target: --target box:<class>@x1,y1,x2,y2');
  return {
    model: values.model,
    ...(values.arch !== undefined ? { arch: values.arch } : {}),
    ...optional('numClasses', integer(values['num-classes'], 'num-classes', 1, 1_000_000)),
    image: values.image,
    method: method.key,
    methodSpec: method.spec,
    ...(values.layer ? { layer: values.layer } : {}),
    ...optional('target', target),
    ...optional('boxFormat', boxFormat),
    ...optional('reshape', reshape),
    ...(values.output !== undefined ? { output: values.output } : {}),
    explainProbability: values['explain-probability']!,
    ...(values.labels !== undefined ? { labels: values.labels } : {}),
    ...(values.out !== undefined ? { out: values.out } : {}),
    ...(values['map-out'] !== undefined ? { mapOut: values['map-out'] } : {}),
    ...optional('size', sizeOption(values.size)),
    ...optional('resize', integer(values.resize, 'resize', 1, MAX_RESIZE)),
    ...optional('mean', numberList(values.mean, 'mean', 3)),
    ...optional('std', numberList(values.std, 'std', 3, true)),
    normalize: !values['no-normalize'],
    colormap: colormap as ColormapName,
    alpha,
    blend: values.blend,
    top: integer(values.top, 'top', 1, 100_000)!,
    json: values.json!,
    force: values.force!,
    jobs: integer(values.jobs, 'jobs', 1, 64)!,
    backend,
  };
}

export interface LayersArgs {
  model: string;
  arch?: string;
  numClasses?: number;
  size?: [number, number];
  /** The kernels of the shape probe's forward pass (--backend; default 'wasm'). */
  backend: CliBackend;
}

export function parseLayersArgs(argv: string[]): LayersArgs {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      model: { type: 'string', short: 'm' },
      arch: { type: 'string', short: 'a' },
      'num-classes': { type: 'string' },
      size: { type: 'string' },
      ...BACKEND_OPTION,
    },
    allowPositionals: true,
    strict: true,
  });
  const model = values.model ?? positionals[0];
  if (!model) throw new UsageError('layers needs a model: tinycam layers model.onnx');
  if (positionals.length > (values.model ? 0 : 1)) throw new UsageError(`layers takes one model; got also '${positionals.slice(values.model ? 0 : 1).join("', '")}'`);
  return {
    model,
    ...(values.arch !== undefined ? { arch: values.arch } : {}),
    ...optional('numClasses', integer(values['num-classes'], 'num-classes', 1, 1_000_000)),
    ...optional('size', sizeOption(values.size)),
    backend: parseBackendOption(values.backend),
  };
}
