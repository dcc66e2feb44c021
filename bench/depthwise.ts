/**
 * Depthwise 3x3 convolutions of MobileNetV2's shapes (batch 1, padding 1),
 * forward, on the pure-TS and the WebAssembly kernels: CPU ms of this
 * process (median of 7 after a warm-up) and GFLOP/s (2 x multiply-adds).
 *   npx tsx bench/depthwise.ts
 */
import { conv2d, noGrad, randn, setBackend } from '../src/index.js';

const cpu = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
// [channels, size, stride]
const SHAPES: [number, number, number][] = [[32, 112, 1], [144, 56, 1], [144, 56, 2], [384, 14, 1], [960, 7, 1]];

console.log('| shape | stride | js ms | wasm ms | js GFLOP/s | wasm GFLOP/s | speed-up |');
console.log('|---|---|---|---|---|---|---|');
const ms = new Map<string, number>();
for (const backend of ['js', 'wasm'] as const) {
  await setBackend(backend);
  for (const [c, h, s] of SHAPES) {
    const x = randn([1, c, h, h], { seed: 1 });
    const w = randn([c, 1, 3, 3], { seed: 2 });
    const run = (): unknown => noGrad(() => conv2d(x, w, null, { stride: s, padding: 1, groups: c }));
    run();
    const t: number[] = [];
    for (let r = 0; r < 7; r++) {
      const c0 = cpu();
      run();
      t.push(cpu() - c0);
    }
    ms.set(`${backend} ${c} ${h} ${s}`, [...t].sort((a, b) => a - b)[3]!);
  }
}
for (const [c, h, s] of SHAPES) {
  const out = Math.floor((h + 2 - 3) / s) + 1;
  const flop = 2 * c * out * out * 9;
  const js = ms.get(`js ${c} ${h} ${s}`)!;
  const wasm = ms.get(`wasm ${c} ${h} ${s}`)!;
  console.log(`| [1,${c},${h},${h}] | ${s} | ${js.toFixed(2)} | ${wasm.toFixed(2)} | ${(flop / js / 1e6).toFixed(2)} | ${(flop / wasm / 1e6).toFixed(2)} | ${(js / wasm).toFixed(1)}x |`);
}
