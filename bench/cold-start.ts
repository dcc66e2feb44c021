/**
 * Cold start: CPU time from process start to the first Grad-CAM map of the
 * shapes model (examples/shapes, its committed weights, one generated
 * scene), beside a bare `node -e 0`-like process, in the same run. The app
 * is bundled by esbuild from the package's sources the way a consumer's
 * bundler would (ESM, no minification), then run with plain node, so tsx's
 * own start-up is not counted.
 *   npx tsx bench/cold-start.ts [runs=7]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

// TINYCAM_ROOT: measure another checkout's sources (e.g. main) with the same app.
const ROOT = process.env.TINYCAM_ROOT ?? resolve(dirname(fileURLToPath(import.meta.url)), '..');
const runs = Number(process.argv[2] ?? 7);
const dir = mkdtempSync(join(tmpdir(), 'tinycam-cold-'));
const report = 'const u = process.cpuUsage(); console.log(JSON.stringify({ cpu: (u.user + u.system) / 1000 }));';

const app = `
import { readFileSync } from 'node:fs';
import { gradCam, loadSafetensors } from '${ROOT}/src/index.ts';
import { ShapesNet, CAM_LAYER } from '${ROOT}/examples/shapes/model.ts';
import { generateScene } from '${ROOT}/examples/shapes/generate.ts';
import { scenesToTensor } from '${ROOT}/examples/shapes/data.ts';
const model = new ShapesNet();
model.loadStateDict(loadSafetensors(new Uint8Array(readFileSync('${ROOT}/examples/shapes/shapes-cnn.safetensors'))));
model.eval();
const { maps } = gradCam(model, scenesToTensor([generateScene(2000000000)]), { layer: CAM_LAYER });
if (!(maps.data.length > 0)) throw new Error('no map');
${report}`;
await esbuild.build({ stdin: { contents: app, resolveDir: ROOT, loader: 'ts' }, bundle: true, platform: 'node', format: 'esm', outfile: join(dir, 'app.mjs'), logLevel: 'error' });
writeFileSync(join(dir, 'bare.mjs'), report);

const measure = (file: string): number => JSON.parse(execFileSync(process.execPath, [join(dir, file)], { encoding: 'utf8' }).trim().split('\n').pop()!).cpu;
const bare: number[] = [];
const first: number[] = [];
for (let r = 0; r < runs; r++) {
  bare.push(measure('bare.mjs'));
  first.push(measure('app.mjs'));
}
rmSync(dir, { recursive: true, force: true });
const median = (v: number[]): number => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;
console.log(`cold start, ${runs} alternating runs, load ${loadavg()[0]!.toFixed(1)}: bare node ${median(bare).toFixed(0)} ms cpu; first Grad-CAM map of the shapes model ${median(first).toFixed(0)} ms cpu; difference ${(median(first) - median(bare)).toFixed(0)} ms`);
