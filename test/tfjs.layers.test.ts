/**
 * TensorFlow.js layers models built with tfjs's own layers API, saved with
 * model.save (tf.io.withSaveHandler), loaded by tinycam and compared with
 * TensorFlow.js: model.predict, A and dA = d score / d A at two layers
 * (tf.grad), Grad-CAM from tfjs's A and dA.
 *
 * dA is compared on one image: TensorFlow.js 4.22's CPU gradient of
 * resizeNearestNeighbor is wrong for batches of more than one, and of
 * resizeBilinear on non-square images (checked against its own finite
 * differences while writing these tests); its gradient of a 'same' average
 * pool divides by the whole window at the borders, so dA is compared
 * downstream of those. Outputs are compared on batches of two.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { gradCam } from '../src/cam/index.js';
import { mean, sum } from '../src/tensor/ops/reduce.js';
import { mul } from '../src/tensor/ops/elementwise.js';
import { softmax } from '../src/tensor/ops/softmax.js';
import { rand } from '../src/tensor/random.js';
import { LayerNotFoundError } from '../src/tensor/errors.js';
import { Tensor } from '../src/tensor/tensor.js';
import { loadTfjsModel, type TfjsLayersModel } from '../src/tfjs/index.js';
import { activationAndGradient, predict, quantize, saveModel, tf, withoutFinalSoftmax, type SavedModel } from './helpers/tfjs.js';
import { asStored, classScore, compareWithTfjs, expectClose } from './helpers/tfjs-compare.js';
import { channelsFirstModel, functionalModel, sequentialModel, teachableMachineModel } from './helpers/tfjs-models.js';

interface Case {
  name: string;
  make: () => tf.LayersModel;
  /** One image's shape, in the model's layout. */
  image: number[];
  layers: [string, string];
  softmax: boolean;
}

const CASES: Case[] = [
  { name: 'functional, channels_last, skip connections', make: functionalModel, image: [17, 19, 3], layers: ['c1', 'b2'], softmax: false },
  { name: 'Sequential ending in Activation(softmax)', make: sequentialModel, image: [12, 14, 3], layers: ['conv_b', 'conv_c'], softmax: true },
  { name: 'functional, channels_first', make: channelsFirstModel, image: [3, 12, 14], layers: ['cf_crop', 'cf_conv2'], softmax: false },
  { name: 'Teachable Machine shape (nested Sequentials and Model)', make: () => teachableMachineModel(), image: [32, 32, 3], layers: ['out_relu', 'Conv1_relu'], softmax: true },
];

const built = new Map<string, { reference: tf.LayersModel; saved: SavedModel; ours: TfjsLayersModel }>();

beforeAll(async () => {
  for (const c of CASES) {
    const reference = c.make();
    const saved = await saveModel(reference);
    built.set(c.name, { reference, saved, ours: loadTfjsModel(saved.modelJson, { weights: saved.weights }) as TfjsLayersModel });
  }
});

describe.each(CASES)('$name', (c) => {
  it('outputs equal model.predict on a batch of two (1e-4 relative)', () => {
    const { reference, ours } = built.get(c.name)!;
    const input = rand([2, ...c.image], { seed: 11, low: -1, high: 1 });
    expectClose(ours.forward(input), predict(reference, input)[0]!, 1e-4, 'output');
  });

  it('A and dA at two layers equal tf.grad through the model (1e-4 relative)', () => {
    const { reference, ours } = built.get(c.name)!;
    const input = rand([1, ...c.image], { seed: 12, low: -1, high: 1 });
    const result = compareWithTfjs(reference, ours, input, { layers: [...c.layers], classes: [1], beforeSoftmax: c.softmax });
    for (const layer of c.layers) {
      expect(result.layers[layer]!.activation).toBeLessThan(1e-5);
      expect(result.layers[layer]!.gradient).toBeLessThan(1e-5);
    }
  });
});

/** Grad-CAM's raw map from tfjs's A and dA (NHWC or NCHW as the model is): sum_c mean_hw(dA_c) A_c. */
function gradCamFromTfjs(activation: Tensor, gradient: Tensor, channelsLast: boolean): Tensor {
  const a = asStored(activation, channelsLast);
  const g = asStored(gradient, channelsLast);
  const weights = mean(g, [2, 3], true);
  return sum(mul(a, weights), 1);
}

