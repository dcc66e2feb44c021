/**
 * Winograd F(2x2, 3x3), F(4x4, 3x3) (WebAssembly only) or im2col + GEMM?
 * Times them for the 3x3 stride-1 convolutions of ResNet-18 (and a few more)
 * on both backends, forward and input gradient, in CPU time of this process
 * (the machine is shared).
 *   npx tsx bench/conv-choice.ts [rounds]
 * The thresholds in src/tensor/kernels/winograd.ts preferWinograd and
 * winogradTileSize come from here.
 */
import { conv2d, grad, randn, setBackend, sum, mul, noGrad } from '../src/index.js';
import { forceConvAlgorithm } from '../src/tensor/kernels/winograd.js';

const rounds = Number(process.argv[2] ?? 3);
const cpu = (): number => process.cpuUsage().user / 1000;
const median = (v: number[]): number => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;

const SHAPES: [number, number, number, number][] = [
  // [batch, channels in = out, size, pad]
  [1, 64, 56, 1], [1, 128, 28, 1], [1, 256, 14, 1], [1, 512, 7, 1], [16, 512, 7, 1], [1, 16, 8, 1], [1, 32, 4, 1],
];

console.log('| backend | shape | im2col fwd ms | F(2x2) fwd ms | F(4x4) fwd ms | im2col dx ms | F(2x2) dx ms | F(4x4) dx ms |');
console.log('|---|---|---|---|---|---|---|---|');
for (const backend of ['wasm', 'js'] as const) {
  await setBackend(backend);
  for (const [n, c, h, pad] of SHAPES) {
    if (backend === 'js' && n > 1) continue;
    const x = randn([n, c, h, h], { seed: 1 }).requireGrad();
    const w = randn([c, c, 3, 3], { seed: 2 });
    const g = randn([n, c, h, h], { seed: 3 });
    const times: Record<string, number[]> = { i: [], w: [], f: [], di: [], dw: [], df: [] };
    const algorithms = backend === 'wasm' ? ([['i', 'im2col'], ['w', 'winograd'], ['f', 'winograd4']] as const) : ([['i', 'im2col'], ['w', 'winograd']] as const);
    for (let r = 0; r < rounds; r++) {
      for (const [key, algo] of algorithms) {
        forceConvAlgorithm(algo);
        let t = cpu();
        noGrad(() => conv2d(x, w, null, { padding: pad }));
        times[key]!.push(cpu() - t);
        const y = conv2d(x, w, null, { padding: pad });
        t = cpu();
        grad(sum(mul(y, g)), [x]);
        times[`d${key}`]!.push(cpu() - t);
      }
    }
    forceConvAlgorithm('auto');
    const f = (k: string): string => (times[k]!.length ? median(times[k]!).toFixed(1) : '');
    console.log(`| ${backend} | [${n},${c},${h},${h}] x [${c},${c},3,3] p${pad} | ${f('i')} | ${f('w')} | ${f('f')} | ${f('di')} | ${f('dw')} | ${f('df')} |`);
  }
}
