/**
 * One picture's explanation as the command-line scripts print and write it
 * (examples/deno/explain.ts, examples/bun/explain.ts): the top 5 as JSON
 * lines and the overlay as PNG bytes.
 */
import { decodeImage, encodePng, overlay } from 'tinycam/image';
import { explain, mapTensor, modelView, toInput, topK, type Explainable } from './pipeline.js';

export function explainBytes(subject: Explainable, bytes: Uint8Array, method = 'gradcam'): { summary: string; png: Uint8Array } {
  const seen = modelView(decodeImage(bytes), subject.inputSize);
  const result = explain(subject, toInput(seen, subject.normalization), { method });
  const top = topK(result.logits, 5, subject.labels);
  const lines = top.map((t, k) => `${k + 1}. ${t.label.padEnd(12)} ${(t.probability * 100).toFixed(2).padStart(6)} %  logit ${t.logit.toFixed(4)}`);
  lines.push(`${method} at ${result.layers.join(', ')} for ${top[0]?.label}`);
  return { summary: lines.join('\n'), png: encodePng(overlay(seen, mapTensor(result))) };
}
