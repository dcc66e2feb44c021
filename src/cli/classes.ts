import { closestNames } from '../layers/names.js';
import { readRegularFile } from '../node/index.js';
import type { Tensor } from '../tensor/tensor.js';

export interface TopClass {
  index: number;
  label: string;
  /** softmax of the logits over the classes. */
  probability: number;
  logit: number;
}

/** Class names, one per line (a trailing empty line is not a class). */
export function readLabels(path: string): string[] {
  const text = new TextDecoder().decode(readRegularFile(path, '--labels', 64 * 2 ** 20));
  const lines = text.split(/\r?\n/).map((l) => l.trim());
  if (lines.length && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

export function closestLabels(wanted: string, labels: readonly string[]): string[] {
  return closestNames(wanted, labels);
}

/**
 * The k classes with the highest logits for the first image, with their
 * probabilities (softmax over the classes). The logits are the pre-softmax
 * values the methods explain, so a model that ends in a softmax gets its
 * own probabilities back, not a softmax of them. A [N, K, 1, 1] output (a
 * convolutional classifier such as SqueezeNet) has K classes.
 */
export function topClasses(logits: Tensor, k: number, labels: readonly string[] | undefined): TopClass[] {
  const rows = logits.shape[0] ?? 1;
  const count = rows > 0 ? logits.size / rows : 0;
  const row = logits.data.subarray(0, count);
  let max = -Infinity;
  for (const v of row) if (v > max) max = v;
  let total = 0;
  for (const v of row) total += Math.exp(v - max);
  const order = Array.from({ length: count }, (_, i) => i).sort((a, b) => row[b]! - row[a]! || a - b);
  return order.slice(0, Math.min(k, count)).map((index) => ({
    index,
    label: labels?.[index] ?? `class ${index}`,
    probability: Math.exp(row[index]! - max) / total,
    logit: row[index]!,
  }));
}
