import { advancedActivationClasses } from './advanced-activations.js';
import { convClasses } from './conv.js';
import { coreClasses } from './core.js';
import type { LayerClass } from './layer.js';
import { mergeClasses } from './merge.js';
import { normalizationClasses } from './normalization.js';
import { poolingClasses } from './pooling.js';
import { reshapingClasses } from './reshaping.js';

/** Every Keras layer class tinycam builds, by class name (nested models are handled by the model builder). */
export const LAYER_CLASSES: Readonly<Record<string, LayerClass>> = {
  ...coreClasses,
  ...convClasses,
  ...poolingClasses,
  ...normalizationClasses,
  ...mergeClasses,
  ...advancedActivationClasses,
  ...reshapingClasses,
};

/** Class names of nested models. */
export const MODEL_CLASSES: ReadonlySet<string> = new Set(['Model', 'Functional', 'Sequential']);

export { KerasLayer, type KerasShape, type LayerClass, type LayerContext } from './layer.js';