describe('Grad-CAM equals a Grad-CAM computed from TensorFlow.js A and dA', () => {
  it.each([
    ['functional, channels_last', 'functional, channels_last, skip connections', 'b2', [17, 19, 3]],
    ['channels_first', 'functional, channels_first', 'cf_conv2', [3, 12, 14]],
  ] as const)('%s', (_, name, layer, image) => {
    const { reference, ours } = built.get(name)!;
    const input = rand([1, ...image], { seed: 13, low: -1, high: 1 });
    const result = gradCam(ours, input, { layer, target: 2 });
    const theirs = activationAndGradient(reference, input, layer, classScore([2]));
    const expected = gradCamFromTfjs(theirs.activation, theirs.gradient, ours.layout.channelsLast);
    expectClose(result.layers[0]!.raw, expected, 1e-4, 'raw Grad-CAM map');
    // The map comes back at the input's image size, whatever the layout.
    const [h, w] = ours.layout.channelsLast ? [image[0], image[1]] : [image[1], image[2]];
    expect([...result.maps.shape]).toEqual([1, h, w]);
  });
});

describe('outputs that end in a softmax', () => {
  it.each([
    ['Sequential ending in Activation(softmax)', 'fc'],
    ['Teachable Machine shape (nested Sequentials and Model)', 'dense_Dense2'],
  ] as const)('%s: forwardOutputs gives the probability and the logits before it', (name, outputLayer) => {
    const { reference, ours } = built.get(name)!;
    const c = CASES.find((x) => x.name === name)!;
    const input = rand([2, ...c.image], { seed: 14, low: -1, high: 1 });
    const [out] = ours.forwardOutputs(input);
    expect(out!.activation).toBe('softmax');
    expect(out!.name).toBe(ours.outputNames[0]);
    expectClose(out!.value, predict(reference, input)[0]!, 1e-4, 'probability');
    expectClose(softmax(out!.logits!, 1), out!.value, 1e-5, 'softmax(logits)');
    const final = withoutFinalSoftmax(reference);
    try {
      expectClose(out!.logits!, predict(reference, input)[0]!, 1e-4, `logits (${outputLayer})`);
    } finally {
      final.restore();
    }
  });

  it('a linear output has no logits of its own', () => {
    const { ours } = built.get(CASES[0]!.name)!;
    const [out] = ours.forwardOutputs(rand([1, 17, 19, 3], { seed: 1 }));
    expect(out!.logits).toBeUndefined();
    expect(out!.activation).toBeUndefined();
  });
});

describe('layers by Keras name', () => {
  it('lists every layer, nested ones included, with its class and shape; hooks see [N, C, h, w]', () => {
    const { ours } = built.get(CASES[3]!.name)!;
    const layers = ours.layers();
    const byName = new Map(layers.map((l) => [l.name, l]));
    expect(byName.get('out_relu')).toEqual({ name: 'out_relu', className: 'ReLU', shape: [null, 16, 16, 16] });
    expect(byName.get('model1')?.className).toBe('Model');
    expect(byName.get('sequential_1')?.className).toBe('Sequential');
    expect(byName.get('dense_Dense2')).toEqual({ name: 'dense_Dense2', className: 'Dense', shape: [null, 3] });
    expect(ours.camLayer).toBe('out_relu');
    expect(ours.inputLayout).toBe('NHWC');
    let seen: number[] = [];
    const handle = ours.layer('expanded_conv_project_BN').registerForwardHook((_m, _i, output) => void (seen = [...output.shape]));
    ours.forward(rand([1, 32, 32, 3], { seed: 2 }));
    handle.remove();
    expect(seen).toEqual([1, 8, 16, 16]);
    expect(() => ours.layer('out_reluu')).toThrow(LayerNotFoundError);
    expect(ours.namedModules().map(([n]) => n)).toContain('expanded_conv_add');
  });

  it('chooses the last feature map larger than 1x1 as the CAM layer', () => {
    // The three maps that the global poolings read; whichever runs last.
    expect(['av', 'mx', 'mn']).toContain(built.get(CASES[0]!.name)!.ours.camLayer);
    expect(built.get(CASES[1]!.name)!.ours.camLayer).toBe('conv_c');
    expect(built.get(CASES[2]!.name)!.ours.camLayer).toBe('cf_conv2');
  });

  it('refuses an input in the wrong layout with a message that says NHWC', () => {
    const { ours } = built.get(CASES[3]!.name)!;
    expect(() => ours.forward(rand([1, 3, 32, 32], { seed: 1 }))).toThrow(/\[1, 3, 32, 32\].*\[\?, 32, 32, 3\].*NHWC/);
  });
});

