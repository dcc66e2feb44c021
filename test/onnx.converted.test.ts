import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { loadOnnx } from '../src/onnx/index.js';
import type { Tensor } from '../src/tensor/tensor.js';
import { CONVERTED as ROOT, readTensorPb } from './helpers/onnx-tensor.js';
import { describeReference } from './helpers/shared.js';

/**
 * The ONNX project's tests converted from PyTorch modules: each folder's
 * model must turn input_N.pb into output_N.pb within rtol 1e-3, atol 1e-7
 * (|ours - ref| <= atol + rtol |ref| per element, as onnx's backend tests).
 */
const folders = existsSync(ROOT) ? readdirSync(ROOT).filter((d) => d.startsWith('test_')).sort() : [];

/** Largest excess of |ours - ref| over atol + rtol |ref|; equal values (also inf, NaN) count as 0. */
function worstExcess(ours: Tensor, ref: Tensor, rtol: number, atol: number): number {
  let worst = -Infinity;
  for (let i = 0; i < ref.size; i++) {
    const a = ours.data[i]!;
    const b = ref.data[i]!;
    const same = a === b || (Number.isNaN(a) && Number.isNaN(b));
    const excess = same ? -atol : Math.abs(a - b) - (atol + rtol * Math.abs(b));
    worst = Math.max(worst, Number.isNaN(excess) ? Infinity : excess);
  }
  return worst;
}

describeReference('onnx-pytorch-converted', 'onnx-pytorch-converted', () => {
  it('holds the expected test folders', () => {
    expect(folders.length).toBeGreaterThanOrEqual(60);
  });

  for (const folder of folders) {
    it(folder, () => {
      const dir = join(ROOT, folder);
      const model = loadOnnx(new Uint8Array(readFileSync(join(dir, 'model.onnx'))));
      const data = join(dir, 'test_data_set_0');
      const files = readdirSync(data);
      const count = (prefix: string): number => files.filter((f) => f.startsWith(prefix)).length;
      const feeds: Record<string, Tensor> = {};
      for (let i = 0; i < count('input_'); i++) feeds[model.inputNames[i]!] = readTensorPb(join(data, `input_${i}.pb`));
      const outputs = model.run(feeds);
      expect(count('output_')).toBeGreaterThan(0);
      for (let i = 0; i < count('output_'); i++) {
        const ref = readTensorPb(join(data, `output_${i}.pb`));
        const ours = outputs[model.outputNames[i]!]!;
        expect([...ours.shape], `${folder} output ${i} shape`).toEqual([...ref.shape]);
        const excess = worstExcess(ours, ref, 1e-3, 1e-7);
        expect(excess, `${folder} output ${i}: exceeds rtol 1e-3 + atol 1e-7 by ${excess}`).toBeLessThanOrEqual(0);
      }
    });
  }
});
