// Run every exported ONNX file through tinycam's loadOnnx and compare output and
// d sum(R*output)/d input with PyTorch (data from gen_onnx.py).
// Usage (from /work/main): npx tsx tools/crosscheck/compare_onnx.ts DATA [filter]   (ONNX_DIR=onnx9 for gen_ops9.py's cases)
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadOnnx } from '../../src/onnx/index.js';
import { loadSafetensors } from '../../src/tensor/safetensors.js';
import { grad } from '../../src/tensor/autograd.js';
import type { Tensor } from '../../src/tensor/tensor.js';
import { closeness, diff, fmt } from './common.js';

const RTOL = 1e-3, ATOL = 1e-5;
const [data, filter = ''] = process.argv.slice(2);
const dir = join(data!, process.env.ONNX_DIR ?? 'onnx');
const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as Record<string, {
  id: string; files: Record<string, string>; errors: Record<string, string>; ops: Record<string, string[]>; shape: number[]; out_shape: number[];
}>;
const results: Record<string, unknown> = {};
let pass = 0, fail = 0, ill = 0;
for (const e of Object.values(index)) {
  if (filter && !e.id.includes(filter)) continue;
  for (const [opset, msg] of Object.entries(e.errors)) console.log(`-- ${e.id} op${opset}: torch export failed: ${msg.split('\n')[0]}`);
  if (!Object.keys(e.files).length) continue;
  const ref = loadSafetensors(new Uint8Array(readFileSync(join(dir, `${e.id}.case.safetensors`))));
  for (const [opset, file] of Object.entries(e.files)) {
    const key = `${e.id} op${opset}`;
    const t0 = Date.now();
    try {
      const model = loadOnnx(new Uint8Array(readFileSync(join(dir, file))));
      const x = ref.input!.requireGrad();
      const y = model.forward(x) as Tensor;
      const dOut = diff(y, ref.output!);
      const worst = closeness(y.data, ref.output!.data, RTOL, ATOL);
      let dIn = null, worstG = 0;
      if (y.requiresGrad) {
        const [dx] = grad(y, [x], { gradOutput: ref.R! });
        dIn = diff(dx!, ref.dinput!);
        worstG = closeness(dx!.data, ref.dinput!.data, RTOL, Math.max(ATOL, 1e-5 * dIn.refMax));
      } else {
        worstG = Infinity;
      }
      const shapeNote = y.shape.join('x') === e.out_shape.join('x') ? '' : ` SHAPE got [${y.shape}] want [${e.out_shape}]`;
      let ok = worst <= 1 && worstG <= 1 && !shapeNote;
      // Against PyTorch's float64 run: is tinycam as close to exact as PyTorch's float32 is?
      let note64 = '';
      if (!ok && !shapeNote && ref.output64 && ref.dinput64 && y.requiresGrad) {
        const [dx] = grad(y, [x], { gradOutput: ref.R! });
        const tcOut = closeness(y.data, ref.output64.data, RTOL, ATOL), thOut = closeness(ref.output!.data, ref.output64.data, RTOL, ATOL);
        const tcG = diff(dx!, ref.dinput64), thG = diff(ref.dinput!, ref.dinput64);
        note64 = `\n     vs float64: out ratio tinycam ${tcOut.toPrecision(3)} torch32 ${thOut.toPrecision(3)}; d/dx max abs err tinycam ${tcG.maxAbs.toExponential(2)} torch32 ${thG.maxAbs.toExponential(2)}`;
        if (tcOut <= Math.max(1, 2 * thOut) && tcG.maxAbs <= 3 * thG.maxAbs) { ok = true; note64 += ' => ILL-CONDITIONED (PyTorch float32 is as far from exact)'; ill++; }
      }
      ok ? pass++ : fail++;
      const secs = ((Date.now() - t0) / 1000).toFixed(1);
      console.log(`${ok ? 'ok  ' : 'FAIL'} ${key} [${e.ops[opset]!.join(',')}] in [${e.shape}] out [${e.out_shape}] ${secs}s${shapeNote}\n     out: ${fmt(dOut)} allclose-ratio ${worst.toPrecision(3)}\n     d/dx: ${dIn ? fmt(dIn) : 'output does not require grad'} ratio ${worstG.toPrecision(3)}${note64}`);
      results[key] = { ok, out: dOut, dinput: dIn, worst, worstG, shapeNote };
    } catch (err) {
      fail++;
      console.log(`ERR  ${key} [${e.ops[opset]!.join(',')}]: ${(err as Error).name}: ${(err as Error).message.slice(0, 400)}`);
      results[key] = { ok: false, error: `${(err as Error).name}: ${(err as Error).message}` };
    }
  }
}
console.log(`\n${pass} passed (${ill} of them only within float32 noise), ${fail} failed`);
writeFileSync(join(data!, `onnx.results${filter ? '.' + filter : ''}.json`), JSON.stringify(results, null, 1));
