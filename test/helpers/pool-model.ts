// A small seeded CNN for the worker-pool tests: the test and every worker
// build it from the same seed, so they hold the same weights. Its forward
// kills the worker's process when the first input value is exactly -12345,
// so a test can make a worker die in the middle of a call.
import { manualSeed } from '../../src/tensor/random.js';
import { Sequential } from '../../src/layers/containers.js';
import { Conv2d } from '../../src/layers/conv.js';
import { ReLU } from '../../src/layers/activation.js';
import { AdaptiveAvgPool2d } from '../../src/layers/pooling.js';
import { Flatten, Linear } from '../../src/layers/linear.js';
import type { Tensor } from '../../src/tensor/tensor.js';

class DiesOnSignal extends Sequential {
  override forward(x: Tensor): Tensor {
    if (x.data[0] === -12345) process.exit(3);
    return super.forward(x);
  }
}

export function createModel(): Sequential {
  manualSeed(11);
  return new DiesOnSignal(
    new Conv2d(3, 8, 3, { padding: 1 }), new ReLU(),
    new Conv2d(8, 16, 3, { padding: 1 }), new ReLU(),
    new AdaptiveAvgPool2d(1), new Flatten(), new Linear(16, 5),
  );
}
