/**
 * One whole Score-CAM of ResNet-18 at layer4 (224x224, one image: 512 masked
 * images in 32 forward passes of 16), timed end to end, on this checkout's
 * WebAssembly kernels beside another checkout (e.g. main before issue 11),
 * each in a fresh process, in the same run.
 *
 *   git worktree add --detach /work/sc-base de076a5 && ln -s $PWD/node_modules /work/sc-base/
 *   npx tsx bench/score-cam.ts /work/sc-base [--with-js]
 *
 * Every system gets the same weights (filled from one seeded generator, not
 * the architecture's random init, which differs between checkouts) and the
 * same input, so the maps must agree: the largest difference between each
 * system's map and the first's is printed beside the times. --with-js adds
 * this checkout's pure-TS kernels. CPU time is the process's own (user +
 * system), wall time the call's.
 */
import { execFileSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SELF = fileURLToPath(import.meta.url);
const args = process.argv.slice(2);

interface Outcome {
  wall: number;
  cpu: number;
  map: number[];
}

/** A deterministic stream of numbers in [-1, 1) (an LCG: the same in every checkout). */
function uniform(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  };
}

async function child(root: string, backend: 'js' | 'wasm'): Promise<void> {
  const lib = (await import(`${root}/src/index.ts`)) as Record<string, any>;
  const { resnet18 } = (await import(`${root}/src/models/index.ts`)) as Record<string, any>;
  if (backend === 'wasm' && !(await lib.setBackend('wasm'))) throw new Error('no WebAssembly');
  const model = resnet18();
  const next = uniform(7);
  const weights: Record<string, unknown> = {};
  for (const [name, t] of Object.entries(model.stateDict() as Record<string, { shape: number[]; data: Float32Array }>)) {
    if (name.endsWith('num_batches_tracked')) continue;
    const data = new Float32Array(t.data.length);
    const fanIn = t.shape.length > 1 ? t.data.length / t.shape[0]! : 1;
    for (let i = 0; i < data.length; i++) {
      const u = next();
      if (name.endsWith('running_var')) data[i] = 1 + 0.2 * Math.abs(u);
      else if (name.endsWith('running_mean') || name.endsWith('bias')) data[i] = 0.1 * u;
      else if (t.shape.length === 1) data[i] = 1 + 0.1 * u; // BatchNorm's weight
      else data[i] = u * Math.sqrt(6 / fanIn); // He-uniform
    }
    weights[name] = new lib.Tensor(data, [...t.shape]);
  }
  model.loadStateDict(weights, { strict: false });
  model.eval();
  const inputNext = uniform(11);
  const x = new lib.Tensor(Float32Array.from({ length: 3 * 224 * 224 }, () => inputNext()), [1, 3, 224, 224]);
  const cpu0 = process.cpuUsage();
  const wall0 = performance.now();
  const result = lib.scoreCam(model, x, { layer: 'layer4', batchSize: 16 });
  const wall = performance.now() - wall0;
  const used = process.cpuUsage(cpu0);
  const out: Outcome = { wall, cpu: (used.user + used.system) / 1000, map: Array.from(result.maps.data as Float32Array) };
  console.log(JSON.stringify(out));
}

async function main(): Promise<void> {
  const others = args.filter((a) => !a.startsWith('--')).map((r) => resolve(r));
  const systems: { label: string; root: string; backend: 'js' | 'wasm' }[] = [
    ...others.map((root) => ({ label: `${root} (pure TS)`, root, backend: 'js' as const })),
    { label: 'this checkout, WebAssembly', root: HERE, backend: 'wasm' },
    ...(args.includes('--with-js') ? [{ label: 'this checkout, pure TS', root: HERE, backend: 'js' as const }] : []),
  ];
  console.log(`- date: ${new Date().toISOString()}; node ${process.version}; ${cpus()[0]?.model} (${cpus().length} logical cores)`);
  const rows: string[] = [];
  let first: Outcome | undefined;
  let before: Outcome | undefined;
  for (const s of systems) {
    const load = loadavg()[0]!.toFixed(1);
    const out = execFileSync(process.execPath, ['--import', 'tsx', SELF, '--child', s.root, s.backend], { encoding: 'utf8', maxBuffer: 64 << 20 });
    const outcome = JSON.parse(out.trim().split('\n').pop()!) as Outcome;
    first ??= outcome;
    if (s.root !== HERE) before ??= outcome;
    let diff = 0;
    for (let i = 0; i < outcome.map.length; i++) diff = Math.max(diff, Math.abs(outcome.map[i]! - first.map[i]!));
    const speedUp = before && s.root === HERE ? `${(before.cpu / outcome.cpu).toFixed(1)}x` : '';
    rows.push(`| ${s.label} | ${(outcome.wall / 1000).toFixed(1)} / ${(outcome.cpu / 1000).toFixed(1)} | ${speedUp} | ${diff.toExponential(1)} | ${load} |`);
    console.error(`${s.label}: ${(outcome.cpu / 1000).toFixed(1)} s cpu`);
  }
  console.log('\n| system | Score-CAM at layer4, s (wall / cpu) | speed-up (cpu) over the first | max map difference from the first | load at start |');
  console.log('|---|---|---|---|---|');
  for (const r of rows) console.log(r);
}

if (args[0] === '--child') await child(args[1]!, args[2] as 'js' | 'wasm');
else await main();
