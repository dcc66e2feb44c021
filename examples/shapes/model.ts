/**
 * The small GAP+FC CNN that tinycam trains itself on the shape scenes.
 *
 * It has the fixtures' shapes_cnn layout (../shared/fixtures/models/
 * shapes_cnn.arch.json) with a quarter to a half of its channels, so that it
 * trains in minutes on one CPU core with tinycam's own engine:
 *
 *   features: conv3x3(3→8)  BN ReLU maxpool2   64→32
 *             conv3x3(8→16) BN ReLU maxpool2   32→16
 *             conv3x3(16→32) BN ReLU
 *             conv3x3(32→32) BN ReLU            ← features.13, the CAM layer
 *   avgpool:  global average pool
 *   fc:       linear 32 → 5
 *
 * Module names follow the fixture model (features.0 … features.13, avgpool,
 * fc), so its safetensors state dict reads like a PyTorch one, and Grad-CAM at
 * `features.13` equals CAM (global average pooling followed by one linear
 * layer: Zhou et al.'s CAM is Grad-CAM's special case).
 */
import { Module } from '../../src/layers/module.js';
import { Sequential } from '../../src/layers/containers.js';
import { Conv2d } from '../../src/layers/conv.js';
import { BatchNorm2d } from '../../src/layers/normalization.js';
import { ReLU } from '../../src/layers/activation.js';
import { AdaptiveAvgPool2d, MaxPool2d } from '../../src/layers/pooling.js';
import { Linear } from '../../src/layers/linear.js';
import { flatten } from '../../src/tensor/ops/shape.js';
import { Rng } from '../../src/tensor/random.js';
import type { Tensor } from '../../src/tensor/tensor.js';
import { CLASSES } from './generate.js';

/** The layer whose activations Grad-CAM and CAM explain: the last conv block's ReLU. */
export const CAM_LAYER = 'features.13';

/** Channel widths of the four conv layers. */
export const WIDTHS = [8, 16, 32, 32] as const;

export class ShapesNet extends Module {
  static override readonly typeName: string = 'ShapesNet';
  readonly features: Sequential;
  readonly avgpool: AdaptiveAvgPool2d;
  readonly fc: Linear;

  /** Weights are drawn with PyTorch's default init from a generator seeded with `seed`. */
  constructor(seed = 0) {
    super();
    const rng = new Rng(seed);
    const [c1, c2, c3, c4] = WIDTHS;
    const conv = (cin: number, cout: number) => new Conv2d(cin, cout, 3, { padding: 1, bias: false, rng });
    this.features = new Sequential(
      conv(3, c1), new BatchNorm2d(c1), new ReLU(), new MaxPool2d(2),
      conv(c1, c2), new BatchNorm2d(c2), new ReLU(), new MaxPool2d(2),
      conv(c2, c3), new BatchNorm2d(c3), new ReLU(),
      conv(c3, c4), new BatchNorm2d(c4), new ReLU(),
    );
    this.avgpool = new AdaptiveAvgPool2d(1);
    this.fc = new Linear(c4, CLASSES.length, { rng });
  }

  override forward(x: Tensor): Tensor {
    return this.fc.forward(flatten(this.avgpool.forward(this.features.forward(x)), 1));
  }
}
