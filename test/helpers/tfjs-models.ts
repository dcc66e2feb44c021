/**
 * Small models built with TensorFlow.js's layers API that together use every
 * layer class tinycam/tfjs supports, in both data formats, nested as
 * Teachable Machine nests them. Weights are set from a seeded generator, so
 * every run compares the same numbers.
 */
import { Rng } from '../../src/tensor/random.js';
import { tf } from './tfjs.js';

type Sym = tf.SymbolicTensor;
const L = tf.layers;

/** Seeded weights: kernels ~ N(0, 1/fan_in), biases and alphas small, BN statistics and scales spread around 1. */
export function randomizeWeights(model: tf.LayersModel, seed: number): void {
  const rng = new Rng(seed);
  const visit = (m: tf.LayersModel): void => {
    for (const layer of m.layers) {
      if (layer instanceof tf.LayersModel) {
        visit(layer);
        continue;
      }
      const weights = layer.weights;
      if (!weights.length) continue;
      layer.setWeights(
        weights.map((w) => {
          const shape = w.shape as number[];
          const size = shape.reduce((a, b) => a * b, 1);
          const values = new Float32Array(size);
          const name = w.originalName;
          const fanIn = shape.length > 1 ? shape.slice(0, -1).reduce((a, b) => a * b, 1) : 1;
          for (let i = 0; i < size; i++) {
            if (/moving_variance|gamma/.test(name)) values[i] = 0.5 + rng.uniform();
            else if (/moving_mean|beta|bias/.test(name)) values[i] = 0.2 * rng.normal();
            else if (/alpha/.test(name)) values[i] = 0.1 + 0.3 * rng.uniform();
            else values[i] = rng.normal() / Math.sqrt(fanIn);
          }
          return tf.tensor(values, shape);
        }),
      );
    }
  };
  visit(model);
}

const apply = (layer: tf.layers.Layer, x: Sym | Sym[]): Sym => layer.apply(x) as Sym;

/**
 * Channels_last functional model with skip connections: Rescaling,
 * ZeroPadding2D, Conv2D ('same', stride 2, odd sizes: TensorFlow's
 * asymmetric padding), BatchNormalization, DepthwiseConv2D, ReLU(max_value),
 * SeparableConv2D, Add, Activation, Multiply, Concatenate, MaxPooling2D,
 * AveragePooling2D, Cropping2D, UpSampling2D (bilinear and nearest),
 * LeakyReLU, PReLU, Conv2DTranspose ('same' and 'valid' with kernel <
 * stride), Average, Maximum, Minimum, GlobalAveragePooling2D,
 * GlobalMaxPooling2D, Dense, Dropout, ELU, Softmax (mid-model),
 * and the activations elu, selu, softplus, softsign, tanh, hard_sigmoid,
 * relu6, swish, mish, sigmoid, linear. The output is linear (logits).
 */
