/**
 * The built-in model: the small CNN tinycam trained itself on generated
 * shape scenes (examples/shapes), from its safetensors bytes.
 */
import { CLASSES } from '../shapes/generate.js';
import { CAM_LAYER } from '../shapes/model.js';
import { loadShapesNet } from '../shapes/weights.js';
import type { Explainable } from './pipeline.js';

export const SHAPES_INPUT_SIZE: [number, number] = [64, 64];

/** The shapes model as an Explainable; `bytes` is shapes-cnn.safetensors (a Uint8Array, or an ArrayBuffer as Cloudflare's Data modules give). */
export function shapesExplainable(bytes: Uint8Array | ArrayBuffer): Explainable & { metadata: Record<string, string> } {
  const { model, metadata } = loadShapesNet(bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes));
  return {
    model,
    metadata,
    name: 'shapes-cnn (tinycam trained it on generated scenes)',
    inputSize: SHAPES_INPUT_SIZE,
    normalization: 'imagenet',
    labels: CLASSES,
    camLayer: CAM_LAYER,
  };
}
