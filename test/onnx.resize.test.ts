import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { OnnxUnsupportedError, loadOnnx } from '../src/onnx/index.js';
import { grad, noGrad } from '../src/tensor/autograd.js';
import { mul } from '../src/tensor/ops/elementwise.js';
import { sum } from '../src/tensor/ops/reduce.js';
import { loadSafetensors } from '../src/tensor/safetensors.js';
import { Tensor } from '../src/tensor/tensor.js';
import { singleOp } from './onnx.builder.js';

/**
 * torch.onnx exports of F.interpolate (Resize at opset 13, Upsample at 9)
 * against PyTorch's outputs and input gradients
 * (test/data/onnx/interpolate.case.safetensors: input [1, 2, 3, 4]; per case
 * output and dinput = d sum(R * output) / d input, R = linspace(-1, 1) in the
 * output's shape).
 */
const dir = new URL('./data/onnx/', import.meta.url);
const ref = loadSafetensors(readFileSync(new URL('interpolate.case.safetensors', dir)));

function maxRelErr(ours: Tensor, expected: Tensor): number {
  expect([...ours.shape]).toEqual([...expected.shape]);
  let worst = 0;
  let scale = 0;
  for (let i = 0; i < expected.size; i++) scale = Math.max(scale, Math.abs(expected.data[i]!));
  for (let i = 0; i < expected.size; i++) worst = Math.max(worst, Math.abs(ours.data[i]! - expected.data[i]!) / scale);
  return worst;
}

function linspace(n: number, shape: readonly number[]): Tensor {
  return new Tensor(Float32Array.from({ length: n }, (_, i) => (n === 1 ? -1 : -1 + (2 * i) / (n - 1))), shape);
}

const cases: [string, number][] = [
  ['bilinear_size', 13], ['bilinear_scale2', 13], ['bilinear_ac_scale2', 13],
  ['nearest_scale2', 13], ['nearest_size', 13], ['nearest_scale2', 9], ['nearest_size', 9],
];

describe('torch.onnx F.interpolate exports', () => {
  for (const [name, opset] of cases) {
    it(`${name} at opset ${opset}: output and input gradient match PyTorch`, () => {
      const model = loadOnnx(readFileSync(new URL(`interpolate_${name}_op${opset}.onnx`, dir)));
      const expected = ref[`${name}.output`]!;
      expect(maxRelErr(noGrad(() => model.forward(ref.input!)), expected)).toBeLessThan(1e-6);
      const x = new Tensor(ref.input!.data, ref.input!.shape, true);
      const [dx] = grad(sum(mul(model.forward(x), linspace(expected.size, expected.shape))), [x]);
      expect(maxRelErr(dx!, ref[`${name}.dinput`]!)).toBeLessThan(1e-5);
    });
  }

  it('refuses the forms it does not compute at load time', () => {
    const forms: [string, number, Record<string, { s: string }>][] = [
      ['Resize', 13, { mode: { s: 'area' } }],
      ['Resize', 13, { mode: { s: 'linear' }, coordinate_transformation_mode: { s: 'tf_crop_and_resize' } }],
      ['Resize', 13, { mode: { s: 'nearest' }, nearest_mode: { s: 'round_half_away' } }],
      ['Resize', 18, { mode: { s: 'linear' }, keep_aspect_ratio_policy: { s: 'not_larger' } }],
      ['Upsample', 9, { mode: { s: 'cubic' } }],
    ];
    for (const [op, opset, attrs] of forms) {
      expect(() => loadOnnx(singleOp(op, opset, [{ name: 'x' }, { name: 's' }], attrs))).toThrow(OnnxUnsupportedError);
    }
  });
});
