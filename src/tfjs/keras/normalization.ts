import { add, mul, sqrt, sub, div } from '../../tensor/ops/elementwise.js';
import { batchNorm } from '../../tensor/ops/norm.js';
import { reshape } from '../../tensor/ops/shape.js';
import type { Parameter, Tensor } from '../../tensor/tensor.js';
import { TfjsError } from '../errors.js';
import { integer, type Config } from '../json.js';
import { KerasLayer, type LayerClass, type LayerContext } from './layer.js';
import { parameter } from './spatial.js';

/**
 * BatchNormalization at inference: (x - moving_mean) / sqrt(moving_variance
 * + epsilon) * gamma + beta over one axis, always with the moving statistics
 * (what model.predict does). On the stored channel axis it is the engine's
 * batchNorm; on any other axis the same formula broadcast.
 */
export class KerasBatchNormalization extends KerasLayer {
  weight: Parameter | null;
  bias: Parameter | null;
  runningMean: Parameter;
  runningVar: Parameter;
  readonly axis: number;
  readonly epsilon: number;

  constructor(context: LayerContext) {
    super(context);
    const { config } = context;
    const input = context.inputShapes[0] ?? [];
    this.axis = axisOf(config);
    const axis = this.axis < 0 ? this.axis + input.length : this.axis;
    if (axis < 1 || axis >= input.length) {
      throw new TfjsError(`loadTfjsModel: layer '${context.name}' (BatchNormalization) has axis ${this.axis}, outside its rank-${input.length} input (batch axis excluded)`);
    }
    const channels = input[axis] ?? null;
    this.epsilon = config.number('epsilon', 1e-3);
    this.weight = config.boolean('scale', true) ? parameter(context.weight('gamma', [channels])) : null;
    this.bias = config.boolean('center', true) ? parameter(context.weight('beta', [channels])) : null;
    this.runningMean = parameter(context.weight('moving_mean', [channels]));
    this.runningVar = parameter(context.weight('moving_variance', [channels]));
  }

  forward(x: Tensor): Tensor {
    const axis = this.layout.axis(this.axis, x.ndim);
    if (axis === 1) {
      return this.done(batchNorm(x, this.runningMean, this.runningVar, this.weight, this.bias, { eps: this.epsilon }));
    }
    const shape = x.shape.map((d, i) => (i === axis ? d : 1));
    const along = (t: Tensor) => reshape(t, shape);
    let y = div(sub(x, along(this.runningMean)), sqrt(add(along(this.runningVar), this.epsilon)));
    if (this.weight) y = mul(y, along(this.weight));
    if (this.bias) y = add(y, along(this.bias));
    return this.done(y);
  }
}

function axisOf(config: Config): number {
  const raw = config.get('axis');
  if (Array.isArray(raw)) {
    if (raw.length !== 1) throw new TfjsError(`loadTfjsModel: ${config.at('axis')} is ${JSON.stringify(raw)}; tinycam normalises over one axis`);
    return integer(raw[0], `${config.at('axis')}[0]`);
  }
  return config.integer('axis', -1);
}

export const normalizationClasses: Record<string, LayerClass> = {
  BatchNormalization: {
    unsupported: (config) => {
      const raw = config.get('axis');
      return Array.isArray(raw) && raw.length !== 1 ? `axis ${JSON.stringify(raw)} (accepted: one axis)` : null;
    },
    build: (context) => ({ module: new KerasBatchNormalization(context), outputShape: context.inputShapes[0] ?? [] }),
  },
};
