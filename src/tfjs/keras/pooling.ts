import { avgPool2d, globalAvgPool2d, globalMaxPool2d, maxPool2d } from '../../tensor/ops/pool.js';
import { reshape } from '../../tensor/ops/shape.js';
import type { Tensor } from '../../tensor/tensor.js';
import type { Config } from '../json.js';
import { KerasLayer, type LayerClass, type LayerContext } from './layer.js';
import { channelsLastOf, imageInput, imageShape, outSize, pads2d, pairOf, paddingOf, type PaddingKind } from './spatial.js';

/**
 * MaxPooling2D, AveragePooling2D (TensorFlow's 'same' padding; padded cells
 * never count, as TensorFlow: max ignores them, the average divides by the
 * cells inside), GlobalAveragePooling2D and GlobalMaxPooling2D.
 */

export class KerasPool2D extends KerasLayer {
  readonly kind: 'max' | 'avg';
  readonly poolSize: [number, number];
  readonly strides: [number, number];
  readonly padding: PaddingKind;
  readonly channelsLast: boolean;

  constructor(context: LayerContext, kind: 'max' | 'avg') {
    super(context);
    const { config } = context;
    this.kind = kind;
    this.poolSize = pairOf(config, 'pool_size', [2, 2]);
    this.strides = pairOf(config, 'strides', this.poolSize);
    this.padding = paddingOf(config);
    this.channelsLast = channelsLastOf(config);
  }

  forward(x: Tensor): Tensor {
    const v = this.layout.toNCHW(x, this.channelsLast);
    const padding = pads2d(this.padding, v.shape[2]!, v.shape[3]!, this.poolSize, this.strides);
    const options = { kernelSize: this.poolSize, stride: this.strides, padding };
    const y = this.kind === 'max' ? maxPool2d(v, options) : avgPool2d(v, { ...options, countIncludePad: false });
    return this.done(this.layout.fromNCHW(y, this.channelsLast));
  }
}

function paddingForm(config: Config): string | null {
  const p = config.get('padding');
  return p === undefined || p === 'same' || p === 'valid' ? null : `padding ${JSON.stringify(p)} (accepted: 'same', 'valid')`;
}

function poolClass(kind: 'max' | 'avg'): LayerClass {
  return {
    unsupported: paddingForm,
    build: (context) => {
      const module = new KerasPool2D(context, kind);
      const { n, h, w, c } = imageInput(context, module.channelsLast);
      const outputShape = imageShape(
        n,
        outSize(module.padding, h, module.poolSize[0], module.strides[0]),
        outSize(module.padding, w, module.poolSize[1], module.strides[1]),
        c,
        module.channelsLast,
      );
      return { module, outputShape };
    },
  };
}

/** Mean or max over the image axes: [N, C] (with keepdims, the image axes of size 1). */
export class KerasGlobalPool2D extends KerasLayer {
  readonly kind: 'max' | 'avg';
  readonly channelsLast: boolean;
  readonly keepdims: boolean;

  constructor(context: LayerContext, kind: 'max' | 'avg') {
    super(context);
    this.kind = kind;
    this.channelsLast = channelsLastOf(context.config);
    this.keepdims = context.config.boolean('keepdims', false);
  }

  forward(x: Tensor): Tensor {
    const v = this.layout.toNCHW(x, this.channelsLast);
    const y = this.kind === 'max' ? globalMaxPool2d(v) : globalAvgPool2d(v);
    if (this.keepdims) return this.done(this.layout.fromNCHW(y, this.channelsLast));
    return this.done(reshape(y, [y.shape[0]!, y.shape[1]!]));
  }
}

function globalClass(kind: 'max' | 'avg'): LayerClass {
  return {
    build: (context) => {
      const module = new KerasGlobalPool2D(context, kind);
      const { n, c } = imageInput(context, module.channelsLast);
      return { module, outputShape: module.keepdims ? imageShape(n, 1, 1, c, module.channelsLast) : [n, c] };
    },
  };
}

export const poolingClasses: Record<string, LayerClass> = {
  MaxPooling2D: poolClass('max'),
  MaxPool2D: poolClass('max'),
  AveragePooling2D: poolClass('avg'),
  AvgPool2D: poolClass('avg'),
  GlobalAveragePooling2D: globalClass('avg'),
  GlobalAvgPool2D: globalClass('avg'),
  GlobalMaxPooling2D: globalClass('max'),
  GlobalMaxPool2D: globalClass('max'),
};
