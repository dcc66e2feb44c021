import { parseArgs } from 'node:util';
import { COLORMAP_NAMES, type ColormapName } from '../image/index.js';
import type { BoxFormat } from '../cam/boxTarget.js';
import { UsageError } from './args-error.js';
import { METHODS, methodByName, type MethodSpec } from './methods.js';
import { parseReshapeOption, type ReshapeOption } from './reshape-option.js';
import { parseBoxFormat, parseTargetOption, type TargetOption } from './target-option.js';

export { UsageError };

/** Largest model input side --size accepts, and largest --resize (pixels). */
export const MAX_INPUT_SIDE = 4096;
export const MAX_RESIZE = 8192;

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
}

function numberList(value: string | undefined, name: string, length: number, positive = false): number[] | undefined {
  if (value === undefined) return undefined;
  const parts = value.split(',').map((s) => (s.trim() === '' ? Number.NaN : Number(s)));
  if (parts.length !== length || parts.some((v) => !Number.isFinite(v) || (positive && v <= 0))) {
    throw new UsageError(`--${name} takes ${length} comma-separated ${positive ? 'positive ' : ''}numbers, e.g. 0.485,0.456,0.406 (got '${value}')`);
  }
  return parts;
}

function integer(value: string | undefined, name: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (value === undefined) return undefined;
  const n = /^\s*\d+\s*$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`--${name} takes an integer from ${min} to ${max} (got '${value}')`);
  }
  return n;
}

/** --size: '224' (square) or 'WxH' ('320x240': 320 wide, 240 high), as [height, width]. */
function sizeOption(value: string | undefined): [number, number] | undefined {
  if (value === undefined) return undefined;
  const m = /^\s*(\d+)\s*(?:[xX×]\s*(\d+)\s*)?$/.exec(value);
  const width = m ? Number(m[1]) : Number.NaN;
  const height = m ? Number(m[2] ?? m[1]) : Number.NaN;
  const ok = (v: number) => Number.isSafeInteger(v) && v >= 1 && v <= MAX_INPUT_SIDE;
  if (!ok(width) || !ok(height)) {
    throw new UsageError(`--size takes a size in pixels from 1 to ${MAX_INPUT_SIDE}, square ('224') or width x height ('320x240') (got '${value}')`);
  }
  return [height, width];
}

export function parseExplainArgs(argv: string[]): ExplainArgs {
  const { values } = parseArgs({
    args: argv,
    options: {
      model: { type: 'string', short: 'm' },
      arch: { type: 'string', short: 'a' },
      'num-classes': { type: 'string' },
      image: { type: 'string', short: 'i' },
      method: { type: 'string', default: 'gradcam' },
      layer: { type: 'string', short: 'l', multiple: true },
      target: { type: 'string', short: 't' },
      output: { type: 'string' },
      'box-format': { type: 'string' },
      reshape: { type: 'string' },
      'explain-probability': { type: 'boolean', default: false },
      labels: { type: 'string' },
      out: { type: 'string', short: 'o' },
      'map-out': { type: 'string' },
      size: { type: 'string' },
      resize: { type: 'string' },
      mean: { type: 'string' },
      std: { type: 'string' },
      'no-normalize': { type: 'boolean', default: false },
      colormap: { type: 'string', default: 'jet' },
      alpha: { type: 'string', default: '0.4' },
      blend: { type: 'string', default: 'seed' },
      top: { type: 'string', default: '5' },
      json: { type: 'boolean', default: false },
      force: { type: 'boolean', short: 'f', default: false },
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
  };
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

export interface LayersArgs {
  model: string;
  arch?: string;
  numClasses?: number;
  size?: [number, number];
}

export function parseLayersArgs(argv: string[]): LayersArgs {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      model: { type: 'string', short: 'm' },
      arch: { type: 'string', short: 'a' },
      'num-classes': { type: 'string' },
      size: { type: 'string' },
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
  };
}
