/**
 * Loading the committed weights of the model tinycam trained itself.
 * Bytes in, model out: no file system here, so a browser can fetch the file
 * and pass its bytes (the Node callers read the file themselves).
 */
import { skipInit } from '../../src/layers/init.js';
import { parseSafetensors } from '../../src/tensor/safetensors.js';
import { ShapesNet } from './model.js';

/** Path of the committed weights, relative to this folder. */
export const WEIGHTS_FILE = 'shapes-cnn.safetensors';

/** A ShapesNet in eval mode holding the weights in `bytes`, and the file's metadata (recipe, test scores). */
export function loadShapesNet(bytes: Uint8Array): { model: ShapesNet; metadata: Record<string, string> } {
  const { tensors, metadata } = parseSafetensors(bytes);
  // No random initial weights: the file overwrites every parameter (strict load).
  const model = skipInit(() => new ShapesNet());
  model.loadStateDict(tensors);
  model.eval();
  return { model, metadata };
}
