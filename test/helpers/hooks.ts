import type { Module } from '../../src/layers/module.js';

/**
 * `f` with a no-op forward hook on every module of `model`: every layer runs
 * by itself, as a hook turns off the fusions that would let a layer's output
 * go unseen (src/onnx/fusion.ts, src/tfjs/keras/fusion.ts).
 */
export function layerByLayer<T>(model: Module, f: () => T): T {
  const handles = [...model.modules()].map((m) => m.registerForwardHook(() => {}));
  try {
    return f();
  } finally {
    for (const h of handles) h.remove();
  }
}
