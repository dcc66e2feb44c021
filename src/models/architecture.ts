import { ArgumentError } from '../tensor/errors.js';
import { Module } from '../layers/module.js';

/** Options every architecture accepts. */
export interface ArchitectureOptions {
  /** Size of the classifier's output (torchvision's num_classes; 1000 by default). */
  numClasses?: number;
}

/**
 * A torchvision-style model: a Module that also names the layer where CAM
 * methods look by default (the last convolutional feature map, as
 * pytorch-grad-cam's and torch-cam's guides recommend).
 */
export interface Architecture extends Module {
  readonly camLayer: string;
}

export function classCount(options: ArchitectureOptions, name: string): number {
  const n = options.numClasses ?? 1000;
  if (!Number.isInteger(n) || n < 1) {
    throw new ArgumentError(`${name}: numClasses must be a positive integer (got ${n})`);
  }
  return n;
}
