/**
 * Cold start: CPU time from process start to the first Grad-CAM map of the
 * shapes model (examples/shapes: its committed weights, loaded by
 * loadShapesNet as the demo loads them, and one generated scene), beside a
 * bare `node -e 0`-like process, in the same run. The scene is drawn once
 * by this script and read by each app as raw float32 (an app would decode a
 * photo; drawing it is the example's code, which shares the library's random
 * generator and so moves V8's compile work between the phases); with
 * --draw-scene each app draws it itself, as before 2026-12-02. The app
 * is bundled by esbuild from the package's sources the way a consumer's
 * bundler would (ESM, no minification), then run with plain node, so tsx's
 * own start-up is not counted.
 *   npx tsx bench/cold-start.ts [runs=7] [--wasm] [--auto] [--keep] [other checkout...]
 * Other checkouts (e.g. a `git worktree add --detach` of an older commit,
 * with a node_modules beside its sources) are bundled with the same app and
 * run in the same rounds, alternating with this one and bare node, so that
 * their figures share the machine's load. --wasm adds this checkout's app
 * with `await setBackend('wasm')` first. --auto adds it with `setBackend('auto')`
 * first, not awaited, and its weights read by an awaited readFile (as an app
 * that fetches them), so the WebAssembly kernels compile while it waits; the
 * table says which backend its first map ran on. TINYCAM_ROOT replaces this
 * checkout.
 * Each app also reports where its CPU went: process start to its first line
 * (node, parsing the bundle, the modules' top-level code), building the model
 * and loading its weights, drawing the scene (the example's own code), and
 * the first Grad-CAM call. The scene is the example's code, not the library's
 * (an app would decode a photo instead), so the last column leaves it out.
 * --keep leaves the bundled apps in their temporary folder (printed), e.g. to
 * profile one: `node --cpu-prof <folder>/app0.mjs`.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { scenesToTensor } from '../examples/shapes/data.js';
import { generateScene } from '../examples/shapes/generate.js';

const HERE = process.env.TINYCAM_ROOT ?? resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const runs = Number(args.find((a) => /^\d+$/.test(a)) ?? 7);
const keep = args.includes('--keep');
const drawScene = args.includes('--draw-scene');
const others = args.filter((a) => !/^\d+$/.test(a) && !a.startsWith('--')).map((r) => resolve(r));
type Backend = 'default' | 'wasm' | 'auto';
const apps: { label: string; root: string; backend: Backend }[] = [
  { label: 'this checkout', root: HERE, backend: 'default' },
  ...(args.includes('--wasm') ? [{ label: "this checkout, await setBackend('wasm')", root: HERE, backend: 'wasm' as const }] : []),
  ...(args.includes('--auto') ? [{ label: "this checkout, setBackend('auto')", root: HERE, backend: 'auto' as const }] : []),
  ...others.map((root) => ({ label: root, root, backend: 'default' as const })),
];
const dir = mkdtempSync(join(tmpdir(), 'tinycam-cold-'));
const sceneFile = join(dir, 'scene.f32');
const sceneTensor = scenesToTensor([generateScene(2000000000)]);
writeFileSync(sceneFile, new Uint8Array(sceneTensor.data.buffer, sceneTensor.data.byteOffset, sceneTensor.data.byteLength));
const cpu = 'const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };';

const app = ({ root, backend }: { root: string; backend: Backend }) => `
${cpu}
const start = cpu();
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { gradCam${backend === 'default' ? '' : ', setBackend, getBackend'} } from '${root}/src/index.ts';
import { CAM_LAYER } from '${root}/examples/shapes/model.ts';
import { loadShapesNet } from '${root}/examples/shapes/weights.ts';
${drawScene ? `import { generateScene } from '${root}/examples/shapes/generate.ts';
import { scenesToTensor } from '${root}/examples/shapes/data.ts';` : `import { Tensor } from '${root}/src/index.ts';`}
${backend === 'wasm' ? "if (!(await setBackend('wasm'))) throw new Error('no WebAssembly');" : ''}
${backend === 'auto' ? "setBackend('auto');" : ''}
const c0 = cpu();
const weights = ${backend === 'auto' ? 'await readFile' : 'readFileSync'}('${root}/examples/shapes/shapes-cnn.safetensors');
const { model } = loadShapesNet(new Uint8Array(weights));
const c1 = cpu();
const scene = ${drawScene ? 'scenesToTensor([generateScene(2000000000)])' : `new Tensor(new Float32Array(new Uint8Array(readFileSync('${sceneFile}')).buffer), ${JSON.stringify(sceneTensor.shape)})`};
const c2 = cpu();
const ranOn = ${backend === 'default' ? "'default'" : 'getBackend()'};
const { maps } = gradCam(model, scene, { layer: CAM_LAYER });
if (!(maps.data.length > 0)) throw new Error('no map');
const c3 = cpu();
console.log(JSON.stringify({ cpu: c3, start: start, backend: c0 - start, model: c1 - c0, scene: c2 - c1, map: c3 - c2, ranOn }));`;
for (const [i, a] of apps.entries()) {
  await esbuild.build({ stdin: { contents: app(a), resolveDir: a.root, loader: 'ts' }, bundle: true, platform: 'node', format: 'esm', outfile: join(dir, `app${i}.mjs`), logLevel: 'error' });
}
writeFileSync(join(dir, 'bare.mjs'), `${cpu} console.log(JSON.stringify({ cpu: cpu() }));`);

/** One app's CPU ms, in all and by phase, and the backend its first map ran on. */
interface AppRun { cpu: number; start: number; backend: number; model: number; scene: number; map: number; ranOn: string }
type Run = { cpu: number };
const measure = <T = Run>(file: string): T => JSON.parse(execFileSync(process.execPath, [join(dir, file)], { encoding: 'utf8' }).trim().split('\n').pop()!);
const bare: Run[] = [];
const first: AppRun[][] = apps.map(() => []);
const loads: number[] = [];
for (let r = 0; r < runs; r++) {
  loads.push(loadavg()[0]!);
  bare.push(measure('bare.mjs'));
  // Rotate the apps' order each round, so none always runs right after bare node.
  for (let k = 0; k < apps.length; k++) {
    const i = (r + k) % apps.length;
    first[i]!.push(measure<AppRun>(`app${i}.mjs`));
  }
}
if (keep) console.log(`bundled apps kept in ${dir}`);
else rmSync(dir, { recursive: true, force: true });
const median = (v: number[]): number => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;
const ms = (v: number) => v.toFixed(0);
const bareCpu = median(bare.map((b) => b.cpu));
console.log(`cold start, ${runs} alternating rounds, 1-min load ${Math.min(...loads).toFixed(1)}-${Math.max(...loads).toFixed(1)}; CPU ms (user + system), medians; bare node ${ms(bareCpu)}`);
console.log('| app | first map | over bare node | to the first line | backend | model + weights | scene | first gradCam | first gradCam ran on | over bare node, less the scene |');
console.log('|---|---|---|---|---|---|---|---|---|---|');
for (const [i, a] of apps.entries()) {
  const col = (k: 'start' | 'backend' | 'model' | 'scene' | 'map') => ms(median(first[i]!.map((x) => x[k])));
  const total = median(first[i]!.map((x) => x.cpu));
  const ranOn = [...new Set(first[i]!.map((x) => x.ranOn))].map((b) => `${b} x${first[i]!.filter((x) => x.ranOn === b).length}`).join(', ');
  const lessScene = median(first[i]!.map((x) => x.cpu - x.scene)) - bareCpu;
  console.log(`| ${a.label} | ${ms(total)} | ${ms(total - bareCpu)} | ${col('start')} | ${col('backend')} | ${col('model')} | ${col('scene')} | ${col('map')} | ${ranOn} | ${ms(lessScene)} |`);
}
