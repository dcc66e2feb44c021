/**
 * `tinycam/node`: helpers that read files with Node's fs (`loadOnnxFile`,
 * `loadTfjsModelFile`). Kept out of the core entry, which must run where
 * there is no file system.
 */
import { realpathSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { OnnxError } from '../onnx/errors.js';
import type { GraphModule } from '../onnx/graph.js';
import { loadOnnx } from '../onnx/index.js';
import type { ExternalDataFile } from '../onnx/tensorData.js';
import { FileError, openRegularFile, readRegularFile, type OpenedFile } from './files.js';

import { TfjsError } from '../tfjs/errors.js';
import { loadTfjsModel, type TfjsModel } from '../tfjs/index.js';

export { FileError, openRegularFile, readRegularFile, type OpenedFile } from './files.js';

/**
 * Load an ONNX model file; initializers stored as external data are read
 * from files beside it (their `location` is relative to the model's folder).
 *
 * What a model file may name is checked as onnx.load checks it, and more:
 * a location must be relative and stay inside the model's folder after
 * symbolic links are resolved (an archive holding `w.bin -> ~/.ssh/id_rsa`
 * does not load that file), it must be a regular file (not /dev/zero, not a
 * FIFO), and only the byte range each tensor names is read. The model file
 * itself must be a regular file too.
 */
export function loadOnnxFile(path: string): GraphModule {
  const modelPath = realpathSync(path);
  const bytes = readRegularFile(modelPath, 'loadOnnxFile: the model');
  const folder = dirname(modelPath);
  const opened = new Map<string, OpenedFile>();
  try {
    return loadOnnx(bytes, { externalFile: (location) => externalFile(folder, location, opened) });
  } finally {
    for (const file of opened.values()) file.close();
  }
}

/** The external file `location` names, opened once per real path. */
function externalFile(folder: string, location: string, opened: Map<string, OpenedFile>): ExternalDataFile {
  const outside = (): OnnxError =>
    new OnnxError(`loadOnnxFile: external data location '${location}' points outside the model's folder ${folder}`, 'E_ONNX_EXTERNAL');
  if (isAbsolute(location) || !inside(folder, resolve(folder, location))) throw outside();
  let real: string;
  try {
    real = realpathSync(resolve(folder, location));
  } catch (e) {
    throw new OnnxError(`loadOnnxFile: cannot read external data '${location}' (${resolve(folder, location)}): ${(e as Error).message}`, 'E_ONNX_EXTERNAL');
  }
  // A symbolic link inside the folder may point anywhere: the real path must stay inside too.
  if (!inside(folder, real)) throw outside();
  let file = opened.get(real);
  if (!file) {
    try {
      file = openRegularFile(real, `loadOnnxFile: external data '${location}'`);
    } catch (e) {
      if (e instanceof FileError) throw new OnnxError(e.message, 'E_ONNX_EXTERNAL');
      throw new OnnxError(`loadOnnxFile: cannot read external data '${location}' (${real}): ${(e as Error).message}`, 'E_ONNX_EXTERNAL');
    }
    opened.set(real, file);
  }
  return file;
}

/** Whether `path` is `folder` itself or lies inside it (both absolute, resolved). */
function inside(folder: string, path: string): boolean {
  const rel = relative(folder, path);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

/**
 * Load a TensorFlow.js model.json; its weight shards are read from beside it
 * (the manifest's paths are relative to the model's folder), and only the
 * shards the manifest names. A path that leaves the folder is refused.
 */
export function loadTfjsModelFile(path: string): TfjsModel {
  let modelPath: string;
  let bytes: Uint8Array;
  try {
    modelPath = realpathSync(path);
    bytes = readRegularFile(modelPath, 'loadTfjsModelFile: the model.json');
  } catch (e) {
    throw new TfjsError(`loadTfjsModelFile: cannot read ${path}: ${(e as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(bytes)) as unknown;
  } catch (e) {
    throw new TfjsError(`loadTfjsModelFile: ${path} is not JSON (a TensorFlow.js model.json): ${(e as Error).message}`);
  }
  const folder = dirname(modelPath);
  return loadTfjsModel(json, {
    weights: (shard) => {
      const outside = () => new TfjsError(`loadTfjsModelFile: weight shard '${shard}' points outside the model's folder ${folder}`, 'E_TFJS_WEIGHTS');
      if (isAbsolute(shard) || !inside(folder, resolve(folder, shard))) throw outside();
      let real: string;
      try {
        real = realpathSync(resolve(folder, shard));
      } catch (e) {
        throw new TfjsError(`loadTfjsModelFile: weight shard '${shard}' is missing or unreadable (${resolve(folder, shard)}): ${(e as Error).message}`, 'E_TFJS_WEIGHTS');
      }
      // As for ONNX external data: a link inside the folder must not lead out of it.
      if (!inside(folder, real)) throw outside();
      try {
        return readRegularFile(real, `loadTfjsModelFile: weight shard '${shard}'`);
      } catch (e) {
        throw new TfjsError(`loadTfjsModelFile: weight shard '${shard}' is missing or unreadable (${real}): ${(e as Error).message}`, 'E_TFJS_WEIGHTS');
      }
    },
  });
}

export { createWorkerPool } from './workers.js';
export { WorkerPool, WorkerError } from '../parallel/pool.js';
export type { WorkerHandle, WorkerPoolOptions } from '../parallel/pool.js';
export type { ModelSpec } from '../parallel/protocol.js';
export { spawnKernelThread } from './kernel-threads.js';