export function functionalModel(): tf.LayersModel {
  const inp = tf.input({ shape: [17, 19, 3], name: 'image' });
  const r = apply(L.rescaling({ scale: 0.5, offset: -0.25, name: 'scale' }), inp);
  const z = apply(L.zeroPadding2d({ padding: [[1, 0], [2, 1]], name: 'pad' }), r);
  const c1 = apply(L.conv2d({ filters: 8, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu', name: 'c1' }), z);
  const b1 = apply(L.batchNormalization({ name: 'b1' }), c1);
  const d1 = apply(L.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, padding: 'same', name: 'd1' }), b1);
  const a1 = apply(L.reLU({ maxValue: 6, name: 'a1' }), d1);
  const s1 = apply(L.separableConv2d({ filters: 8, kernelSize: 3, padding: 'same', activation: 'swish', name: 's1' }), a1);
  const add1 = apply(L.add({ name: 'add1' }), [s1, b1]);
  const gate = apply(L.activation({ activation: 'sigmoid', name: 'gate' }), add1);
  const m1 = apply(L.multiply({ name: 'm1' }), [add1, gate]);
  const cat = apply(L.concatenate({ name: 'cat' }), [m1, c1]);
  const p1 = apply(L.maxPooling2d({ poolSize: 3, strides: 2, padding: 'same', name: 'p1' }), cat);
  const ap = apply(L.averagePooling2d({ poolSize: 2, strides: 1, padding: 'valid', name: 'ap' }), p1);
  const crop = apply(L.cropping2D({ cropping: [[0, 0], [0, 1]], name: 'crop' }), ap);
  const up = apply(L.upSampling2d({ size: [2, 2], interpolation: 'bilinear', name: 'up' }), crop);
  const lr = apply(L.leakyReLU({ alpha: 0.2, name: 'lr' }), up);
  const pr = apply(L.prelu({ sharedAxes: [1, 2], name: 'pr' }), lr);
  const ct = apply(L.conv2dTranspose({ filters: 6, kernelSize: 3, strides: 2, padding: 'same', name: 'ct' }), pr);
  const ct2 = apply(L.conv2dTranspose({ filters: 6, kernelSize: 2, strides: 3, padding: 'valid', activation: 'relu6', name: 'ct2' }), pr);
  const ct2p = apply(L.averagePooling2d({ poolSize: [3, 3], strides: [3, 3], padding: 'valid', name: 'ct2_pool' }), ct2);
  const upn = apply(L.upSampling2d({ size: [2, 2], name: 'upn' }), ct2p);
  const e1 = apply(L.activation({ activation: 'elu', name: 'e_elu' }), ct);
  const e2 = apply(L.activation({ activation: 'selu', name: 'e_selu' }), ct);
  const e3 = apply(L.activation({ activation: 'softplus', name: 'e_softplus' }), upn);
  const e4 = apply(L.activation({ activation: 'softsign', name: 'e_softsign' }), ct);
  const e5 = apply(L.activation({ activation: 'hardSigmoid', name: 'e_hard_sigmoid' }), upn);
  // Global max pooling sees a branch without upsampling: edges of an upsampled
  // map repeat values, and on a tie tfjs gives the gradient to every maximum,
  // tinycam (as PyTorch) to the first.
  const b2 = apply(L.conv2d({ filters: 6, kernelSize: 3, padding: 'same', name: 'b2' }), p1);
  const e6 = apply(L.activation({ activation: 'mish', name: 'e_mish' }), b2);
  const e7 = apply(L.elu({ name: 'elu_layer' }), b2);
  const av = apply(L.average({ name: 'av' }), [e1, e2, e4]);
  const mx = apply(L.maximum({ name: 'mx' }), [e6, e7]);
  const mn = apply(L.minimum({ name: 'mn' }), [e3, e5]);
  const gap = apply(L.globalAveragePooling2d({ name: 'gap' }), av);
  const gmp = apply(L.globalMaxPooling2d({ name: 'gmp' }), mx);
  const gap2 = apply(L.globalAveragePooling2d({ name: 'gap2' }), mn);
  const cat2 = apply(L.concatenate({ name: 'cat2' }), [gap, gmp, gap2]);
  const f1 = apply(L.dense({ units: 12, activation: 'tanh', name: 'f1' }), cat2);
  // TensorFlow.js's Softmax layer defaults to axis 1 (Keras: -1) and runs only on the last axis.
  const sm = apply(L.softmax({ name: 'softmax_features' }), f1);
  const dr = apply(L.dropout({ rate: 0.5, name: 'dr' }), sm);
  const out = apply(L.dense({ units: 5, name: 'logits' }), dr);
  const model = tf.model({ inputs: inp, outputs: out, name: 'functional' });
  randomizeWeights(model, 1);
  return model;
}

/**
 * Sequential, channels_last, ending in Activation('softmax'): Conv2D
 * ('valid', non-square kernel and strides; dilation), MaxPooling2D, Dense
 * on a 4-D input, Permute, Reshape (back to 4-D), Conv2D 1x1, Flatten, Dense.
 */
export function sequentialModel(): tf.Sequential {
  const model = tf.sequential({
    name: 'seq',
    layers: [
      L.conv2d({ inputShape: [12, 14, 3], filters: 6, kernelSize: [3, 2], strides: [1, 2], padding: 'valid', activation: 'elu', name: 'conv_a' }),
      L.conv2d({ filters: 6, kernelSize: 3, dilationRate: 2, padding: 'same', activation: 'selu', name: 'conv_b' }),
      L.maxPooling2d({ poolSize: 2, name: 'pool' }),
      L.dense({ units: 5, activation: 'relu', name: 'dense4d' }),
      L.permute({ dims: [2, 1, 3], name: 'permute' }),
      L.reshape({ targetShape: [5, 3, 5], name: 'reshape' }),
      L.conv2d({ filters: 4, kernelSize: 1, activation: 'tanh', name: 'conv_c' }),
      L.flatten({ name: 'flatten' }),
      L.dense({ units: 7, name: 'fc' }),
      L.activation({ activation: 'softmax', name: 'probs' }),
    ],
  });
  randomizeWeights(model, 2);
  return model;
}

/**
 * Channels_first functional model: Conv2D, DepthwiseConv2D, MaxPooling2D, ZeroPadding2D,
 * UpSampling2D, Conv2DTranspose, AveragePooling2D ('same'), Cropping2D,
 * GlobalAveragePooling2D and Flatten (which moves channels last first, as
 * Keras), all with data_format channels_first; a linear output.
 * TensorFlow.js 4.22 cannot be the reference for two channels_first
 * layers: SeparableConv2D adds its bias to the NHWC result and fails, and
 * the CPU backend's batch norm indexes [1, C, 1, 1] statistics as if they
 * were [C] on the last axis (BatchNormalization(axis=1) is checked against
 * its formula instead). Its gradient of a 'same' average pool divides by
 * the whole window at the borders, where the forward pass divides by the
 * cells inside, so dA is compared downstream of cf_avg only.
 */
export function channelsFirstModel(): tf.LayersModel {
  const df = 'channelsFirst' as const;
  const inp = tf.input({ shape: [3, 12, 14], name: 'chw' });
  const c1 = apply(L.conv2d({ filters: 8, kernelSize: 3, strides: 2, padding: 'same', dataFormat: df, activation: 'relu', name: 'cf_conv' }), inp);
  const d1 = apply(L.depthwiseConv2d({ kernelSize: 3, padding: 'same', dataFormat: df, name: 'cf_depthwise' }), c1);
  const s1 = apply(L.conv2d({ filters: 6, kernelSize: 3, padding: 'valid', dataFormat: df, activation: 'relu', name: 'cf_valid' }), d1);
  const p1 = apply(L.maxPooling2d({ poolSize: 2, padding: 'same', dataFormat: df, name: 'cf_pool' }), s1);
  const z1 = apply(L.zeroPadding2d({ padding: [1, 2], dataFormat: df, name: 'cf_pad' }), p1);
  const u1 = apply(L.upSampling2d({ size: [2, 3], dataFormat: df, name: 'cf_up' }), z1);
  const t1 = apply(L.conv2dTranspose({ filters: 5, kernelSize: 3, strides: 2, padding: 'valid', dataFormat: df, name: 'cf_transpose' }), u1);
  const a1 = apply(L.averagePooling2d({ poolSize: 3, strides: 2, padding: 'same', dataFormat: df, name: 'cf_avg' }), t1);
  const k1 = apply(L.cropping2D({ cropping: [[0, 1], [2, 0]], dataFormat: df, name: 'cf_crop' }), a1);
  const c2 = apply(L.conv2d({ filters: 6, kernelSize: 3, padding: 'same', dataFormat: df, activation: 'relu', name: 'cf_conv2' }), k1);
  const g1 = apply(L.globalAveragePooling2d({ dataFormat: df, name: 'cf_gap' }), c2);
  const f1 = apply(L.flatten({ dataFormat: df, name: 'cf_flatten' }), p1);
  const cat = apply(L.concatenate({ name: 'cf_cat' }), [g1, f1]);
  const out = apply(L.dense({ units: 4, name: 'cf_out' }), cat);
  const model = tf.model({ inputs: inp, outputs: out, name: 'channels_first' });
  randomizeWeights(model, 3);
  return model;
}

/**
 * Teachable Machine's shape: a truncated MobileNet-like functional model
 * (Conv1 / bn_Conv1 / Conv1_relu ... out_relu) inside a Sequential with
 * GlobalAveragePooling2D, followed by a Sequential head (Dense relu, Dense
 * softmax without bias), all in one Sequential, as TeachableMobileNet.train
 * assembles it.
 */
export function teachableMachineModel(size = 32, classes = 3): tf.Sequential {
  const inp = tf.input({ shape: [size, size, 3], name: 'input_1' });
  let x = apply(L.conv2d({ filters: 8, kernelSize: 3, strides: 2, padding: 'same', useBias: false, name: 'Conv1' }), inp);
  x = apply(L.batchNormalization({ epsilon: 1e-3, name: 'bn_Conv1' }), x);
  const block = apply(L.reLU({ maxValue: 6, name: 'Conv1_relu' }), x);
  x = apply(L.depthwiseConv2d({ kernelSize: 3, padding: 'same', useBias: false, name: 'expanded_conv_depthwise' }), block);
  x = apply(L.batchNormalization({ name: 'expanded_conv_depthwise_BN' }), x);
  x = apply(L.reLU({ maxValue: 6, name: 'expanded_conv_depthwise_relu' }), x);
  x = apply(L.conv2d({ filters: 8, kernelSize: 1, useBias: false, name: 'expanded_conv_project' }), x);
  x = apply(L.batchNormalization({ name: 'expanded_conv_project_BN' }), x);
  x = apply(L.add({ name: 'expanded_conv_add' }), [x, block]);
  x = apply(L.conv2d({ filters: 16, kernelSize: 1, useBias: false, name: 'Conv_1' }), x);
  x = apply(L.batchNormalization({ name: 'Conv_1_bn' }), x);
  x = apply(L.reLU({ maxValue: 6, name: 'out_relu' }), x);
  const truncated = tf.model({ inputs: inp, outputs: x, name: 'model1' });
  const base = tf.sequential({ name: 'sequential_1' });
  base.add(truncated);
  base.add(L.globalAveragePooling2d({ name: 'global_average_pooling2d_GlobalAveragePooling2D1' }));
  const head = tf.sequential({
    name: 'sequential_3',
    layers: [
      L.dense({ inputShape: [16], units: 10, activation: 'relu', name: 'dense_Dense1' }),
      L.dense({ units: classes, activation: 'softmax', useBias: false, name: 'dense_Dense2' }),
    ],
  });
  const joint = tf.sequential({ name: 'sequential_4' });
  joint.add(base);
  joint.add(head);
  randomizeWeights(joint, 4);
  return joint;
}
