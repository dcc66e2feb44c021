import { parseArgs } from 'node:util';

/** A command-line mistake: printed with a pointer to --help, exit code 2. */
export class UsageError extends Error {}

export interface ExplainArgs {
  model: string;
  arch?: string;
  numClasses?: number;
  image: string;
  method: string;
  layer?: string[];
  target?: number;
  labels?: string;
  out?: string;
  mapOut?: string;
  size?: number;
  resize?: number;
  mean?: number[];
  std?: number[];
  normalize: boolean;
  colormap: string;
  alpha: number;
  blend: 'seed' | 'pytorch-grad-cam';
  top: number;
  json: boolean;
}

function numberList(value: string | undefined, name: string, length: number): number[] | undefined {
  if (value === undefined) return undefined;
  const parts = value.split(',').map((s) => Number(s.trim()));
  if (parts.length !== length || parts.some((v) => !Number.isFinite(v))) {
    throw new UsageError(`--${name} takes ${length} comma-separated numbers, e.g. 0.485,0.456,0.406 (got '${value}')`);
  }
  return parts;
}

function integer(value: string | undefined, name: string, min: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`--${name} takes an integer >= ${min} (got '${value}')`);
  return n;
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
    },
    allowPositionals: false,
    strict: true,
  });
  if (!values.model) throw new UsageError('explain needs --model <model.onnx | weights.safetensors>');
  if (!values.image) throw new UsageError('explain needs --image <photo.png | photo.jpg | folder>');
  const alpha = Number(values.alpha);
  if (!(alpha >= 0 && alpha <= 1)) throw new UsageError(`--alpha takes a number in [0, 1] (got '${values.alpha}')`);
  if (values.blend !== 'seed' && values.blend !== 'pytorch-grad-cam') {
    throw new UsageError(`--blend takes 'seed' or 'pytorch-grad-cam' (got '${values.blend}')`);
  }
  return {
    model: values.model,
    arch: values.arch,
    numClasses: integer(values['num-classes'], 'num-classes', 1),
    image: values.image,
    method: values.method!.toLowerCase(),
    layer: values.layer,
    target: integer(values.target, 'target', 0),
    labels: values.labels,
    out: values.out,
    mapOut: values['map-out'],
    size: integer(values.size, 'size', 1),
    resize: integer(values.resize, 'resize', 1),
    mean: numberList(values.mean, 'mean', 3),
    std: numberList(values.std, 'std', 3),
    normalize: !values['no-normalize'],
    colormap: values.colormap!,
    alpha,
    blend: values.blend,
    top: integer(values.top, 'top', 1)!,
    json: values.json!,
  };
}

export interface LayersArgs {
  model: string;
  arch?: string;
  numClasses?: number;
  size?: number;
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
  return { model, arch: values.arch, numClasses: integer(values['num-classes'], 'num-classes', 1), size: integer(values.size, 'size', 1) };
}
