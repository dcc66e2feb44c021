/**
 * The page's Web Worker: it holds the model and the picture, and computes
 * predictions and maps, so the page never freezes. One request at a time,
 * in the order they come; each answer carries its request's id.
 */
import { TinycamError } from 'tinycam';
import { decodeImage } from 'tinycam/image';
import { OnnxUnsupportedError } from 'tinycam/onnx';
import { explain, METHODS, modelView, predict, toInput, topK, type Explainable } from '../../examples/explainer/pipeline.js';
import { shapesExplainable } from '../../examples/explainer/shapes.js';
import { layerRows, loaderFor } from './loaders.js';
import type { ModelInfo, Reply, Request } from './protocol.js';

// The engine's kernels: when tinycam's WASM backend lands, `setBackend('wasm')` here is the one line this page needs.

let subject: Explainable | null = null;
let info: ModelInfo | null = null;
let picture: ReturnType<typeof decodeImage> | null = null;

const post = (reply: Reply, transfer: Transferable[] = []): void => self.postMessage(reply, { transfer });

/** Picture limits for dropped files: a 50-megapixel photo still decodes, a decompression bomb does not. */
const MAX_PIXELS = 50e6;

async function loadModel(request: Extract<Request, { type: 'load-model' }>): Promise<void> {
  let next: Explainable;
  let format: string;
  if (request.source.kind === 'builtin') {
    const response = await fetch(request.builtinUrl);
    if (!response.ok) throw new Error(`could not load the built-in model from ${request.builtinUrl} (${response.status})`);
    next = shapesExplainable(new Uint8Array(await response.arrayBuffer()));
    format = 'built-in (safetensors)';
  } else {
    const loader = loaderFor(request.source.files);
    next = loader.load(request.source.files, request.source.arch ? { arch: request.source.arch } : {});
    format = loader.format;
  }
  const { rows, classes } = layerRows(next);
  const explainable = rows.filter((r) => r.shape.length === 4 && (r.shape[2]! > 1 || r.shape[3]! > 1));
  subject = next;
  info = {
    name: next.name,
    format,
    inputSize: next.inputSize,
    normalization: next.normalization,
    classes,
    labels: next.labels ? [...next.labels] : null,
    camLayer: next.camLayer ?? explainable[explainable.length - 1]?.name ?? null,
    layers: explainable,
    otherLayers: rows.length - explainable.length,
  };
  post({ type: 'model', id: request.id, info });
}

function requireModel(): Explainable {
  if (!subject) throw new Error('no model is loaded yet');
  return subject;
}

function predictPicture(id: number): void {
  const s = requireModel();
  if (!picture) return;
  const started = performance.now();
  const seen = modelView(picture, s.inputSize);
  const logits = predict(s.model, toInput(seen, s.normalization));
  const top = topK(logits, 5).map(({ index, probability, logit }) => ({ index, probability, logit }));
  post({ type: 'prediction', id, seen, original: { width: picture.width, height: picture.height }, top, ms: performance.now() - started });
}

function explainPicture(request: Extract<Request, { type: 'explain' }>): void {
  const s = requireModel();
  if (!picture) throw new Error('no picture yet: drop or pick one');
  const input = toInput(modelView(picture, s.inputSize), s.normalization);
  const failures: string[] = [];
  for (const method of request.methods) {
    if (!METHODS[method]) throw new Error(`unknown method '${method}'`);
    const started = performance.now();
    let result: ReturnType<typeof explain>;
    try {
      result = explain(s, input, {
        method,
        layer: request.layer,
        target: request.target,
        onProgress: ({ done, total }) => post({ type: 'progress', id: request.id, method, done, total }),
      });
    } catch (e) {
      // One method that cannot explain this layer (CAM needs GAP + FC) does not stop the others.
      failures.push(`${METHODS[method]!.label}: ${e instanceof Error ? e.message : String(e)}`);
      continue;
    }
    post(
      { type: 'map', id: request.id, method, map: result.map, width: result.width, height: result.height, target: result.target, layers: result.layers, ms: performance.now() - started },
      [result.map.buffer],
    );
  }
  if (failures.length) throw new Error(failures.join(' '));
}

async function handle(request: Request): Promise<void> {
  switch (request.type) {
    case 'load-model':
      await loadModel(request);
      if (picture) predictPicture(request.id);
      break;
    case 'configure':
      if (subject && info) {
        subject = { ...subject, normalization: request.normalization };
        info = { ...info, normalization: request.normalization };
        predictPicture(request.id);
      }
      break;
    case 'set-image':
      picture = decodeImage(request.image.bytes, { maxPixels: MAX_PIXELS });
      predictPicture(request.id);
      break;
    case 'explain':
      explainPicture(request);
      break;
  }
  post({ type: 'done', id: request.id });
}

// Requests run one after another, even when one awaits (the built-in model's fetch).
let queue = Promise.resolve();
self.onmessage = (event: MessageEvent<Request>) => {
  const request = event.data;
  queue = queue.then(() =>
    handle(request).catch((e: unknown) => {
      const message = e instanceof Error ? e.message : String(e);
      const reply: Reply = { type: 'error', id: request.id, message };
      if (e instanceof TinycamError) reply.code = e.code;
      if (e instanceof OnnxUnsupportedError) {
        reply.unsupportedOps = e.unsupported.map((u) => `${u.domain ? `${u.domain}.` : ''}${u.opType}${u.detail ? ` (${u.detail})` : ''}: ${u.nodes.length} node${u.nodes.length > 1 ? 's' : ''}`);
      }
      post(reply);
      post({ type: 'done', id: request.id });
    }),
  );
};
