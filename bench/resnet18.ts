import { add } from '../src/tensor/ops/elementwise.js';
import { relu } from '../src/tensor/ops/activations.js';
import { batchNorm } from '../src/tensor/ops/norm.js';
import { globalAvgPool2d, maxPool2d } from '../src/tensor/ops/pool.js';
import { conv2d, linear } from '../src/tensor/index.js';
import { Rng } from '../src/tensor/random.js';
import { Tensor } from '../src/tensor/tensor.js';
import { flatten } from '../src/tensor/ops/shape.js';

/**
 * A ResNet-18-shaped network (torchvision's resnet18: 7x7 stem, four stages
 * of two BasicBlocks, 64-128-256-512 channels, global average pool, fc 1000)
 * built directly from the tensor ops, with random weights. Eval-mode batch
 * norm. The conv and linear kernels are parameters so the same network can be
 * run on ours and on the naive ones.
 */
export interface Kernels {
  conv2d: (x: Tensor, w: Tensor, b: Tensor | null, o: { stride?: number; padding?: number }) => Tensor;
  linear: (x: Tensor, w: Tensor, b: Tensor | null) => Tensor;
}

export const OUR_KERNELS: Kernels = {
  conv2d: (x, w, b, o) => conv2d(x, w, b, o),
  linear: (x, w, b) => linear(x, w, b),
};

interface Bn {
  mean: Tensor;
  variance: Tensor;
  weight: Tensor;
  bias: Tensor;
}

interface Block {
  conv1: Tensor;
  bn1: Bn;
  conv2: Tensor;
  bn2: Bn;
  downsample: { conv: Tensor; bn: Bn } | null;
  stride: number;
}

export interface ResNet18 {
  conv1: Tensor;
  bn1: Bn;
  blocks: Block[];
  fcWeight: Tensor;
  fcBias: Tensor;
}

function heNormal(shape: number[], rng: Rng): Tensor {
  const fanIn = shape.slice(1).reduce((a, b) => a * b, 1);
  const std = Math.sqrt(2 / fanIn);
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < data.length; i++) data[i] = std * rng.normal();
  return new Tensor(data, shape);
}

function bn(channels: number, rng: Rng): Bn {
  const make = (f: () => number): Tensor => new Tensor(Float32Array.from({ length: channels }, f), [channels]);
  return {
    mean: make(() => 0.1 * rng.normal()),
    variance: make(() => 0.5 + rng.uniform()),
    weight: make(() => 0.5 + 0.5 * rng.uniform()),
    bias: make(() => 0.1 * rng.normal()),
  };
}

export function makeResNet18(seed = 0): ResNet18 {
  const rng = new Rng(seed);
  const blocks: Block[] = [];
  let inC = 64;
  for (const [outC, firstStride] of [[64, 1], [128, 2], [256, 2], [512, 2]] as const) {
    for (let b = 0; b < 2; b++) {
      const stride = b === 0 ? firstStride : 1;
      blocks.push({
        conv1: heNormal([outC, inC, 3, 3], rng),
        bn1: bn(outC, rng),
        conv2: heNormal([outC, outC, 3, 3], rng),
        bn2: bn(outC, rng),
        downsample: stride !== 1 || inC !== outC ? { conv: heNormal([outC, inC, 1, 1], rng), bn: bn(outC, rng) } : null,
        stride,
      });
      inC = outC;
    }
  }
  return {
    conv1: heNormal([64, 3, 7, 7], rng),
    bn1: bn(64, rng),
    blocks,
    fcWeight: heNormal([1000, 512], rng),
    fcBias: new Tensor(new Float32Array(1000), [1000]),
  };
}

function batchNormEval(x: Tensor, p: Bn): Tensor {
  return batchNorm(x, p.mean, p.variance, p.weight, p.bias, { training: false });
}

export function forwardResNet18(net: ResNet18, x: Tensor, k: Kernels): Tensor {
  let h = relu(batchNormEval(k.conv2d(x, net.conv1, null, { stride: 2, padding: 3 }), net.bn1));
  h = maxPool2d(h, { kernelSize: 3, stride: 2, padding: 1 });
  for (const b of net.blocks) {
    const identity = b.downsample
      ? batchNormEval(k.conv2d(h, b.downsample.conv, null, { stride: b.stride }), b.downsample.bn)
      : h;
    let y = relu(batchNormEval(k.conv2d(h, b.conv1, null, { stride: b.stride, padding: 1 }), b.bn1));
    y = batchNormEval(k.conv2d(y, b.conv2, null, { padding: 1 }), b.bn2);
    h = relu(add(y, identity));
  }
  return k.linear(flatten(globalAvgPool2d(h), 1), net.fcWeight, net.fcBias);
}

/** Multiply-adds x 2 of the convolutions and the fc layer at a 224x224 input. */
export function resnet18Flops(): number {
  let flops = 0;
  const conv = (cin: number, cout: number, k: number, outHW: number): void => {
    flops += 2 * cin * cout * k * k * outHW * outHW;
  };
  conv(3, 64, 7, 112);
  let inC = 64;
  let hw = 56;
  for (const [outC, firstStride] of [[64, 1], [128, 2], [256, 2], [512, 2]] as const) {
    for (let b = 0; b < 2; b++) {
      const stride = b === 0 ? firstStride : 1;
      if (stride === 2) hw /= 2;
      conv(inC, outC, 3, hw);
      conv(outC, outC, 3, hw);
      if (stride !== 1 || inC !== outC) conv(inC, outC, 1, hw);
      inC = outC;
    }
  }
  return flops + 2 * 512 * 1000;
}
