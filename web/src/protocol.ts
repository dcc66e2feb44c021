/**
 * Messages between the page (main.ts) and the worker that holds the model
 * (worker.ts). Every request carries an id; the worker answers with that id.
 */

/** A file as bytes, by its name. */
export interface NamedBytes {
  name: string;
  bytes: Uint8Array;
}

export type ModelSource =
  | { kind: 'builtin' }
  /** Dropped model files: one .onnx (and its external data), one .safetensors (with `arch`), or later a TensorFlow.js model.json with its shards. */
  | { kind: 'files'; files: NamedBytes[]; arch?: string };

export interface LayerRow {
  name: string;
  type: string;
  /** Output shape for one input of the model's size. */
  shape: number[];
}

export interface ModelInfo {
  name: string;
  format: string;
  inputSize: [number, number];
  normalization: 'imagenet' | 'unit' | 'symmetric';
  classes: number;
  labels: string[] | null;
  camLayer: string | null;
  /** Layers a CAM method can explain: 4-D outputs [1, C, h, w]. */
  layers: LayerRow[];
  /** How many other (non 4-D) layers the model has. */
  otherLayers: number;
}

export interface Picture {
  width: number;
  height: number;
  data: Uint8ClampedArray;
}

export interface Ranked {
  index: number;
  probability: number;
  logit: number;
}

export type Request =
  | { type: 'load-model'; id: number; source: ModelSource; builtinUrl: string }
  | { type: 'configure'; id: number; normalization: ModelInfo['normalization'] }
  | { type: 'set-image'; id: number; image: NamedBytes }
  | { type: 'explain'; id: number; methods: string[]; layer: string; target: number };

export type Reply =
  | { type: 'model'; id: number; info: ModelInfo }
  | { type: 'prediction'; id: number; seen: Picture; original: { width: number; height: number }; top: Ranked[]; ms: number }
  | { type: 'progress'; id: number; method: string; done: number; total: number }
  | { type: 'map'; id: number; method: string; map: Float32Array; width: number; height: number; target: number | null; layers: string[]; ms: number }
  | { type: 'error'; id: number; message: string; code?: string; unsupportedOps?: string[] }
  | { type: 'done'; id: number };
