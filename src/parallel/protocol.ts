import { Tensor } from '../tensor/tensor.js';

/**
 * What the pool and its workers say to each other. Everything crosses as
 * structured-clone data: tensors as { data, shape } (the Float32Array's
 * buffer is transferred, not copied), models as a description each worker
 * builds its own copy from.
 */

/** How a worker builds its model. */
export type ModelSpec =
  /** A tinycam/models architecture by torchvision name, with weights (a state dict). */
  | { arch: string; options?: Record<string, unknown>; stateDict?: Record<string, SerializedTensor> }
  /** An ONNX model's bytes (external data already inlined). */
  | { onnx: Uint8Array }
  /**
   * A module the worker imports, and the name of its export: a function
   * returning the model (may be async). The model must not keep its input
   * after a call: the input's buffer goes back to the pool with the result.
   */
  | { module: string; export: string; args?: unknown[] };

export interface SerializedTensor {
  __tensor: true;
  data: Float32Array;
  shape: number[];
}

/**
 * The methods whose passes over one image a pool spreads over its workers
 * (each worker runs a share of the passes, then one worker joins them: see
 * src/cam/shares.ts).
 */
export const SPREAD_METHODS = ['scoreCam', 'ablationCam', 'smoothGrad', 'integratedGradients'] as const;
export type SpreadMethod = (typeof SPREAD_METHODS)[number];

export function isSpreadMethod(method: string): method is SpreadMethod {
  return (SPREAD_METHODS as readonly string[]).includes(method);
}

/** A task's part in a spread call: share `index` of `of` of the passes, or the join of every share's result. */
export type Step = { kind: 'share'; index: number; of: number } | { kind: 'join'; shares: unknown[] };

export type ToWorker =
  | { type: 'init'; model: ModelSpec; backend: 'js' | 'wasm' }
  | {
      type: 'task';
      id: number;
      method: string;
      input: SerializedTensor;
      options: unknown;
      /** Absent: the whole call. */
      step?: Step;
      /** Whether the caller wants progress messages (its onProgress stays on the calling thread). */
      progress?: boolean;
    };

export type FromWorker =
  | { type: 'ready'; backend: string }
  | { type: 'init-failed'; message: string }
  | { type: 'progress'; id: number; progress: { done: number; total: number; layer?: string } }
  /**
   * `input`: the task's input buffer, handed back (transferred) once the call
   * is done, for the pool to copy a later input of the same size into: a
   * fresh buffer of a batch's size costs the calling thread its page faults
   * at every call (4.8 MB for 8 images of 224x224).
   */
  | { type: 'result'; id: number; result: unknown; input?: ArrayBuffer }
  | { type: 'failed'; id: number; name: string; code: string | null; message: string };

/** Replace every Tensor in a value by a SerializedTensor; collect the buffers to transfer. */
export function serialize(value: unknown, transfer: ArrayBuffer[] = []): unknown {
  if (value instanceof Tensor) {
    const data = value.data.slice();
    transfer.push(data.buffer as ArrayBuffer);
    return { __tensor: true, data, shape: [...value.shape] } satisfies SerializedTensor;
  }
  if (Array.isArray(value)) return value.map((v) => serialize(v, transfer));
  if (value && typeof value === 'object' && !ArrayBuffer.isView(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = serialize(v, transfer);
    return out;
  }
  return value;
}

/** The inverse of serialize. */
export function revive(value: unknown): unknown {
  if (value && typeof value === 'object' && (value as SerializedTensor).__tensor === true) {
    const t = value as SerializedTensor;
    return new Tensor(t.data, t.shape);
  }
  if (Array.isArray(value)) return value.map(revive);
  if (value && typeof value === 'object' && !ArrayBuffer.isView(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = revive(v);
    return out;
  }
  return value;
}

/**
 * A method's options for a worker: a Tensor among the top-level values (a
 * baseline) crosses as a SerializedTensor; the rest is left to structured
 * clone as it is (one level only: options may hold anything, cycles too).
 */
export function serializeOptions(options: unknown, transfer: ArrayBuffer[]): unknown {
  if (!options || typeof options !== 'object' || Array.isArray(options)) return options;
  return Object.fromEntries(Object.entries(options).map(([k, v]) => [k, v instanceof Tensor ? serialize(v, transfer) : v]));
}

/** The inverse of serializeOptions. */
export function reviveOptions(options: unknown): Record<string, unknown> {
  if (!options || typeof options !== 'object' || Array.isArray(options)) return {};
  return Object.fromEntries(Object.entries(options).map(([k, v]) => [k, (v as SerializedTensor | null)?.__tensor === true ? revive(v) : v]));
}
