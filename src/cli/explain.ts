import { mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import { COLORMAP_NAMES, centerCrop, decodeImage, encodeJpeg, encodePng, overlay, preprocess, resize, shorterSideSize, type ColormapName } from '../image/index.js';
import { softmax } from '../tensor/ops/softmax.js';
import { saveSafetensors } from '../tensor/safetensors.js';
import { Tensor } from '../tensor/tensor.js';
import { toChannelsLast } from '../tfjs/preprocess.js';
import { UsageError, type ExplainArgs } from './args.js';
import { loadModel } from './load-model.js';
import { MAP_METHODS } from './methods.js';
import { ProgressBar } from './progress.js';

const IMAGE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg']);
const IMAGENET_MEAN = [0.485, 0.456, 0.406];
const IMAGENET_STD = [0.229, 0.224, 0.225];

function imageFiles(path: string): string[] {
  if (statSync(path).isDirectory()) {
    const files = readdirSync(path)
      .filter((f) => IMAGE_EXTENSIONS.has(extname(f).toLowerCase()))
      .sort()
      .map((f) => join(path, f));
    if (!files.length) throw new UsageError(`--image folder '${path}' holds no .png or .jpg files`);
    return files;
  }
  return [path];
}

function readLabels(path: string | undefined): string[] | undefined {
  if (!path) return undefined;
  return readFileSync(path, 'utf8').split(/\r?\n/).map((l) => l.trim()).filter((l, i, all) => l || i < all.length - 1);
}

/** Where the overlay of one image goes: --out as given for one image, a folder for several. */
function outputPath(args: ExplainArgs, image: string, many: boolean): string {
  const name = `${basename(image, extname(image))}.${args.method.replace(/\W/g, '')}.png`;
  if (!args.out) return name;
  if (many) {
    mkdirSync(args.out, { recursive: true });
    return join(args.out, name);
  }
  mkdirSync(dirname(args.out) || '.', { recursive: true });
  return args.out;
}

export interface ExplainSummary {
  image: string;
  out: string;
  method: string;
  layers: string[];
  target: number | null;
  top: { index: number; label: string; probability: number; logit: number }[];
}

/** `tinycam explain`: top-k classes and an overlay per image. */
export function explainCommand(args: ExplainArgs, log: (line: string) => void = console.log): ExplainSummary[] {
  const method = MAP_METHODS[args.method];
  if (!method) {
    throw new UsageError(`unknown --method '${args.method}'; accepted: ${Object.keys(MAP_METHODS).join(', ')}`);
  }
  const loaded = loadModel(args.model, args.arch, args.numClasses);
  const labels = readLabels(args.labels) ?? loaded.labels;
  const files = imageFiles(args.image);
  const many = files.length > 1;
  if (!(COLORMAP_NAMES as readonly string[]).includes(args.colormap)) {
    throw new UsageError(`unknown --colormap '${args.colormap}'; accepted: ${COLORMAP_NAMES.join(', ')}`);
  }
  const [height, width] = args.size ? [args.size, args.size] : (loaded.inputSize ?? [224, 224]);
  const resizeTo = args.resize ?? Math.max(height, width);
  const mean = args.normalize ? (args.mean ?? loaded.scaling?.mean ?? IMAGENET_MEAN) : [0, 0, 0];
  const std = args.normalize ? (args.std ?? loaded.scaling?.std ?? IMAGENET_STD) : [1, 1, 1];
  const folderBar = many ? new ProgressBar('images') : undefined;
  const summaries: ExplainSummary[] = [];

  files.forEach((file, index) => {
    const image = decodeImage(new Uint8Array(readFileSync(file)));
    // The picture the model sees: shorter side resized, centre cropped (torchvision's eval transform).
    const seen = centerCrop(resize(image, { ...shorterSideSize(image.width, image.height, resizeTo), antialias: true }), { width, height });
    const pixels = preprocess(seen, { mean, std });
    // TensorFlow.js models take NHWC.
    const input = loaded.model.inputLayout === 'NHWC' ? toChannelsLast(pixels) : pixels;
    const bar = new ProgressBar(`${args.method} ${basename(file)}`);
    const layer = args.layer ?? loaded.camLayer;
    const result = method.run(loaded.model, input, {
      ...(layer !== undefined ? { layer: Array.isArray(layer) && layer.length === 1 ? layer[0]! : layer } : {}),
      ...(args.target !== undefined ? { target: args.target } : {}),
      onProgress: (p: { done: number; total: number }) => bar.update(p.done, p.total),
    });
    const map = new Tensor(result.maps.data, result.maps.shape.slice(1));
    const picture = overlay(seen, map, { colormap: args.colormap as ColormapName, alpha: args.alpha, blend: args.blend });
    const out = outputPath(args, file, many);
    writeFileSync(out, /\.jpe?g$/i.test(out) ? encodeJpeg(picture, { quality: 92 }) : encodePng(picture));
    if (args.mapOut) writeFileSync(many ? `${out}.map.safetensors` : args.mapOut, saveSafetensors({ map }));

    const top = topK(result.logits, args.top, labels);
    const summary: ExplainSummary = {
      image: file,
      out,
      method: args.method,
      layers: result.layers.map((l) => l.name),
      target: result.targets?.[0] ?? null,
      top,
    };
    summaries.push(summary);
    if (!args.json) {
      log(`${file}`);
      for (const [rank, t] of top.entries()) {
        log(`  ${rank + 1}. ${t.label.padEnd(24)} ${(t.probability * 100).toFixed(2).padStart(6)} %   logit ${t.logit.toFixed(4)}`);
      }
      log(`  ${args.method} at ${summary.layers.join(', ')} for class ${summary.target ?? '(custom)'} -> ${out}`);
    }
    folderBar?.update(index + 1, files.length);
  });
  if (args.json) log(JSON.stringify(many ? summaries : summaries[0], null, 2));
  return summaries;
}

function topK(logits: Tensor, k: number, labels: string[] | undefined) {
  const probabilities = softmax(logits, -1).data;
  const count = logits.shape[logits.shape.length - 1]!;
  return [...Array(count).keys()]
    .sort((a, b) => logits.data[b]! - logits.data[a]!)
    .slice(0, Math.min(k, count))
    .map((index) => ({ index, label: labels?.[index] ?? `class ${index}`, probability: probabilities[index]!, logit: logits.data[index]! }));
}
