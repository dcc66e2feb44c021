import { mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import type { BoxFormat } from '../cam/boxTarget.js';
import { locateDefaultLayer } from '../cam/layers.js';
import type { GradientResult, MapResult, ReshapeTransform } from '../cam/types.js';
import { centerCrop, decodeImage, encodeJpeg, encodePng, IMAGENET_MEAN, IMAGENET_STD, overlay, preprocess, resize, shorterSideSize, type ColormapName, type RgbaImage } from '../image/index.js';
import type { Module } from '../layers/module.js';
import { readRegularFile } from '../node/index.js';
import { GraphModule } from '../onnx/graph.js';
import { getBackend, type BackendName } from '../tensor/backend.js';
import { TinycamError } from '../tensor/errors.js';
import { saveSafetensors } from '../tensor/safetensors.js';
import { Tensor } from '../tensor/tensor.js';
import { toChannelsLast } from '../tfjs/preprocess.js';
import { UsageError, type ExplainArgs } from './args.js';
import { attributionMap, gradientPicture } from './gradient-pictures.js';
import { loadModel } from './load-model.js';
import type { MethodSpec } from './methods.js';
import { planOutputs } from './outputs.js';
import { closestLabels, readLabels, topClasses, type TopClass } from './classes.js';
import { planTarget, type CommandTarget, type TargetFacts } from './explain-target.js';
import { reshapeFlag, reshapeTransform } from './reshape-option.js';
import type { TargetOption } from './target-option.js';
import { Terminal } from './terminal.js';

const IMAGE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg']);
/** Largest image file the command reads (decodeImage checks the pixel count from the header). */
export const MAX_IMAGE_BYTES = 256 * 2 ** 20;

export interface ExplainSummary extends TargetFacts {
  image: string;
  out: string;
  method: string;
  /** The layers a map method explained (none for input-gradient methods). */
  layers: string[];
  /** The class explained (of a class, segmentation or box target); null for the raw output. */
  target: number | null;
  /** The --reshape applied to the layer's output, as given. */
  reshape?: string;
  /** What the score is: the logit (the default), or the probability of a model that ends in a softmax. */
  explains: 'logit' | 'probability';
  /** The model output explained. */
  output: string;
  /** The Softmax or LogSoftmax that makes that output, when the model ends in one. */
  finalActivation?: 'softmax' | 'logSoftmax';
  /** The top classes, for class scores [N, K]; empty for other outputs (see targetKind and score). */
  top: TopClass[];
  /** Why the map is all zeros, when it is. */
  note?: string;
  /** The kernels that computed it ('wasm', or 'js' by --backend js or after WebAssembly failed to load). */
  backend: BackendName;
}

export interface SkippedImage {
  image: string;
  error: string;
}

export interface ExplainReport {
  explained: ExplainSummary[];
  skipped: SkippedImage[];
}

/** The images to explain: the file, or the folder's .png / .jpg / .jpeg files by name. */
function imageFiles(path: string): { files: string[]; folder: boolean } {
  if (statSync(path).isDirectory()) {
    const files = readdirSync(path)
      .filter((f) => IMAGE_EXTENSIONS.has(extname(f).toLowerCase()))
      .sort()
      .map((f) => join(path, f));
    if (!files.length) throw new UsageError(`--image folder '${path}' holds no .png, .jpg or .jpeg files`);
    return { files, folder: true };
  }
  return { files: [path], folder: false };
}

/** What explaining one image needs besides the model and the image. */
export interface ImageSettings {
  method: string;
  methodSpec: MethodSpec;
  layer?: string | string[];
  /** A class index, or a segmentation class or a box (default: the top class of [N, K] scores, or a single value per image as it is). */
  target?: CommandTarget;
  output?: string;
  /** For map methods: how the layer's output becomes [N, C, h, w] (--reshape), and the flag as given. */
  reshape?: ReshapeTransform;
  reshapeText?: string;
  explainProbability: boolean;
  colormap: ColormapName;
  alpha: number;
  blend: 'seed' | 'pytorch-grad-cam';
  top: number;
  labels?: readonly string[];
  onProgress?: (progress: { done: number; total: number }) => void;
  /** An earlier image of this run showed the output to be class scores [N, K]: skip the probing forward pass. */
  knownClassifier?: boolean;
}

/** One image explained: the picture to write, the tensors of --map-out, and what is printed. */
export interface ImageExplanation {
  picture: RgbaImage;
  tensors: Record<string, Tensor>;
  summary: Omit<ExplainSummary, 'image' | 'out'>;
  /** The logits the top classes come from ([1, K] or [1, K, 1, 1]). */
  logits: Tensor;
}

/**
 * Explain one preprocessed image (`input` [1, C, H, W], `seen` the picture
 * it was made from): run the method, draw its picture, and rank the classes
 * by the logits it explained, with their probabilities.
 */
export function explainImage(model: Module, input: Tensor, seen: RgbaImage, settings: ImageSettings): ImageExplanation {
  const spec = settings.methodSpec;
  const planned = planTarget(model, input, {
    ...(settings.target !== undefined ? { target: settings.target } : {}),
    ...(settings.output !== undefined ? { output: settings.output } : {}),
    explainProbability: settings.explainProbability,
    ...(spec.kind === 'map' && settings.layer !== undefined ? { layer: settings.layer } : {}),
    checkTokens: spec.kind === 'map' && !settings.reshape,
    ...(settings.knownClassifier ? { knownClassifier: true } : {}),
  });
  const common = {
    ...(planned.target !== undefined ? { target: planned.target } : {}),
    ...(settings.output !== undefined ? { output: settings.output } : {}),
    explainProbability: settings.explainProbability,
  };
  const look = { colormap: settings.colormap, alpha: settings.alpha, blend: settings.blend };
  let picture: RgbaImage;
  let tensors: Record<string, Tensor>;
  let layers: string[] = [];
  let note: string | undefined;
  let result: MapResult | GradientResult;
  if (spec.kind === 'map') {
    const r = spec.run(model, input, { ...common, ...(settings.layer !== undefined ? { layer: settings.layer } : {}), ...(settings.reshape ? { reshape: settings.reshape } : {}), ...(settings.onProgress ? { onProgress: settings.onProgress } : {}) });
    const map = new Tensor(r.maps.data, r.maps.shape.slice(1));
    picture = overlay(seen, map, look);
    tensors = { map };
    layers = r.layers.map((l) => l.name);
    note = zeroMapNote(r);
    result = r;
  } else {
    const r = spec.run(model, input, common);
    const gradients = new Tensor(r.gradients.data, r.gradients.shape.slice(1));
    const map = attributionMap(gradients);
    picture = spec.picture === 'rgb' ? gradientPicture(gradients) : overlay(seen, map, look);
    tensors = { map, gradients };
    if (!r.gradients.data.some((v) => v !== 0)) note = 'the gradients are all zero: the score does not depend on the input here';
    result = r;
  }
  const activation = model instanceof GraphModule ? model.finalActivation(result.output) : undefined;
  const targetClass = result.targets?.[0] ?? (typeof settings.target === 'object' ? settings.target.class : null);
  const facts = planned.facts(targetClass, result.logits);
  return {
    picture,
    tensors,
    logits: result.logits,
    summary: {
      method: settings.method,
      layers,
      target: targetClass,
      ...(settings.reshapeText !== undefined ? { reshape: settings.reshapeText } : {}),
      ...facts,
      explains: activation && settings.explainProbability ? 'probability' : 'logit',
      output: result.output,
      ...(activation ? { finalActivation: activation } : {}),
      top: facts.targetKind === 'class' ? topClasses(result.logits, settings.top, settings.labels) : [],
      ...(note ? { note } : {}),
      backend: getBackend(),
    },
  };
}

/** What a run of `tinycam explain` settles before its first image, shared by every image. */
export interface ExplainRun {
  args: ExplainArgs;
  plan: ReturnType<typeof planOutputs>;
  folder: boolean;
  loaded: ReturnType<typeof loadModel>;
  labels: string[] | undefined;
  target: CommandTarget | undefined;
  reshape: ReshapeTransform | undefined;
  size: [number, number];
  resizeTo: number;
  mean: readonly number[];
  std: readonly number[];
  /** Found on the first image explained, and used for every image (all have the model's input size). */
  layer: string | string[] | undefined;
  /** Set by the first image explained as a class of [N, K] scores: the others skip planTarget's probe. */
  knownClassifier: boolean;
}

/** The images of `args.image` with their output paths (refusing to overwrite without --force). */
export function planExplain(args: ExplainArgs): { plan: ReturnType<typeof planOutputs>; folder: boolean } {
  const { files, folder } = imageFiles(args.image);
  return { plan: planOutputs(args, files, folder), folder };
}

/** Load the model and settle the labels, target and preprocessing for a planned run. */
export function startExplainRun(args: ExplainArgs, planned: { plan: ReturnType<typeof planOutputs>; folder: boolean }): ExplainRun {
  const loaded = loadModel(args.model, args.arch, args.numClasses);
  // --labels, else the class names a model brings (a Teachable Machine metadata.json).
  const labels = args.labels !== undefined ? readLabels(args.labels) : loaded.labels;
  const [height, width] = args.size ?? loaded.inputSize ?? [224, 224];
  return {
    args,
    ...planned,
    loaded,
    labels,
    target: resolveTarget(args.target, labels, args.boxFormat),
    reshape: args.reshape ? reshapeTransform(args.reshape) : undefined,
    size: [height, width],
    resizeTo: args.resize ?? Math.max(height, width),
    mean: args.normalize ? (args.mean ?? loaded.scaling?.mean ?? IMAGENET_MEAN) : [0, 0, 0],
    std: args.normalize ? (args.std ?? loaded.scaling?.std ?? IMAGENET_STD) : [1, 1, 1],
    layer: args.layer?.length === 1 ? args.layer[0] : args.layer ?? loaded.camLayer,
    knownClassifier: false,
  };
}

/** One image's fate: explained and written, or (in a folder) skipped for a problem with its file. */
export type ImageOutcome = { summary: ExplainSummary } | { skipped: SkippedImage };

/**
 * Explain the run's image number `index` and write its outputs. In a folder,
 * an image that cannot be read, decoded or written is returned as skipped;
 * any other error is thrown.
 */
export function explainPlanned(run: ExplainRun, index: number, progress: (label: string, done: number, total: number) => void = () => {}): ImageOutcome {
  const { args, plan, folder, loaded } = run;
  const planned = plan[index]!;
  const name = basename(planned.image);
  const skip = (error: unknown): ImageOutcome => {
    if (!isFileProblem(error) || !folder) throw error;
    return { skipped: { image: planned.image, error: (error as Error).message } };
  };
  let seen: RgbaImage;
  let input: Tensor;
  try {
    const image = decodeImage(readRegularFile(planned.image, '--image', MAX_IMAGE_BYTES));
    // The picture the model sees: shorter side resized, centre cropped (torchvision's eval transform).
    const [height, width] = run.size;
    seen = centerCrop(resize(image, { ...shorterSideSize(image.width, image.height, run.resizeTo), antialias: true }), { width, height });
    const pixels = preprocess(seen, { mean: run.mean, std: run.std });
    // TensorFlow.js models take NHWC.
    input = loaded.model.inputLayout === 'NHWC' ? toChannelsLast(pixels) : pixels;
  } catch (e) {
    return skip(e);
  }
  if (args.methodSpec.kind === 'map' && run.layer === undefined) run.layer = locateDefaultLayer(loaded.model, input, 'explain', run.reshape).name;
  const explained = explainImage(loaded.model, input, seen, {
    method: args.method,
    methodSpec: args.methodSpec,
    ...(run.layer !== undefined ? { layer: run.layer } : {}),
    ...(run.target !== undefined ? { target: run.target } : {}),
    ...(args.output !== undefined ? { output: args.output } : {}),
    ...(run.reshape ? { reshape: run.reshape, reshapeText: reshapeFlag(args.reshape!) } : {}),
    explainProbability: args.explainProbability,
    colormap: args.colormap,
    alpha: args.alpha,
    blend: args.blend,
    top: args.top,
    ...(run.labels ? { labels: run.labels } : {}),
    onProgress: (p) => progress(`${folder ? `${index + 1}/${plan.length} ` : ''}${args.method} ${name}`, p.done, p.total),
    knownClassifier: run.knownClassifier,
  });
  if (explained.summary.targetKind === 'class') run.knownClassifier = true;
  try {
    write(planned.picture, planned.format === 'jpeg' ? encodeJpeg(explained.picture, { quality: 92 }) : encodePng(explained.picture));
    if (planned.map) write(planned.map, saveSafetensors(explained.tensors));
  } catch (e) {
    return skip(e);
  }
  return { summary: { image: planned.image, out: planned.picture, ...explained.summary } };
}

/**
 * `tinycam explain`: the top classes and a picture per image. In a folder,
 * an image that cannot be read, decoded or written is reported by name and
 * skipped, and the others are explained; the report lists both. (`--jobs N`
 * spreads a folder over worker threads: explainInWorkers in jobs.ts.)
 */
export function explainCommand(args: ExplainArgs, terminal: Terminal = new Terminal()): ExplainReport {
  const run = startExplainRun(args, planExplain(args));
  const report = new ReportPrinter(run, terminal);
  run.plan.forEach((_, index) => {
    report.add(explainPlanned(run, index, (label, done, total) => terminal.progress(label, done, total)));
  });
  return report.finish();
}

/** Collects the outcomes in image order, printing each as it comes, then the closing lines. */
export class ReportPrinter {
  readonly #report: ExplainReport = { explained: [], skipped: [] };
  readonly #args: ExplainArgs;
  readonly #folder: boolean;
  readonly #total: number;
  readonly #labels: readonly string[] | undefined;
  readonly #terminal: Terminal;

  constructor(run: Pick<ExplainRun, 'args' | 'folder' | 'plan' | 'labels'>, terminal: Terminal) {
    this.#args = run.args;
    this.#folder = run.folder;
    this.#total = run.plan.length;
    this.#labels = run.labels;
    this.#terminal = terminal;
  }

  add(outcome: ImageOutcome): void {
    const done = this.#report.explained.length + this.#report.skipped.length + 1;
    if ('skipped' in outcome) {
      this.#report.skipped.push(outcome.skipped);
      this.#terminal.error(`tinycam: skipped ${outcome.skipped.image}: ${outcome.skipped.error}`);
    } else {
      this.#report.explained.push(outcome.summary);
      if (!this.#args.json) printSummary(this.#terminal, outcome.summary, this.#labels);
    }
    if (this.#folder) this.#terminal.progress('images', done, this.#total);
  }

  finish(): ExplainReport {
    const { explained, skipped } = this.#report;
    this.#terminal.clear();
    if (this.#args.json) {
      this.#terminal.log(jsonText(this.#folder ? this.#report : (explained[0] ?? this.#report)));
    } else if (this.#folder) {
      const done = `explained ${explained.length} of ${this.#total} images`;
      if (skipped.length) {
        this.#terminal.error(`tinycam: ${done}; skipped ${skipped.length}: ${skipped.map((s) => basename(s.image)).join(', ')}`);
      } else {
        this.#terminal.log(done);
      }
    }
    return this.#report;
  }
}

function printSummary(terminal: Terminal, s: ExplainSummary, labels: readonly string[] | undefined): void {
  terminal.log(s.image);
  for (const [rank, t] of s.top.entries()) {
    terminal.log(`  ${rank + 1}. ${t.label.padEnd(24)} ${(t.probability * 100).toFixed(2).padStart(6)} %   logit ${t.logit.toFixed(4)}`);
  }
  const named = s.target === null ? '' : `class ${s.target}${labels?.[s.target] !== undefined ? ` (${labels[s.target]})` : ''}`;
  const what =
    s.targetKind === 'raw' ? 'the raw output' : s.targetKind === 'segmentation' ? `segmentation ${named}` : s.targetKind === 'box' ? `box [${s.box!.join(', ')}] of ${named}` : named;
  if (!s.top.length) terminal.log(`  output '${s.output}' [${s.outputShape.join(', ')}]: ${targetDetail(s, what)}, score ${s.score.toFixed(4)}`);
  const where = s.layers.length ? ` at ${s.layers.join(', ')}${s.reshape ? ` (--reshape ${s.reshape})` : ''}` : '';
  const op = s.finalActivation === 'logSoftmax' ? 'LogSoftmax' : 'Softmax';
  const whose = s.finalActivation
    ? s.explains === 'logit'
      ? ` (the input of the model's final ${op}, which makes '${s.output}')`
      : ` ('${s.output}', the output of the model's final ${op})`
    : '';
  const explaining = s.targetKind === 'class' || s.finalActivation ? `, explaining its ${s.explains}${whose}` : '';
  terminal.log(`  ${s.method}${where} for ${what}${explaining} -> ${s.out}`);
  if (s.note) terminal.log(`  note: the map is all zeros: ${s.note}`);
}

/** What the target scores, in words, for the line that replaces the top classes. */
function targetDetail(s: ExplainSummary, what: string): string {
  if (s.targetKind === 'raw') return 'the raw output (one value per image)';
  if (s.targetKind === 'segmentation' && s.mask) {
    return s.mask.rule === 'argmax'
      ? `${what}, summed over the ${s.mask.pixels} of ${s.mask.of} pixels where it is the top class`
      : `${what}, summed over all ${s.mask.of} pixels (it is the top class nowhere)`;
  }
  if (s.targetKind === 'box') return `${what} (${s.boxFormat}: IoU + score of the matching predictions)`;
  return what;
}

/**
 * Why a map is all zeros, read from the raw per-layer maps: every raw value
 * zero means the score does not depend on the layer (its gradient, or its
 * weights, are zero); raw values that are all negative are cleared by the
 * ReLU before normalisation.
 */
function zeroMapNote(result: MapResult): string | undefined {
  if (result.maps.data.some((v) => v !== 0)) return undefined;
  const flat = result.layers.filter((l) => !l.raw.data.some((v) => v !== 0)).map((l) => `'${l.name}'`);
  if (flat.length === result.layers.length) {
    return `the score does not depend on ${flat.length === 1 ? `the layer ${flat[0]}` : `the layers ${flat.join(', ')}`} (every raw value is 0); try another --layer or --target`;
  }
  if (result.layers.every((l) => !l.raw.data.some((v) => v > 0))) {
    return 'every raw value is negative or 0, and the ReLU of the method clears them; try another --layer or --target';
  }
  return 'the raw map is constant, which normalisation maps to 0';
}

/** --target with its class as an index: a number, or a label's position in --labels. */
function resolveTarget(target: TargetOption | undefined, labels: string[] | undefined, boxFormat: BoxFormat | undefined): CommandTarget | undefined {
  if (target === undefined) return undefined;
  const c = classIndex(target.class, labels);
  if (target.kind === 'class') return c;
  if (target.kind === 'seg') return { kind: 'seg', class: c };
  return { kind: 'box', class: c, box: target.box, ...(boxFormat ? { format: boxFormat } : {}) };
}

function classIndex(target: number | string, labels: string[] | undefined): number {
  if (typeof target !== 'string') return target;
  if (!labels) throw new UsageError(`--target '${target}' is a class name; give the names with --labels <file>, or give a class index`);
  const exact = labels.indexOf(target);
  if (exact >= 0) return exact;
  const lower = target.toLowerCase();
  const folded = labels.flatMap((l, i) => (l.toLowerCase() === lower ? [i] : []));
  if (folded.length === 1) return folded[0]!;
  const closest = closestLabels(target, labels).slice(0, 5).map((l) => `'${l}'`).join(', ');
  throw new UsageError(`--target '${target}' is not a name in the labels file${folded.length > 1 ? ' (several match when case is ignored)' : ''}; closest: ${closest}`);
}

/** Errors that belong to one image file (unreadable, undecodable, unwritable), which folder mode skips. */
function isFileProblem(error: unknown): boolean {
  if (error instanceof TinycamError) return true;
  const e = error as { code?: unknown; syscall?: unknown };
  return typeof e?.code === 'string' && typeof e.syscall === 'string';
}

function write(path: string, bytes: Uint8Array): void {
  mkdirSync(dirname(path) || '.', { recursive: true });
  writeFileSync(path, bytes);
}

/** JSON with the C1 controls and DEL escaped too (JSON.stringify escapes only C0). */
function jsonText(value: unknown): string {
  return JSON.stringify(value, null, 2).replace(/[\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
