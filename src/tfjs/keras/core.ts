import { add, mul } from '../../tensor/ops/elementwise.js';
import { linear } from '../../tensor/ops/matmul.js';
import { permute, reshape } from '../../tensor/ops/shape.js';
import { softmax } from '../../tensor/ops/softmax.js';
import { Tensor, type Parameter } from '../../tensor/tensor.js';
import { TfjsError } from '../errors.js';
import { array, integer, number, type Config } from '../json.js';
import { isSupportedActivation, SUPPORTED_ACTIVATIONS } from './activations.js';
import { KerasLayer, type KerasShape, type LayerClass, type LayerContext } from './layer.js';
import { channelsLastOf, permutedParameter, parameter } from './spatial.js';

/**
 * InputLayer, Dense, Activation, Softmax, Flatten, Reshape, Permute,
 * Rescaling, and the layers that are the identity at inference (Dropout,
 * SpatialDropout2D, the noise layers).
 */

function onlyInput(context: LayerContext): KerasShape {
  const shape = context.inputShapes[0];
  if (!shape || context.inputShapes.length !== 1) {
    throw new TfjsError(`loadTfjsModel: layer '${context.name}' (${context.className}) takes one input; it is called with ${context.inputShapes.length}`);
  }
  return shape;
}

/** A layer that passes its input on: InputLayer, and the dropout and noise layers at inference. */
export class KerasIdentity extends KerasLayer {
  forward(x: Tensor): Tensor {
    return this.done(x);
  }
}

/** The declared input shape of an InputLayer (Keras 2 batch_input_shape, Keras 3 batch_shape, or input_shape). */
export function inputShapeOf(config: Config): KerasShape {
  const raw = config.get('batch_input_shape') ?? config.get('batch_shape');
  if (raw !== undefined && raw !== null) {
    return array(raw, config.at('batch_input_shape')).map((d, i) => (d === null ? null : integer(d, `${config.at('batch_input_shape')}[${i}]`, 0)));
  }
  const input = config.get('input_shape');
  if (input !== undefined && input !== null) {
    return [null, ...array(input, config.at('input_shape')).map((d, i) => (d === null ? null : integer(d, `${config.at('input_shape')}[${i}]`, 0)))];
  }
  throw new TfjsError(`loadTfjsModel: ${config.where} has no batch_input_shape (or batch_shape, input_shape): the input's shape is needed`);
}

const inputClass: LayerClass = {
  build: (context) => ({ module: new KerasIdentity(context), outputShape: inputShapeOf(context.config) }),
};

const identityClass: LayerClass = {
  build: (context) => ({ module: new KerasIdentity(context), outputShape: onlyInput(context) }),
};

/** Dense: x @ kernel + bias over the last axis (kernel [in, units] is kept as [units, in]). */
export class KerasDense extends KerasLayer {
  weight: Parameter;
  bias: Parameter | null;

  constructor(context: LayerContext) {
    super(context, context.config.string('activation', 'linear'));
    const units = context.config.integer('units', undefined, 1);
    const input = onlyInput(context);
    const kernel = context.weight('kernel', [input[input.length - 1] ?? null, units]);
    this.weight = permutedParameter(kernel, [1, 0]);
    this.bias = context.config.boolean('use_bias', true) ? parameter(context.weight('bias', [units])) : null;
  }

  forward(x: Tensor): Tensor {
    return this.activate(this.layout.store(linear(this.layout.restore(x), this.weight, this.bias)));
  }
}

const denseClass: LayerClass = {
  build: (context) => {
    const input = onlyInput(context);
    return { module: new KerasDense(context), outputShape: [...input.slice(0, -1), context.config.integer('units')] };
  },
};

export class KerasActivation extends KerasLayer {
  forward(x: Tensor): Tensor {
    return this.activate(x);
  }
}

const activationClass: LayerClass = {
  build: (context) => ({ module: new KerasActivation(context, context.config.string('activation')), outputShape: onlyInput(context) }),
};

/** Softmax layer over `axis` (default the last): over the last axis it is a final softmax like Activation('softmax'). */
export class KerasSoftmax extends KerasLayer {
  readonly axis: number;

  constructor(context: LayerContext) {
    const raw = context.config.get('axis');
    const axis = Array.isArray(raw) && raw.length === 1 ? integer(raw[0], context.config.at('axis')) : context.config.integer('axis', -1);
    const rank = onlyInput(context).length;
    const last = axis === -1 || axis === rank - 1;
    super(context, last ? 'softmax' : 'linear');
    this.axis = axis;
  }

  forward(x: Tensor): Tensor {
    if (this.finalActivation) return this.activate(x);
    return this.done(softmax(x, this.layout.axis(this.axis, x.ndim)));
  }
}

const softmaxClass: LayerClass = {
  unsupported: (config) => {
    const raw = config.get('axis');
    return Array.isArray(raw) && raw.length !== 1 ? `axis ${JSON.stringify(raw)} (accepted: one axis)` : null;
  },
  build: (context) => ({ module: new KerasSoftmax(context), outputShape: onlyInput(context) }),
};

/** Flatten: the model's tensor flattened after the batch axis; channels_first Flatten moves channels last first (as Keras). */
export class KerasFlatten extends KerasLayer {
  readonly channelsLast: boolean;

  constructor(context: LayerContext) {
    super(context);
    this.channelsLast = channelsLastOf(context.config);
  }

  forward(x: Tensor): Tensor {
    let t = this.layout.restore(x);
    if (!this.channelsLast && t.ndim > 2) t = permute(t, [0, ...Array.from({ length: t.ndim - 2 }, (_, i) => i + 2), 1]);
    return this.done(reshape(t, [t.shape[0]!, -1]));
  }
}

