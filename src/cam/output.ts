import type { Module, ModelOutput } from '../layers/module.js';
import { ArgumentError, ShapeError } from '../tensor/errors.js';
import { shapeString, type Tensor } from '../tensor/tensor.js';
import { checkFinite, locateNonFinite } from './finite.js';
import type { OutputOptions } from './types.js';

/** One forward pass, seen from the CAM methods. */
export interface ExplainedOutput {
  /** The output's name ('output' for a module with one). */
  name: string;
  /** What the target scores: the logits, or the probability when asked. */
  explained: Tensor;
  /** The logits: the tensor before a final softmax, else the output itself. */
  logits: Tensor;
  /** Every output of the pass by name (the explained one as explained), for targets that read several. */
  outputs: Record<string, Tensor>;
}

const describe = (outputs: readonly ModelOutput[]): string =>
  outputs.map((o, i) => `${i}: '${o.name}' ${shapeString(o.value.shape)}`).join(', ');

/** The output that `options.output` names (default the first), or a typed error listing those that exist. */
function pickOutput(outputs: readonly ModelOutput[], which: string | number | undefined, fn: string): ModelOutput {
  if (which === undefined) {
    const first = outputs[0];
    if (!first) throw new ArgumentError(`${fn}: the model returned no outputs`);
    return first;
  }
  const found = typeof which === 'number' ? outputs[which] : outputs.find((o) => o.name === which);
  if (!found || (typeof which === 'number' && !Number.isInteger(which))) {
    throw new ArgumentError(
      `${fn}: 'output' ${typeof which === 'number' ? which : `'${which}'`} is not an output of the model; accepted: a name or an index among ${describe(outputs)}`,
    );
  }
  return found;
}

/**
 * The model's outputs; when the model rejects the shape of an input that is
 * not a batch of images, say how the input was read, since a single image
 * [C, H, W] passes for a batch of signals [N, C, L].
 */
function forwardWithHint(model: Module, input: Tensor, fn: string): ModelOutput[] {
  try {
    return model.forwardOutputs(input);
  } catch (e) {
    if (!(e instanceof ShapeError) || input.ndim === 4) throw e;
    const read = input.ndim === 3 ? 'signals [N, C, L]' : 'volumes [N, C, D, H, W]';
    throw new ShapeError(
      `${fn}: the model rejected the input ${shapeString(input.shape)}, read as a batch of ${read} (${e.message}); for a single image [C, H, W], add a batch axis: [1, ${input.shape.slice(input.ndim === 3 ? 0 : 1).join(', ')}]`,
    );
  }
}

/**
 * Run the model once on `input` (as the caller set up gradients) and pick
 * the output to explain. Non-finite values in it are traced back to where
 * they first appear (the input, a weight, a layer) and reported.
 */
export function runForExplanation(model: Module, input: Tensor, options: OutputOptions, fn: string): ExplainedOutput {
  const outputs = forwardWithHint(model, input, fn);
  const chosen = pickOutput(outputs, options.output, fn);
  if (options.explainProbability && !chosen.activation) {
    throw new ArgumentError(
      `${fn}: 'explainProbability' asks for the probability, but output '${chosen.name}' does not end in a softmax; ` +
        `explain its values as they are (leave the option out), or pass target: softmaxTarget(c) to explain softmax(output)[c]`,
    );
  }
  const logits = chosen.logits ?? chosen.value;
  const explained = options.explainProbability ? chosen.value : logits;
  if (!checkFinite(explained)) locateNonFinite(model, input, fn);
  const byName: Record<string, Tensor> = Object.create(null) as Record<string, Tensor>;
  for (const o of outputs) byName[o.name] = o === chosen ? explained : o.value;
  return { name: chosen.name, explained, logits, outputs: byName };
}