describe('weights: float16 and quantized uint8 / uint16 in several shards', () => {
  it.each(['uint8', 'uint16', 'float16'] as const)('%s: equals TensorFlow.js loading the same shards', async (dtype) => {
    const { saved } = built.get(CASES[0]!.name)!;
    const { modelJson, shards } = quantize(saved, dtype, 1500);
    expect(shards.size).toBeGreaterThan(1);
    const ours = loadTfjsModel(modelJson, { weights: (path) => shards.get(path)! });
    const all = new Uint8Array([...shards.values()].flatMap((s) => [...s]));
    const theirs = await tf.loadLayersModel(
      tf.io.fromMemory({ modelTopology: modelJson.modelTopology as object, weightSpecs: modelJson.weightsManifest[0]!.weights, weightData: all.buffer }),
    );
    const input = rand([2, 17, 19, 3], { seed: 15, low: -1, high: 1 });
    expectClose(ours.forward(input), predict(theirs, input)[0]!, 1e-4, `${dtype} output`);
    // The concatenated bytes load the same model.
    expectClose(loadTfjsModel(modelJson, { weights: all }).forward(input), ours.forward(input), 0, 'concatenated');
    if (dtype !== 'float16') {
      // {dtype, min, max} describes the same quantization as {dtype, min, scale}.
      const levels = dtype === 'uint8' ? 255 : 65535;
      const withMax = structuredClone(modelJson);
      for (const w of withMax.weightsManifest[0]!.weights) {
        const q = w.quantization as { min: number; scale?: number; max?: number };
        q.max = q.min + q.scale! * levels;
        delete q.scale;
      }
      expectClose(loadTfjsModel(withMax, { weights: all }).forward(input), ours.forward(input), 1e-6, '{min, max}');
    }
  });
});