const flattenClass: LayerClass = {
  build: (context) => {
    const input = onlyInput(context);
    const rest = input.slice(1);
    const size = rest.every((d) => d !== null) ? (rest as number[]).reduce((a, b) => a * b, 1) : null;
    return { module: new KerasFlatten(context), outputShape: [input[0] ?? null, size] };
  },
};

/** Resolve a Keras target shape (without the batch axis, -1 at most once) for `size` elements per image. */
function targetShape(target: readonly number[], size: number | null, name: string): KerasShape {
  const known = target.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
  const free = target.filter((d) => d === -1).length;
  if (free > 1) throw new TfjsError(`loadTfjsModel: layer '${name}' (Reshape) has target_shape [${target.join(', ')}] with more than one -1`);
  if (size === null) return target.map((d) => (d === -1 ? null : d));
  if (free === 0 ? known !== size : known === 0 || size % known !== 0) {
    throw new TfjsError(`loadTfjsModel: layer '${name}' (Reshape) cannot reshape ${size} values per image to [${target.join(', ')}]`);
  }
  return target.map((d) => (d === -1 ? size / known : d));
}

export class KerasReshape extends KerasLayer {
  readonly target: number[];

  constructor(context: LayerContext) {
    super(context);
    this.target = array(context.config.get('target_shape'), context.config.at('target_shape')).map((d, i) =>
      integer(d, `${context.config.at('target_shape')}[${i}]`, -1),
    );
  }

  forward(x: Tensor): Tensor {
    const t = this.layout.restore(x);
    return this.done(this.layout.store(reshape(t, [t.shape[0]!, ...this.target])));
  }
}

const reshapeClass: LayerClass = {
  build: (context) => {
    const module = new KerasReshape(context);
    const input = onlyInput(context);
    const rest = input.slice(1);
    const size = rest.every((d) => d !== null) ? (rest as number[]).reduce((a, b) => a * b, 1) : null;
    return { module, outputShape: [input[0] ?? null, ...targetShape(module.target, size, context.name)] };
  },
};

/** Permute: `dims` (1-based, the batch axis stays) of the model's tensor. */
export class KerasPermute extends KerasLayer {
  readonly dims: number[];

  constructor(context: LayerContext) {
    super(context);
    const rank = onlyInput(context).length;
    this.dims = array(context.config.get('dims'), context.config.at('dims')).map((d, i) => integer(d, `${context.config.at('dims')}[${i}]`, 1));
    const sorted = [...this.dims].sort((a, b) => a - b);
    if (this.dims.length !== rank - 1 || sorted.some((d, i) => d !== i + 1)) {
      throw new TfjsError(`loadTfjsModel: layer '${context.name}' (Permute) has dims [${this.dims.join(', ')}]; accepted: a permutation of 1..${rank - 1}`);
    }
  }

  forward(x: Tensor): Tensor {
    return this.done(this.layout.store(permute(this.layout.restore(x), [0, ...this.dims])));
  }
}

const permuteClass: LayerClass = {
  build: (context) => {
    const module = new KerasPermute(context);
    const input = onlyInput(context);
    return { module, outputShape: [input[0] ?? null, ...module.dims.map((d) => input[d] ?? null)] };
  },
};

/** Rescaling: x * scale + offset (numbers, or lists broadcast over the model's last axes). */
export class KerasRescaling extends KerasLayer {
  readonly scale: number | Tensor;
  readonly offset: number | Tensor;

  constructor(context: LayerContext) {
    super(context);
    this.scale = scalarOrList(context.config, 'scale', 1);
    this.offset = scalarOrList(context.config, 'offset', 0);
  }

  forward(x: Tensor): Tensor {
    if (typeof this.scale === 'number' && typeof this.offset === 'number') return this.done(add(mul(x, this.scale), this.offset));
    return this.done(this.layout.store(add(mul(this.layout.restore(x), this.scale), this.offset)));
  }
}

function scalarOrList(config: Config, name: string, fallback: number): number | Tensor {
  const raw = config.get(name);
  if (raw === undefined || raw === null) return fallback;
  if (typeof raw === 'number') return number(raw, config.at(name));
  const values = array(raw, config.at(name)).map((v, i) => number(v, `${config.at(name)}[${i}]`));
  return new Tensor(Float32Array.from(values), [values.length]);
}

const rescalingClass: LayerClass = {
  build: (context) => ({ module: new KerasRescaling(context), outputShape: onlyInput(context) }),
};

/** The check every layer with an `activation` field gets. */
export const activationForm = (config: Config): string | null => {
  const name = config.get('activation');
  if (name === undefined || name === null) return null;
  if (typeof name !== 'string') return `activation ${JSON.stringify(name)} (accepted: a name)`;
  return isSupportedActivation(name) ? null : `activation '${name}' (accepted: ${SUPPORTED_ACTIVATIONS.join(', ')})`;
};


export const coreClasses: Record<string, LayerClass> = {
  InputLayer: inputClass,
  Dense: denseClass,
  Activation: activationClass,
  Softmax: softmaxClass,
  Flatten: flattenClass,
  Reshape: reshapeClass,
  Permute: permuteClass,
  Rescaling: rescalingClass,
  Dropout: identityClass,
  SpatialDropout1D: identityClass,
  SpatialDropout2D: identityClass,
  SpatialDropout3D: identityClass,
  GaussianNoise: identityClass,
  GaussianDropout: identityClass,
  AlphaDropout: identityClass,
  ActivityRegularization: identityClass,
};
