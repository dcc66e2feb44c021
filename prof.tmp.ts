import { readFileSync } from 'node:fs';
import { loadOnnx, NodeModule } from './src/onnx/index.js';
import { noGrad } from './src/tensor/autograd.js';
import { Tensor } from './src/tensor/tensor.js';
const name = process.argv[2] ?? 'fcn_mini';
const m = loadOnnx(readFileSync(`../shared/fixtures2/models/${name}.opset17.onnx`));
const s = name === 'fcn_mini' ? 48 : 32;
const x = new Tensor(new Float32Array(3 * s * s).map(() => Math.random()), [1, 3, s, s]);
const times = new Map<string, number>(); const counts = new Map<string, number>();
let t0 = 0;
for (const [, mod] of m.namedModules()) {
  if (!(mod instanceof NodeModule)) continue;
  mod.registerForwardPreHook(() => { t0 = performance.now(); });
  mod.registerForwardHook((mm) => { const k = (mm as NodeModule).node.opType; times.set(k, (times.get(k) ?? 0) + performance.now() - t0); counts.set(k, (counts.get(k) ?? 0) + 1); });
}
noGrad(() => m.forward(x));
times.clear(); counts.clear();
const T = performance.now();
noGrad(() => m.forward(x));
console.log('total', (performance.now() - T).toFixed(0));
console.log([...times].sort((a, b) => b[1] - a[1]).slice(0, 8).map(([k, v]) => `${k} ${v.toFixed(1)} (${counts.get(k)})`).join(', '));