describe('layers TensorFlow.js cannot be the reference for', () => {
  /**
   * Input -> Conv2D -> <layer>, the layer added to tfjs's model.json (with
   * its weights appended to the manifest and bytes); the conv's output comes
   * from tfjs and the expected result from the layer's formula.
   */
  async function convThen(
    layer: Record<string, unknown>,
    options: { channelsFirst?: boolean; weights?: { name: string; values: number[] }[] } = {},
  ): Promise<{ conv: Tensor; ours: TfjsLayersModel; input: Tensor }> {
    const shape = options.channelsFirst ? [3, 6, 7] : [6, 7, 3];
    const inp = tf.input({ shape });
    const conv = tf.layers
      .conv2d({ filters: 4, kernelSize: 3, padding: 'same', name: 'conv', dataFormat: options.channelsFirst ? 'channelsFirst' : 'channelsLast' })
      .apply(inp) as tf.SymbolicTensor;
    const model = tf.model({ inputs: inp, outputs: conv });
    const saved = await saveModel(model);
    const topology = saved.modelJson.modelTopology as { config: { layers: unknown[]; output_layers: unknown[] } };
    topology.config.layers.push({ ...layer, inbound_nodes: [[['conv', 0, 0, {}]]] });
    topology.config.output_layers = [[layer.name, 0, 0]];
    const extra = options.weights ?? [];
    saved.modelJson.weightsManifest[0]!.weights.push(...extra.map((w) => ({ name: w.name, shape: [w.values.length], dtype: 'float32' as const })));
    const bytes = new Uint8Array([...saved.weights, ...new Uint8Array(Float32Array.from(extra.flatMap((w) => w.values)).buffer)]);
    const input = rand([2, ...shape], { seed: 16, low: -1, high: 1 });
    return { conv: predict(model, input)[0]!, ours: loadTfjsModel(saved.modelJson, { weights: bytes }) as TfjsLayersModel, input };
  }

  it("Keras's ReLU with threshold and negative_slope (tfjs reads only max_value)", async () => {
    const { conv, ours, input } = await convThen({ name: 'leaky', class_name: 'ReLU', config: { name: 'leaky', max_value: 0.8, threshold: 0.1, negative_slope: 0.3 } });
    const expected = new Tensor(conv.data.map((x) => (x >= 0.8 ? 0.8 : x >= 0.1 ? x : 0.3 * (x - 0.1))), conv.shape);
    expectClose(ours.forward(input), expected, 1e-6, 'ReLU');
  });

  it('SpatialDropout2D passes through at inference (tfjs has no such layer)', async () => {
    const { conv, ours, input } = await convThen({ name: 'sd', class_name: 'SpatialDropout2D', config: { name: 'sd', rate: 0.5 } });
    expectClose(ours.forward(input), conv, 1e-6, 'SpatialDropout2D');
  });

  it.each([
    ['the channel axis of a channels_first model', true, 4],
    ['the H axis of an NHWC tensor', false, 6],
  ] as const)('BatchNormalization(axis=1) over %s, by its formula (tfjs CPU mis-indexes [1, C, 1, 1] statistics)', async (_, channelsFirst, size) => {
    const values = (k: number, base: number) => Array.from({ length: size }, (_, i) => base + 0.1 * ((i * k) % 5));
    const [gamma, beta, mean_, variance] = [values(3, 0.8), values(2, -0.2), values(4, -0.1), values(1, 0.5)];
    const { conv, ours, input } = await convThen(
      { name: 'bn', class_name: 'BatchNormalization', config: { name: 'bn', axis: 1, epsilon: 0.01 } },
      {
        channelsFirst,
        weights: [
          { name: 'bn/gamma', values: gamma },
          { name: 'bn/beta', values: beta },
          { name: 'bn/moving_mean', values: mean_ },
          { name: 'bn/moving_variance', values: variance },
        ],
      },
    );
    const [, d1, d2, d3] = conv.shape as [number, number, number, number];
    const expected = conv.data.map((x, i) => {
      const k = Math.floor(i / (d2 * d3)) % d1;
      return ((x - mean_[k]!) / Math.sqrt(variance[k]! + 0.01)) * gamma[k]! + beta[k]!;
    });
    expectClose(ours.forward(input), new Tensor(expected, conv.shape), 1e-6, 'BatchNormalization');
  });
});

describe('coverage', () => {
  it('the test models use every layer class and activation the issue lists, in both data formats', () => {
    const classes = new Set<string>(['SpatialDropout2D' /* added to a tfjs model.json above: tfjs has no such layer */]);
    const activations = new Set<string>();
    const formats = new Set<string>();
    const walk = (value: unknown): void => {
      if (Array.isArray(value)) value.forEach(walk);
      else if (value && typeof value === 'object') {
        const o = value as Record<string, unknown>;
        if (typeof o.class_name === 'string') classes.add(o.class_name);
        const config = o.config as Record<string, unknown> | undefined;
        if (config && typeof config.activation === 'string') activations.add(config.activation);
        if (config && typeof config.data_format === 'string') formats.add(config.data_format);
        Object.values(o).forEach(walk);
      }
    };
    for (const { saved } of built.values()) walk(saved.modelJson.modelTopology);
    const listed = [
      'InputLayer', 'Conv2D', 'DepthwiseConv2D', 'SeparableConv2D', 'Conv2DTranspose', 'Dense', 'BatchNormalization', 'Activation',
      'ReLU', 'LeakyReLU', 'PReLU', 'Add', 'Multiply', 'Concatenate', 'Average', 'Maximum', 'MaxPooling2D', 'AveragePooling2D',
      'GlobalAveragePooling2D', 'GlobalMaxPooling2D', 'ZeroPadding2D', 'Cropping2D', 'UpSampling2D', 'Flatten', 'Reshape', 'Dropout',
      'SpatialDropout2D', 'Rescaling', 'Model', 'Sequential',
    ];
    expect(listed.filter((c) => !classes.has(c))).toEqual([]);
    const listedActivations = ['relu', 'relu6', 'sigmoid', 'tanh', 'softmax', 'swish', 'hard_sigmoid', 'elu', 'selu', 'softplus', 'linear'];
    expect(listedActivations.filter((a) => !activations.has(a))).toEqual([]);
    expect([...formats].sort()).toEqual(['channels_first', 'channels_last']);
  });
});
