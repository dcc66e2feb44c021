import { describe, expect, it } from 'vitest';
import {
  AdaptiveAvgPool2d, Conv2d, Flatten, Linear, ReLU, Sequential, ShapeError, ablationCam, randn, scoreCam, type Tensor,
} from '../src/index.js';

/** A network that, like an ONNX graph exported with batch 1, refuses larger batches. */
class BatchOfOne extends Sequential {
  override maxBatchSize(): number {
    return 1;
  }
  override forward(x: Tensor): Tensor {
    if (x.shape[0]! > 1) throw new ShapeError(`batch ${x.shape[0]} > 1`);
    return super.forward(x);
  }
}

const layers = () => [new Conv2d(3, 6, 3, { padding: 1, seed: 1 }), new ReLU(), new AdaptiveAvgPool2d(1), new Flatten(), new Linear(6, 3, { seed: 2 })];

describe('methods that batch extra inputs respect Module.maxBatchSize()', () => {
  const limited = new BatchOfOne(...layers());
  const free = new Sequential(...layers());
  const x = randn([1, 3, 8, 8], { seed: 3 });

  it('scoreCam runs one masked input at a time and gives the same map', () => {
    const a = scoreCam(limited, x, { layer: '1', target: 2 });
    const b = scoreCam(free, x, { layer: '1', target: 2, batchSize: 16 });
    expect(Array.from(a.maps.data)).toEqual(Array.from(b.maps.data));
    expect(a.maps.data.some((v) => v > 0)).toBe(true);
  });

  it('ablationCam too', () => {
    const a = ablationCam(limited, x, { layer: '1', target: 0 });
    const b = ablationCam(free, x, { layer: '1', target: 0 });
    expect(Array.from(a.maps.data)).toEqual(Array.from(b.maps.data));
  });
});

describe('an ONNX graph declares its batch limit', () => {
  it('the model zoo SqueezeNet (declared [1,3,224,224]) reports 1; the fixtures (symbolic batch) report none', async () => {
    const { loadOnnxFile } = await import('../src/node/index.js');
    const { referencePath } = await import('./helpers/shared.js');
    expect(loadOnnxFile(referencePath('onnx-model-zoo-light/light_squeezenet.onnx')).maxBatchSize()).toBe(1);
    expect(loadOnnxFile(referencePath('fixtures/models/shapes_cnn.onnx')).maxBatchSize()).toBeUndefined();
  });
});
