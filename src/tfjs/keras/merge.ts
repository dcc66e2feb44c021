import { add, div, maximum, minimum, mul, sub } from '../../tensor/ops/elementwise.js';
import { concat } from '../../tensor/ops/shape.js';
import type { Tensor } from '../../tensor/tensor.js';
import { TfjsError } from '../errors.js';
import { KerasLayer, type KerasShape, type LayerClass, type LayerContext } from './layer.js';

/**
 * Add, Subtract, Multiply, Average, Maximum, Minimum and Concatenate. Their
 * inputs are stored alike (same rank, so the same layout), so they combine
 * as stored; Concatenate maps its axis into the stored layout.
 */

function checkInputs(context: LayerContext, min: number, max = Infinity): KerasShape[] {
  const shapes = context.inputShapes;
  if (shapes.length < min || shapes.length > max) {
    throw new TfjsError(
      `loadTfjsModel: layer '${context.name}' (${context.className}) takes ${max === min ? min : `at least ${min}`} inputs; it is called with ${shapes.length}`,
    );
  }
  const rank = shapes[0]!.length;
  if (shapes.some((s) => s.length !== rank)) {
    throw new TfjsError(
      `loadTfjsModel: layer '${context.name}' (${context.className}) combines inputs of ranks ${shapes.map((s) => s.length).join(', ')}; tinycam combines inputs of one rank`,
    );
  }
  return shapes;
}

/** The broadcast shape of same-rank shapes (a 1 gives way to any size; unknown stays unknown). */
function broadcastShape(shapes: KerasShape[], name: string): KerasShape {
  return shapes[0]!.map((_, axis) => {
    const dims = shapes.map((shape) => shape[axis]!);
    const sizes = new Set(dims.filter((d): d is number => d !== null && d !== 1));
    if (sizes.size > 1) {
      throw new TfjsError(`loadTfjsModel: layer '${name}' combines inputs of shapes ${shapes.map((s) => `[${s.map((v) => v ?? 'null').join(', ')}]`).join(' and ')}, which do not broadcast`);
    }
    return sizes.size ? [...sizes][0]! : dims.some((d) => d === null) ? null : 1;
  });
}

type Combine = (inputs: Tensor[]) => Tensor;

export class KerasMerge extends KerasLayer {
  readonly #combine: Combine;

  constructor(context: LayerContext, combine: Combine) {
    super(context);
    this.#combine = combine;
  }

  forward(...inputs: Tensor[]): Tensor {
    return this.done(this.#combine(inputs));
  }
}

function fold(op: (a: Tensor, b: Tensor) => Tensor): Combine {
  return (inputs) => inputs.slice(1).reduce(op, inputs[0]!);
}

function mergeClass(combine: Combine, min = 2, max = Infinity): LayerClass {
  return {
    build: (context) => {
      const shapes = checkInputs(context, min, max);
      return { module: new KerasMerge(context, combine), outputShape: broadcastShape(shapes, context.name) };
    },
  };
}

export class KerasConcatenate extends KerasLayer {
  readonly axis: number;

  constructor(context: LayerContext) {
    super(context);
    this.axis = context.config.integer('axis', -1);
  }

  forward(...inputs: Tensor[]): Tensor {
    return this.done(concat(inputs, this.layout.axis(this.axis, inputs[0]!.ndim)));
  }
}

const concatenateClass: LayerClass = {
  build: (context) => {
    const shapes = checkInputs(context, 1);
    const module = new KerasConcatenate(context);
    const rank = shapes[0]!.length;
    const axis = module.axis < 0 ? module.axis + rank : module.axis;
    if (axis < 1 || axis >= rank) throw new TfjsError(`loadTfjsModel: layer '${context.name}' (Concatenate) has axis ${module.axis}, outside its rank-${rank} inputs (batch axis excluded)`);
    const outputShape = shapes[0]!.map((d, i) => {
      if (i !== axis) return shapes.every((s) => s[i] === d) ? d : null;
      return shapes.every((s) => s[i] !== null) ? shapes.reduce((n, s) => n + s[i]!, 0) : null;
    });
    return { module, outputShape };
  },
};

export const mergeClasses: Record<string, LayerClass> = {
  Add: mergeClass(fold(add)),
  Subtract: mergeClass(([a, b]) => sub(a!, b!), 2, 2),
  Multiply: mergeClass(fold(mul)),
  Average: mergeClass((inputs) => div(fold(add)(inputs), inputs.length)),
  Maximum: mergeClass(fold(maximum)),
  Minimum: mergeClass(fold(minimum)),
  Concatenate: concatenateClass,
};
