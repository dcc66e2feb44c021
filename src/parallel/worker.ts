import * as cam from '../cam/index.js';
import { setBackend } from '../tensor/backend.js';
import { TinycamError } from '../tensor/errors.js';
import type { Module } from '../layers/module.js';
import type { Tensor } from '../tensor/tensor.js';
import { revive, serialize, type FromWorker, type ModelSpec, type ToWorker } from './protocol.js';

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

async function buildModel(spec: ModelSpec): Promise<Module> {
  let model: Module;
  // The ONNX importer and the architectures load only when the spec needs them: a worker starts sooner.
  if ('arch' in spec) {
    const { createModel } = await import('../models/index.js');
    model = createModel(spec.arch, spec.options ?? {});
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
      const fn = METHODS[method];
      if (!fn) throw new TinycamError('E_ARGUMENT', `unknown method '${method}'; accepted: ${Object.keys(METHODS).join(', ')}`);
      const result = fn(model!, revive(message.input) as Tensor, (message.options ?? {}) as never);
      const transfer: ArrayBuffer[] = [];
      port.postMessage({ type: 'result', id, result: serialize(result, transfer) }, transfer);
    } catch (e) {
      const error = e as Error;
      port.postMessage({ type: 'failed', id, name: error.name, code: e instanceof TinycamError ? e.code : null, message: error.message });
    }
  });
}
