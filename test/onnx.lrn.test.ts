import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadOnnx } from '../src/onnx/index.js';
import { grad, noGrad } from '../src/tensor/autograd.js';
import { mul } from '../src/tensor/ops/elementwise.js';
import { sum } from '../src/tensor/ops/reduce.js';
import { loadSafetensors } from '../src/tensor/safetensors.js';
import { Tensor } from '../src/tensor/tensor.js';

/**
 * torch.onnx (1.13) exports nn.LocalResponseNorm(4, alpha=2e-2, beta=0.6,
 * k=1) not as an LRN node but as a decomposition: opset 9 pads and runs a
 * 5-D AveragePool with kernel [4, 1, 1] on [N, 1, C + 3, H, W]; opsets 11+
 * add Equal + If on the input's rank. Expected values are PyTorch's
 * (test/data/onnx/lrn_even.case.safetensors: input [2, 7, 5, 6], output, a
 * weighting R and dinput = d sum(R * output) / d input).
 */
const dir = new URL('./data/onnx/', import.meta.url);
const ref = loadSafetensors(readFileSync(new URL('lrn_even.case.safetensors', dir)));

function maxRelErr(ours: Tensor, expected: Tensor): number {
  expect([...ours.shape]).toEqual([...expected.shape]);
  let worst = 0;
  let scale = 0;
  for (let i = 0; i < expected.size; i++) scale = Math.max(scale, Math.abs(expected.data[i]!));
  for (let i = 0; i < expected.size; i++) worst = Math.max(worst, Math.abs(ours.data[i]! - expected.data[i]!) / scale);
  return worst;
}

describe('torch.onnx LocalResponseNorm exports', () => {
  for (const opset of [9, 11, 13]) {
    it(`opset ${opset}: output and input gradient match PyTorch`, () => {
      const model = loadOnnx(readFileSync(new URL(`lrn_even_op${opset}.onnx`, dir)));
      const y = noGrad(() => model.forward(ref.input!));
      expect(maxRelErr(y, ref.output!)).toBeLessThan(1e-5);
      const x = new Tensor(ref.input!.data, ref.input!.shape, true);
      const [dx] = grad(sum(mul(model.forward(x), ref.R!)), [x]);
      expect(maxRelErr(dx!, ref.dinput!)).toBeLessThan(1e-4);
    });
  }
});
