/**
 * Grad-CAM time over forward time for a ResNet-18-shaped network at
 * 1x3x224x224 (torchvision's resnet18 layout, random weights, eval mode),
 * built with the layers API. The explanation must cost at most 1.2 forward
 * passes: the backward pass is pruned to the path from the logits down to
 * 'layer4' and computes no weight gradients (pytorch-grad-cam's full
 * backward makes this ratio 3.9 in PyTorch: 103 ms against 27 ms).
 *
 * Run: npx tsx bench/gradcam-ratio.ts [repeats]   (exit code 1 if the ratio is above 1.2)
 */
import { gradCam } from '../src/cam/index.js';
import {
  AdaptiveAvgPool2d,
  BatchNorm2d,
  Conv2d,
  Flatten,
  Linear,
  MaxPool2d,
  ReLU,
  Sequential,
} from '../src/layers/index.js';
import { Module } from '../src/layers/module.js';
import { enableGrad, grad, noGrad } from '../src/tensor/autograd.js';
import { add } from '../src/tensor/ops/elementwise.js';
import { Rng, randn } from '../src/tensor/random.js';
import { Tensor } from '../src/tensor/tensor.js';

class BasicBlock extends Module {
  conv1: Conv2d;
  bn1: BatchNorm2d;
  relu = new ReLU();
  conv2: Conv2d;
  bn2: BatchNorm2d;
  downsample: Sequential | null;
  constructor(inChannels: number, channels: number, stride: number, rng: Rng) {
    super();
    this.conv1 = new Conv2d(inChannels, channels, 3, { stride, padding: 1, bias: false, rng });
    this.bn1 = new BatchNorm2d(channels);
    this.conv2 = new Conv2d(channels, channels, 3, { padding: 1, bias: false, rng });
    this.bn2 = new BatchNorm2d(channels);
    this.downsample =
      stride !== 1 || inChannels !== channels
        ? new Sequential(new Conv2d(inChannels, channels, 1, { stride, bias: false, rng }), new BatchNorm2d(channels))
        : null;
  }
  override forward(x: Tensor): Tensor {
    const out = this.bn2.forward(this.conv2.forward(this.relu.forward(this.bn1.forward(this.conv1.forward(x)))));
    return this.relu.forward(add(out, this.downsample ? this.downsample.forward(x) : x));
  }
}

class ResNet18 extends Module {
  conv1: Conv2d;
  bn1 = new BatchNorm2d(64);
  relu = new ReLU();
  maxpool = new MaxPool2d(3, { stride: 2, padding: 1 });
  layer1: Sequential;
  layer2: Sequential;
  layer3: Sequential;
  layer4: Sequential;
  avgpool = new AdaptiveAvgPool2d(1);
  flatten = new Flatten();
  fc: Linear;
  constructor(rng: Rng) {
    super();
    this.conv1 = new Conv2d(3, 64, 7, { stride: 2, padding: 3, bias: false, rng });
    this.layer1 = new Sequential(new BasicBlock(64, 64, 1, rng), new BasicBlock(64, 64, 1, rng));
    this.layer2 = new Sequential(new BasicBlock(64, 128, 2, rng), new BasicBlock(128, 128, 1, rng));
    this.layer3 = new Sequential(new BasicBlock(128, 256, 2, rng), new BasicBlock(256, 256, 1, rng));
    this.layer4 = new Sequential(new BasicBlock(256, 512, 2, rng), new BasicBlock(512, 512, 1, rng));
    this.fc = new Linear(512, 1000, { rng });
  }
  override forward(x: Tensor): Tensor {
    const stem = this.maxpool.forward(this.relu.forward(this.bn1.forward(this.conv1.forward(x))));
    const features = this.layer4.forward(this.layer3.forward(this.layer2.forward(this.layer1.forward(stem))));
    return this.fc.forward(this.flatten.forward(this.avgpool.forward(features)));
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const repeats = Number(process.argv[2] ?? 7);
const model = new ResNet18(new Rng(0)).eval();
const input = randn([1, 3, 224, 224], { seed: 1 });

const forward = (): void => void noGrad(() => model.forward(input));
const explain = (): void => void gradCam(model, input, { layer: 'layer4' });

// Warm up both paths (JIT, GEMM buffers), then alternate so drift on a shared machine hits both alike.
forward();
explain();
const forwardTimes: number[] = [];
const gradCamTimes: number[] = [];
for (let i = 0; i < repeats; i++) {
  let t = performance.now();
  forward();
  forwardTimes.push(performance.now() - t);
  t = performance.now();
  explain();
  gradCamTimes.push(performance.now() - t);
}
// Where the time goes: the forward pass that records the graph, then the pruned backward alone.
const recordTimes: number[] = [];
const backwardTimes: number[] = [];
for (let i = 0; i < 3; i++) {
  let activation: Tensor | null = null;
  const handle = model.layer4.registerForwardHook((_m, _inputs, output) => void (activation = output));
  let t = performance.now();
  const logits = enableGrad(() => model.forward(input));
  recordTimes.push(performance.now() - t);
  handle.remove();
  const seed = new Float32Array(1000);
  seed[0] = 1;
  t = performance.now();
  grad(logits, [activation!], { gradOutput: new Tensor(seed, logits.shape) });
  backwardTimes.push(performance.now() - t);
}

const ratio = median(gradCamTimes) / median(forwardTimes);
// Each pair ran back to back, so the median of per-pair ratios is less exposed to load from other processes.
const pairRatio = median(gradCamTimes.map((g, i) => g / forwardTimes[i]!));
console.log(`ResNet-18 shape, 1x3x224x224, ${repeats} runs each (median)`);
console.log(`forward (no grad): ${median(forwardTimes).toFixed(1)} ms   [${forwardTimes.map((t) => t.toFixed(0)).join(', ')}]`);
console.log(`gradCam layer4:    ${median(gradCamTimes).toFixed(1)} ms   [${gradCamTimes.map((t) => t.toFixed(0)).join(', ')}]`);
console.log(`forward recording the graph: ${median(recordTimes).toFixed(1)} ms; pruned backward logits -> layer4: ${median(backwardTimes).toFixed(2)} ms`);
console.log(`ratio gradCam / forward = ${ratio.toFixed(3)} (medians), ${pairRatio.toFixed(3)} (median of pairs); must be <= 1.2`);
if (Math.min(ratio, pairRatio) > 1.2) process.exitCode = 1;
