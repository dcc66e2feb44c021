import { interpolate } from '../../tensor/ops/interpolate.js';
import { pad } from '../../tensor/ops/shape.js';
import type { Tensor } from '../../tensor/tensor.js';
import { TfjsError } from '../errors.js';
import { array, integer, type Config } from '../json.js';
import { KerasLayer, type LayerClass, type LayerContext } from './layer.js';
import { channelsLastOf, imageInput, imageShape, pairOf } from './spatial.js';

/**
 * ZeroPadding2D, Cropping2D and UpSampling2D. Sizes per side come as Keras
 * writes them: n (all sides), [h, w] (both sides of an axis), or
 * [[top, bottom], [left, right]].
 */

function sides(config: Config, name: string, fallback: number): [number, number, number, number] {
  const raw = config.get(name);
  const where = config.at(name);
  if (raw === undefined || raw === null) return [fallback, fallback, fallback, fallback];
  if (typeof raw === 'number') {
    const n = integer(raw, where, 0);
    return [n, n, n, n];
  }
  const list = array(raw, where);
  if (list.length !== 2) throw new TfjsError(`loadTfjsModel: ${where} must be n, [h, w] or [[top, bottom], [left, right]]; got ${JSON.stringify(raw)}`);
  const axis = (v: unknown, i: number): [number, number] => {
    if (typeof v === 'number') {
      const n = integer(v, `${where}[${i}]`, 0);
      return [n, n];
    }
    const p = array(v, `${where}[${i}]`);
    if (p.length !== 2) throw new TfjsError(`loadTfjsModel: ${where}[${i}] must be n or [before, after]; got ${JSON.stringify(v)}`);
    return [integer(p[0], `${where}[${i}][0]`, 0), integer(p[1], `${where}[${i}][1]`, 0)];
  };
  const [top, bottom] = axis(list[0], 0);
  const [left, right] = axis(list[1], 1);
  return [top, bottom, left, right];
}

/** Zero padding (positive) or cropping (negative amounts) of the image axes. */
export class KerasPad2D extends KerasLayer {
  /** [top, bottom, left, right]; negative crops. */
  readonly amounts: [number, number, number, number];
  readonly channelsLast: boolean;

  constructor(context: LayerContext, sign: 1 | -1) {
    super(context);
    const [t, b, l, r] = sides(context.config, sign > 0 ? 'padding' : 'cropping', sign > 0 ? 1 : 0);
    this.amounts = [sign * t, sign * b, sign * l, sign * r];
    this.channelsLast = channelsLastOf(context.config);
  }

  forward(x: Tensor): Tensor {
    const v = this.layout.toNCHW(x, this.channelsLast);
    const [top, bottom, left, right] = this.amounts;
    return this.done(this.layout.fromNCHW(pad(v, [left, right, top, bottom]), this.channelsLast));
  }
}

function padClass(sign: 1 | -1): LayerClass {
  return {
    build: (context) => {
      const module = new KerasPad2D(context, sign);
      const { n, h, w, c } = imageInput(context, module.channelsLast);
      const [top, bottom, left, right] = module.amounts;
      const outH = h === null ? null : h + top + bottom;
      const outW = w === null ? null : w + left + right;
      if ((outH !== null && outH < 1) || (outW !== null && outW < 1)) {
        throw new TfjsError(`loadTfjsModel: layer '${context.name}' (Cropping2D) crops its ${h}x${w} input to nothing`);
      }
      return { module, outputShape: imageShape(n, outH, outW, c, module.channelsLast) };
    },
  };
}

/**
 * UpSampling2D by integer factors, as TensorFlow.js computes it: nearest, or
 * bilinear with tf.image.resizeBilinear's defaults (no half-pixel centres,
 * corners not aligned: output pixel o reads input o / factor). Keras in
 * Python samples bilinear at half-pixel centres instead; the model runs here
 * as in the browser.
 */
export class KerasUpSampling2D extends KerasLayer {
  readonly size: [number, number];
  readonly interpolation: 'nearest' | 'bilinear';
  readonly channelsLast: boolean;

  constructor(context: LayerContext) {
    super(context);
    this.size = pairOf(context.config, 'size', [2, 2]);
    this.interpolation = context.config.choice('interpolation', ['nearest', 'bilinear'], 'nearest');
    this.channelsLast = channelsLastOf(context.config);
  }

  forward(x: Tensor): Tensor {
    const v = this.layout.toNCHW(x, this.channelsLast);
    const size: [number, number] = [v.shape[2]! * this.size[0], v.shape[3]! * this.size[1]];
    const y = this.interpolation === 'nearest'
      ? interpolate(v, { size, mode: 'nearest' })
      : interpolate(v, { size, mode: 'bilinear', coordinates: 'asymmetric' });
    return this.done(this.layout.fromNCHW(y, this.channelsLast));
  }
}

const upSamplingClass: LayerClass = {
  unsupported: (config) => {
    const i = config.get('interpolation');
    return i === undefined || i === null || i === 'nearest' || i === 'bilinear' ? null : `interpolation ${JSON.stringify(i)} (accepted: 'nearest', 'bilinear')`;
  },
  build: (context) => {
    const module = new KerasUpSampling2D(context);
    const { n, h, w, c } = imageInput(context, module.channelsLast);
    return {
      module,
      outputShape: imageShape(n, h === null ? null : h * module.size[0], w === null ? null : w * module.size[1], c, module.channelsLast),
    };
  },
};

export const reshapingClasses: Record<string, LayerClass> = {
  ZeroPadding2D: padClass(1),
  Cropping2D: padClass(-1),
  UpSampling2D: upSamplingClass,
};
