import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadOnnx } from '../src/onnx/index.js';
import { grad } from '../src/tensor/autograd.js';
import { loadSafetensors } from '../src/tensor/safetensors.js';
import type { Tensor } from '../src/tensor/tensor.js';

/**
 * Issue 9's ops against PyTorch (test/data/onnx/ops9, written by
 * tools/crosscheck/gen_ops9.py with Debian's torch 1.13 / onnx 1.12):
 * small modules exported by torch.onnx at opsets 11, 13 and 17 (GELU,
 * LayerNorm, GroupNorm, Where, Expand, Split, Tile, gather/scatter, Range,
 * CumSum, reductions, TopK/ArgMax, Einsum attention, Resize bicubic /
 * trilinear / 1-D, DepthToSpace, NonMaxSuppression, Conv1d and Conv3d
 * networks, 3-D pools...) and graphs built with onnx.helper for the forms
 * torch never writes (Gelu 20, Mish 18, GroupNormalization 18 and 21,
 * Split's three forms, Resize's nearest modes and cubic variants, whose
 * references follow the ONNX spec in float64). Each case: output, and
 * d sum(R * output) / d input against PyTorch's autograd, at numpy's
 * allclose with rtol 1e-3, atol 1e-5.
 */
const dir = new URL('./data/onnx/ops9/', import.meta.url);
const index = JSON.parse(readFileSync(new URL('index.json', dir), 'utf8')) as Record<string, { files: Record<string, string>; ops: Record<string, string[]> }>;

/** Worst |got - want| / (atol + rtol |want|); <= 1 passes. */
function allclose(got: Tensor, want: Tensor, rtol: number, atol: number): number {
  expect([...got.shape]).toEqual([...want.shape]);
  let worst = 0;
  for (let i = 0; i < want.size; i++) worst = Math.max(worst, Math.abs(got.data[i]! - want.data[i]!) / (atol + rtol * Math.abs(want.data[i]!)));
  return worst;
}

describe('issue 9 ops against PyTorch (torch.onnx exports and onnx.helper graphs)', () => {
  for (const [id, entry] of Object.entries(index)) {
    it(`${id} (opsets ${Object.keys(entry.files).join(', ')}: ${[...new Set(Object.values(entry.ops).flat())].join(' ')})`, () => {
      const ref = loadSafetensors(readFileSync(new URL(`${id}.case.safetensors`, dir)));
      for (const [opset, file] of Object.entries(entry.files)) {
        const model = loadOnnx(readFileSync(new URL(file, dir)));
        const x = ref.input!.requireGrad();
        const y = model.forward(x);
        expect(allclose(y, ref.output!, 1e-3, 1e-5), `${id} opset ${opset} output`).toBeLessThanOrEqual(1);
        const [dx] = grad(y, [x], { gradOutput: ref.R! });
        let scale = 0;
        for (const v of ref.dinput!.data) scale = Math.max(scale, Math.abs(v));
        expect(allclose(dx!, ref.dinput!, 1e-3, Math.max(1e-5, 1e-5 * scale)), `${id} opset ${opset} d/dinput`).toBeLessThanOrEqual(1);
      }
    });
  }
});
