import { existsSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { skipInit } from '../layers/init.js';
import type { Module } from '../layers/module.js';
import { createModel, architectures } from '../models/index.js';
import type { GraphModule } from '../onnx/graph.js';
import { loadOnnxFile, loadTfjsModelFile, readRegularFile } from '../node/index.js';
import { StateDictError } from '../tensor/errors.js';
import { loadSafetensors } from '../tensor/safetensors.js';
import { TFJS_SCALING, type TfjsModel } from '../tfjs/index.js';
import { UsageError } from './args.js';

export interface LoadedModel {
  model: Module;
  /** Where CAM methods should look when --layer is not given (undefined: the methods' own default). */
  camLayer?: string;
  /** [height, width] the model expects, when the file says. */
  inputSize?: [number, number];
  kind: 'onnx' | 'safetensors' | 'tfjs';
  /** Class names that come with the model (a Teachable Machine metadata.json beside a model.json). */
  labels?: string[];
  /** The pixel scaling the model expects, when it is not ImageNet's mean and std (TensorFlow.js models). */
  scaling?: { mean: readonly number[]; std: readonly number[] };
}

/** The architectures --arch accepts, in one short line. */
export function architectureList(): string {
  return Object.keys(architectures).join(', ');
}

/**
 * A TensorFlow.js model.json with what lies beside it: a Teachable Machine
 * metadata.json gives the class names and says the pixels are scaled to
 * [-1, 1] (pixel / 127 - 1); other models get [0, 1] (pixel / 255, as
 * nsfwjs), which --mean/--std override.
 */
function loadTfjs(path: string): LoadedModel {
  const model: TfjsModel = loadTfjsModelFile(path);
  const metadataPath = join(dirname(path), 'metadata.json');
  let labels: string[] | undefined;
  let teachable = false;
  if (existsSync(metadataPath)) {
    let metadata: unknown;
    try {
      metadata = JSON.parse(new TextDecoder().decode(readRegularFile(metadataPath, 'metadata.json', 16 * 2 ** 20)));
    } catch (e) {
      throw new UsageError(`${metadataPath} is not JSON: ${(e as Error).message}`);
    }
    const m = metadata as { labels?: unknown; packageName?: unknown };
    if (Array.isArray(m.labels) && m.labels.every((l) => typeof l === 'string')) labels = m.labels as string[];
    teachable = typeof m.packageName === 'string' && m.packageName.startsWith('@teachablemachine/');
  }
  const shape = model.inputShapes[0];
  const [h, w] = model.inputLayout === 'NHWC' ? [shape?.[1], shape?.[2]] : [shape?.[2], shape?.[3]];
  return {
    model,
    camLayer: model.camLayer,
    kind: 'tfjs',
    ...(typeof h === 'number' && typeof w === 'number' ? { inputSize: [h, w] as [number, number] } : {}),
    ...(labels ? { labels } : {}),
    scaling: teachable ? TFJS_SCALING.teachableMachine : TFJS_SCALING.unit,
  };
}

/** Load `--model`: an ONNX file, a TensorFlow.js model.json, or torchvision weights as safetensors with `--arch`. */
export function loadModel(path: string, arch: string | undefined, numClasses: number | undefined): LoadedModel {
  if (/\.json$/i.test(path)) return loadTfjs(path);
  if (/\.onnx$/i.test(path)) {
    if (arch !== undefined) throw new UsageError('--arch is for .safetensors weights; an ONNX file holds its own architecture');
    const model = loadOnnxFile(path);
    const inputSize = declaredInputSize(model);
    return { model, ...(inputSize ? { inputSize } : {}), kind: 'onnx' };
  }
  if (/\.safetensors$/i.test(path)) {
    if (!arch) {
      throw new UsageError(`a .safetensors file holds weights only: name the architecture with --arch (${architectureList()})`);
    }
    // An own property: '__proto__' and 'constructor' are not architectures.
    if (!Object.hasOwn(architectures, arch)) throw new UsageError(`unknown --arch '${arch}'; accepted: ${architectureList()}`);
    const weights = loadSafetensors(readRegularFile(path, '--model'));
    // The class count comes from the classifier's weight in the file unless given.
    // Both builds skip the random initial weights: the file overwrites every one (a strict load).
    const probe = skipInit(() => createModel(arch, { numClasses: 1 }));
    const params = probe.namedParameters();
    const head = params[params.length - 1]![0].replace(/\.bias$/, '.weight');
    const classes = numClasses ?? (Object.hasOwn(weights, head) ? weights[head]!.shape[0] : undefined) ?? 1000;
    const model = skipInit(() => createModel(arch, { numClasses: classes }));
    try {
      model.loadStateDict(weights);
    } catch (e) {
      if (e instanceof StateDictError) throw new StateDictError(mismatchMessage(path, arch, e), e);
      throw e;
    }
    model.eval();
    return { model, camLayer: model.camLayer, kind: 'safetensors' };
  }
  throw new UsageError(`--model must be a .onnx file, a TensorFlow.js model.json, or a .safetensors file of weights (got '${path}')`);
}

/** What loadStateDict found, in a few lines instead of every key (a ResNet has hundreds). */
function mismatchMessage(path: string, arch: string, e: StateDictError): string {
  const some = (keys: readonly string[]) => keys.slice(0, 3).map((k) => `'${k}'`).join(', ') + (keys.length > 3 ? `, … (${keys.length} in all)` : '');
  const parts: string[] = [];
  if (e.missing.length) parts.push(`${e.missing.length} tensor(s) of ${arch} are not in the file (${some(e.missing)})`);
  if (e.unexpected.length) parts.push(`${e.unexpected.length} tensor(s) of the file are not in ${arch} (${some(e.unexpected)})`);
  if (e.mismatched.length) {
    const m = e.mismatched[0]!;
    parts.push(`${e.mismatched.length} tensor(s) have other shapes ('${m.key}': [${m.got.join(', ')}] in the file, [${m.expected.join(', ')}] in ${arch})`);
  }
  return `the weights in ${basename(path)} do not fit --arch ${arch}: ${parts.join('; ')}. Architectures: ${architectureList()}`;
}

/** The spatial size of the graph's first input, when the file declares it with numbers. */
function declaredInputSize(model: GraphModule): [number, number] | undefined {
  const shape = model.inputShapes[model.inputNames[0]!];
  if (shape && shape.length === 4 && typeof shape[2] === 'number' && typeof shape[3] === 'number' && shape[2] > 0 && shape[3] > 0) {
    return [shape[2], shape[3]];
  }
  return undefined;
}
