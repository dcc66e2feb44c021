import { Module } from '../../layers/module.js';
import type { Tensor } from '../../tensor/tensor.js';
import type { Config } from '../json.js';
import type { Layout } from '../layout.js';
import { activate, finalActivationOf, type FinalActivation } from './activations.js';

/** A Keras shape in the model's own layout; null where the size is not fixed (the batch, free image sizes). */
export type KerasShape = (number | null)[];

/**
 * One Keras layer as a tinycam Module, hookable by its Keras name. `forward`
 * takes and returns tensors as stored (see Layout: 4-D activations of a
 * channels_last model are held [N, C, H, W]), so a hook sees [N, C, h, w].
 */
export abstract class KerasLayer extends Module {
  /** The layer's Keras name ('Conv_1', 'block_16_project_BN'). */
  readonly layerName: string;
  /** The Keras class ('Conv2D'). */
  readonly className: string;
  /** Stored shape of the output at the last call. */
  lastShape: readonly number[] | null = null;
  /** The Keras activation the layer ends in ('linear' when none). */
  readonly activation: string;
  readonly layout: Layout;
  /**
   * When the layer ends in a softmax or log-softmax over its last axis: the
   * tensor before it at the last call (stored layout), the logits that the
   * CAM methods explain.
   */
  logits: Tensor | null = null;

  constructor(context: LayerContext, activation = 'linear') {
    super();
    this.layerName = context.name;
    this.className = context.className;
    this.layout = context.layout;
    this.activation = activation;
  }

  override get typeName(): string {
    return this.className;
  }

  /** 'softmax' or 'logSoftmax' when the layer ends in one, else null. */
  get finalActivation(): FinalActivation | null {
    return finalActivationOf(this.activation);
  }

  /** The layer's activation applied to its pre-activation output `z` (kept as `logits` before a softmax). */
  protected activate(z: Tensor): Tensor {
    if (this.finalActivation) this.logits = z;
    const y = activate(this.activation, z, this.layout);
    this.lastShape = y.shape;
    return y;
  }

  /** Record the output's shape and pass it on (layers without an activation end with this). */
  protected done(y: Tensor): Tensor {
    this.lastShape = y.shape;
    return y;
  }
}

/** What a layer class gets to build one layer. */
export interface LayerContext {
  name: string;
  className: string;
  config: Config;
  /** The shapes of its inputs, in the model's layout. */
  inputShapes: KerasShape[];
  layout: Layout;
  /**
   * The layer's weight `weightName` ('kernel'), checked against the shape the
   * topology implies (null: a size the topology does not fix).
   */
  weight(weightName: string, shape: KerasShape): Tensor;
  /** Whether the manifest has the weight (for optional ones). */
  hasWeight(weightName: string): boolean;
}

export interface BuiltLayer {
  module: KerasLayer;
  /** The output shape in the model's layout. */
  outputShape: KerasShape;
}

/** A Keras layer class: a check of the config's form (before anything is built) and a builder. */
export interface LayerClass {
  /** A form of the class tinycam does not run ('padding causal'), or null. */
  unsupported?: (config: Config) => string | null;
  build: (context: LayerContext) => BuiltLayer;
}
