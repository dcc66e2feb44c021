/**
 * `tinycam/node`: helpers that read files with Node's fs. Kept out of the
 * core entry, which must run where there is no file system.
 */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import { OnnxError } from '../onnx/errors.js';
import type { GraphModule } from '../onnx/graph.js';
import { loadOnnx } from '../onnx/index.js';

/**
 * Load an ONNX model file; initializers stored as external data are read
 * from files beside it (their `location` is relative to the model's folder).
 * A location that leaves the folder is refused, as onnx.load refuses it.
 */
export function loadOnnxFile(path: string): GraphModule {
  const folder = dirname(resolve(path));
  const cache = new Map<string, Uint8Array>();
  return loadOnnx(new Uint8Array(readFileSync(path)), {
    externalData: (location) => {
      const full = resolve(folder, location);
      const rel = relative(folder, full);
      if (isAbsolute(location) || rel.startsWith('..') || isAbsolute(rel)) {
        throw new OnnxError(`loadOnnxFile: external data location '${location}' points outside the model's folder ${folder}`, 'E_ONNX_EXTERNAL');
      }
      let bytes = cache.get(full);
      if (!bytes) {
        try {
          bytes = new Uint8Array(readFileSync(full));
        } catch (e) {
          throw new OnnxError(`loadOnnxFile: cannot read external data '${location}' (${full}): ${(e as Error).message}`, 'E_ONNX_EXTERNAL');
        }
        cache.set(full, bytes);
      }
      return bytes;
    },
  });
}

export { createWorkerPool } from './workers.js';
export { WorkerPool, WorkerError } from '../parallel/pool.js';
export type { WorkerHandle, WorkerPoolOptions } from '../parallel/pool.js';
export type { ModelSpec } from '../parallel/protocol.js';
