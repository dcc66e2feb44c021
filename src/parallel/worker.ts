import * as cam from '../cam/index.js';
import { setBackend } from '../tensor/backend.js';
import { ArgumentError, TinycamError } from '../tensor/errors.js';
import { ablationCamJoined, ablationCamShare } from '../cam/methods/ablationCam.js';
import { integratedGradientsJoined, integratedGradientsShare } from '../cam/methods/integratedGradients.js';
import { scoreCamJoined, scoreCamShare } from '../cam/methods/scoreCam.js';
import { smoothGradJoined, smoothGradShare } from '../cam/methods/smoothGrad.js';
import type { Share } from '../cam/shares.js';
import { skipInit } from '../layers/init.js';
import type { Module } from '../layers/module.js';
import type { Tensor } from '../tensor/tensor.js';
import { isSpreadMethod, revive, reviveOptions, serialize, type FromWorker, type SpreadMethod, type ModelSpec, type ToWorker } from './protocol.js';

/**
 * The worker side of WorkerPool: build the model from its spec, then run
 * the methods asked for. `port` is whatever the platform gives a worker to
 * talk to its parent (Node's parentPort, a Web Worker's self).
 */
export interface WorkerPort {
  postMessage(message: FromWorker, transfer?: ArrayBuffer[]): void;
  onMessage(listener: (message: ToWorker) => void): void;
}

const METHODS: Record<string, (model: Module, input: Tensor, options: never) => unknown> = {
  cam: cam.cam, gradCam: cam.gradCam, seedGradCam: cam.seedGradCam, hiResCam: cam.hiResCam,
  gradCamElementWise: cam.gradCamElementWise, gradCamPlusPlus: cam.gradCamPlusPlus, xGradCam: cam.xGradCam,
  layerCam: cam.layerCam, scoreCam: cam.scoreCam, ablationCam: cam.ablationCam, eigenCam: cam.eigenCam,
  eigenGradCam: cam.eigenGradCam, guidedGradCam: cam.guidedGradCam, saliency: cam.saliency,
  inputXGradient: cam.inputXGradient, guidedBackprop: cam.guidedBackprop, deconvnet: cam.deconvnet,
  integratedGradients: cam.integratedGradients, smoothGrad: cam.smoothGrad,
};

/** The gradient methods SmoothGrad can smooth in a worker, by name. */
const SMOOTHABLE = ['saliency', 'inputXGradient', 'guidedBackprop', 'deconvnet', 'integratedGradients'];

type Spreadable = {
  share: (model: Module, input: Tensor, options: never, share: Share) => unknown;
  joined: (model: Module, input: Tensor, options: never, shares: never[]) => unknown;
};

/** Each spread method's two steps (WorkerPool.explain on one image); keyed by protocol's SPREAD_METHODS, so the two lists cannot drift. */
const SPREAD: Record<SpreadMethod, Spreadable> = {
  scoreCam: { share: scoreCamShare, joined: scoreCamJoined },
  ablationCam: { share: ablationCamShare, joined: ablationCamJoined },
  smoothGrad: { share: smoothGradShare, joined: smoothGradJoined },
  integratedGradients: { share: integratedGradientsShare, joined: integratedGradientsJoined },
} as Record<SpreadMethod, Spreadable>;

/**
 * The options as the method takes them: tensors revived, SmoothGrad's
 * `method` given by name (a function cannot cross to a worker) looked up,
 * and progress posted to the pool when the caller listens.
 */
function methodOptions(message: Extract<ToWorker, { type: 'task' }>, port: WorkerPort): Record<string, unknown> {
  const options = reviveOptions(message.options);
  if (message.method === 'smoothGrad' && typeof options.method === 'string') {
    if (!SMOOTHABLE.includes(options.method)) {
      throw new ArgumentError(`smoothGrad: method '${options.method}' is not a gradient method a worker knows; accepted: ${SMOOTHABLE.join(', ')}`);
    }
    options.method = METHODS[options.method];
  }
  if (message.progress) options.onProgress = (progress: { done: number; total: number; layer?: string }) => port.postMessage({ type: 'progress', id: message.id, progress });
  return options;
}

async function buildModel(spec: ModelSpec): Promise<Module> {
  let model: Module;
  // The ONNX importer and the architectures load only when the spec needs them: a worker starts sooner.
  if ('arch' in spec) {
    const { createModel } = await import('../models/index.js');
    const build = () => createModel(spec.arch, spec.options ?? {});
    // Weights to load: no random initial ones to draw first (ResNet-18: 11.7 million draws per worker).
    model = spec.stateDict ? skipInit(build) : build();
    if (spec.stateDict) model.loadStateDict(revive(spec.stateDict) as Record<string, Tensor>);
  } else if ('onnx' in spec) {
    const { loadOnnx } = await import('../onnx/index.js');
    model = loadOnnx(spec.onnx);
  } else {
    const imported = (await import(/* @vite-ignore */ spec.module)) as Record<string, unknown>;
    const factory = imported[spec.export];
    if (typeof factory !== 'function') throw new TinycamError('E_WORKER', `module ${spec.module} has no function export '${spec.export}'`);
    model = (await factory(...(spec.args ?? []))) as Module;
  }
  model.eval();
  return model;
}

export function serveWorker(port: WorkerPort): void {
  let model: Module | null = null;
  port.onMessage(async (message) => {
    if (message.type === 'init') {
      try {
        await setBackend(message.backend);
        model = await buildModel(message.model);
        port.postMessage({ type: 'ready', backend: message.backend });
      } catch (e) {
        port.postMessage({ type: 'init-failed', message: (e as Error).message });
      }
      return;
    }
    const { id, method } = message;
    try {
      const input = revive(message.input) as Tensor;
      const step = message.step;
      let result: unknown;
      if (!step) {
        const fn = METHODS[method];
        if (!fn) throw new ArgumentError(`unknown method '${method}'; accepted: ${Object.keys(METHODS).join(', ')}`);
        result = fn(model!, input, methodOptions(message, port) as never);
      } else {
        const spread = isSpreadMethod(method) ? SPREAD[method] : undefined;
        if (!spread) throw new ArgumentError(`method '${method}' cannot be spread over workers; accepted: ${Object.keys(SPREAD).join(', ')}`);
        const options = methodOptions(message, port) as never;
        result = step.kind === 'share' ? spread.share(model!, input, options, step) : spread.joined(model!, input, options, step.shares as never[]);
      }
      const transfer: ArrayBuffer[] = [];
      const serialized = serialize(result, transfer);
      // The input's buffer goes back to the pool for a later input (results are copies: serialize slices them).
      const spare = input.data.buffer;
      const handBack = spare instanceof ArrayBuffer && spare.byteLength > 0 && !transfer.includes(spare);
      if (handBack) transfer.push(spare);
      port.postMessage({ type: 'result', id, result: serialized, ...(handBack ? { input: spare } : {}) }, transfer);
    } catch (e) {
      const error = e as Error;
      port.postMessage({ type: 'failed', id, name: error.name, code: e instanceof TinycamError ? e.code : null, message: error.message });
    }
  });
}
